"""The customer's review after the close: who may review, in which state, shared checks."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _

from accounts.models import Organization, User
from core.chains import tender_chain
from core.errors import Conflict, NotFound
from core.extensions import db
from core.i18n import label
from results.models import ResultSet
from tenders.models import Lot, Tender
from tenders.service import own_tender


def chain(tender: Tender) -> str:
    """The tender's audit chain."""
    return tender_chain(tender.id)


def own(user: User, org: Organization | None, tender_id: int, for_update: bool) -> Tender:
    """The tender if it is this user's organization's own."""
    return own_tender(user, org, tender_id, for_update=for_update)


def require_closed(tender: Tender, action: str) -> None:
    """Refuse (409) unless the tender is closed and its results not yet published; `action`
    is "disqualify" or "change" (a disqualification)."""
    number, status = tender.number, label("tender_status", tender.status)
    if tender.status == "results_published":
        if action == "disqualify":
            message = _(
                "The results of %(number)s are published and final: nobody can be disqualified "
                "any more (correct the results instead).",
                number=number,
            )
        else:
            message = _(
                "The results of %(number)s are published and final: disqualifications cannot "
                "be changed any more (correct the results instead).",
                number=number,
            )
        raise Conflict(message)
    if tender.status != "closed":
        raise Conflict(
            _(
                "Tender %(number)s is %(status)s: disqualifications are decided after the close.",
                number=number,
                status=status,
            )
        )


def as_of(tender: Tender) -> dt.datetime | None:
    """When the stored results were computed."""
    result_set = db.session.get(ResultSet, tender.id)
    return result_set.evaluated_at if result_set else None


def require_reviewer(user: User, org: Organization | None, tender_id: int) -> Tender:
    """The tender's own customer, after the close (review pages and API)."""
    tender = own(user, org, tender_id, for_update=False)
    if tender.status not in ("closed", "results_published", "unsuccessful"):
        raise Conflict(
            _(
                "Tender %(number)s is %(status)s: offers are reviewed after the close.",
                number=tender.number,
                status=label("tender_status", tender.status),
            )
        )
    return tender


def lot_by_number(tender: Tender, number: int) -> Lot:
    """A lot of the tender by its number, or NotFound."""
    lot = next((x for x in tender.lots if x.number == number), None)
    if lot is None:
        raise NotFound(_("No lot %(lot)s.", lot=number))
    return lot
