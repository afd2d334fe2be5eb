"""Disqualifying a participant (whole tender or one lot) with a reason, and lifting it; the
awards it touches are recomputed at once. Services flush; the entrypoint commits once."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from accounts.models import Organization, User
from audit.service import record
from bids.models import Bid
from core import clock
from core.errors import Conflict, Invalid, NotFound
from core.events import record_event
from core.extensions import db
from results.evaluation import active_disqualifications, bid_lot_ids, recompute, scope_of
from results.models import Disqualification
from results.review import chain, own, require_closed
from tenders.models import Lot, Tender

REASON_MAX = 2000


def _bid_by_participant(tender: Tender, participant: int) -> Bid:
    bid = db.session.execute(
        select(Bid).where(Bid.tender_id == tender.id, Bid.participant_number == participant)
    ).scalar_one_or_none()
    if bid is None or bid.status != "active" or bid.revision_count == 0:
        raise Invalid(
            _(
                "Participant %(p)s has no standing bid on %(number)s.",
                p=participant,
                number=tender.number,
            ),
            {"participant": [_("No standing bid of participant %(p)s.", p=participant)]},
        )
    return bid


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give the reason."), {"reason": [_("A reason is required.")]})
    if len(reason) > REASON_MAX:
        at_most = ngettext("At most %(num)d character.", "At most %(num)d characters.", REASON_MAX)
        raise Invalid(_("The reason is too long."), {"reason": [at_most]})
    return reason


def disqualify(
    user: User,
    org: Organization | None,
    tender_id: int,
    participant: int,
    lot_number: int | None,
    reason: str,
) -> Disqualification:
    """Disqualify a bid for the whole tender (lot None) or one lot; the ranking recomputes."""
    tender = own(user, org, tender_id, for_update=True)
    require_closed(tender, "disqualify")
    reason = _clean_reason(reason)
    bid = _bid_by_participant(tender, participant)
    lot = None
    if lot_number is not None:
        lot = next((x for x in tender.lots if x.number == lot_number), None)
        if lot is None:
            raise Invalid(
                _("No lot %(lot)s.", lot=lot_number),
                {
                    "lot": [
                        _("%(number)s has no lot %(lot)s.", number=tender.number, lot=lot_number)
                    ]
                },
            )
    current = [d for d in active_disqualifications(tender) if d.bid_id == bid.id]
    if any(d.lot_id is None for d in current):
        raise Conflict(
            _("Participant %(p)s is already disqualified for the whole tender.", p=participant)
        )
    if lot is not None and any(d.lot_id == lot.id for d in current):
        raise Conflict(
            _(
                "Participant %(p)s is already disqualified for lot %(lot)s.",
                p=participant,
                lot=lot.number,
            )
        )
    bid_lots = bid_lot_ids(bid)
    if lot is not None and lot.id not in bid_lots:
        raise Invalid(
            _("Participant %(p)s did not bid on lot %(lot)s.", p=participant, lot=lot.number),
            {
                "lot": [
                    _(
                        "No offer of participant %(p)s in lot %(lot)s.",
                        p=participant,
                        lot=lot.number,
                    )
                ]
            },
        )
    d, payload = add_disqualification(tender, user, bid, lot, reason)
    record_event("bid.disqualified", tender.id, {"number": tender.number, **payload})
    recompute(tender, scope_of(tender, bid, lot.id if lot else None))
    return d


def add_disqualification(
    tender: Tender, user: User, bid: Bid, lot: Lot | None, reason: str, **audit_extra
) -> tuple[Disqualification, dict]:
    """Store a checked disqualification and audit it; returns it with the audit payload."""
    d = Disqualification(
        tender_id=tender.id,
        bid_id=bid.id,
        lot_id=lot.id if lot else None,
        reason=reason,
        created_by_id=user.id,
        created_at=clock.now(),
    )
    db.session.add(d)
    db.session.flush()
    payload = {
        "disqualification": d.id,
        "participant": bid.participant_number,
        "bid_id": bid.id,
        "organization_id": bid.organization_id,
        "lot": lot.number if lot else None,
        "reason": reason,
        **audit_extra,
    }
    record(
        "bid.disqualified",
        "bid",
        bid.id,
        payload,
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=chain(tender),
    )
    return d, payload


def lift(
    user: User, org: Organization | None, tender_id: int, disqualification_id: int, reason: str
) -> Disqualification:
    """Lift a disqualification before publication (kept, with who lifted it and why)."""
    tender = own(user, org, tender_id, for_update=True)
    require_closed(tender, "change")
    reason = _clean_reason(reason)
    d = db.session.get(Disqualification, disqualification_id)
    if d is None or d.tender_id != tender.id:
        raise NotFound(_("No such disqualification."))
    if d.lifted_at is not None:
        raise Conflict(_("This disqualification was already lifted."))
    bid = db.session.get(Bid, d.bid_id)
    reinstate(tender, user, d, bid, reason)
    recompute(tender, scope_of(tender, bid, d.lot_id))
    return d


def reinstate(
    tender: Tender, user: User, d: Disqualification, bid: Bid, reason: str, **audit_extra
) -> None:
    """Lift a checked disqualification (kept, with who lifted it and why) and audit it."""
    d.lifted_at, d.lifted_by_id, d.lift_reason = clock.now(), user.id, reason
    record(
        "bid.reinstated",
        "bid",
        bid.id,
        {
            "disqualification": d.id,
            "participant": bid.participant_number,
            "reason": reason,
            **audit_extra,
        },
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=chain(tender),
    )
    db.session.flush()
