"""Re-bidding notifications: the members of each invited organization get an inbox item,
an instant mail in their language (templates/mail/rebidding_invitation.*) and a live notice
on any open page; when a round ends, its invitees hear so (inbox and mail); an extension of
a round reaches their inboxes only (the notice's countdown follows it live)."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from bids.models import Bid
from core import live
from core.events import DomainEvent
from core.extensions import db
from core.transaction import after_commit
from notifications import delivery
from results.rebidding.models import RebiddingInvitation, RebiddingRound
from tenders.models import Tender

delivery.HEADLINES.update(
    {
        "rebidding.announced": _l("You are invited to a re-bidding round"),
        "rebidding.extended": _l("Re-bidding round extended"),
        "rebidding.closed": _l("Re-bidding round ended"),
    }
)
delivery.SUBJECTS.update(
    {
        "rebidding.announced": _l("Tender %(number)s: you are invited to a re-bidding round"),
        "rebidding.closed": _l("Tender %(number)s: the re-bidding round ended"),
    }
)
delivery.ANCHORS.update({k: "rebidding" for k in ("rebidding.announced", "rebidding.closed")})


def _members(tender_id: int, org_ids) -> dict[int, str]:
    """The invitees' members who see their bid (a specialist: only the one in its charge)."""
    return dict.fromkeys(delivery.bid_members(tender_id, org_ids), "bidder")


def _invited_orgs(tender_id: int, number: int) -> set[int]:
    return set(
        db.session.execute(
            select(Bid.organization_id)
            .join(RebiddingInvitation, RebiddingInvitation.bid_id == Bid.id)
            .join(RebiddingRound, RebiddingRound.id == RebiddingInvitation.round_id)
            .where(RebiddingRound.tender_id == tender_id, RebiddingRound.number == number)
        ).scalars()
    )


def _mail_context(tender: Tender, payload: dict, people) -> dict[int, dict]:
    deadline = dt.datetime.fromisoformat(payload["deadline"])
    return {uid: {"deadline_at": deadline, "zone": tender.timezone} for uid in people}


def _announced(event: DomainEvent, tender: Tender) -> None:
    """Every member of an invited organization: inbox, mail and a live notice."""
    payload = dict(event.payload)
    people = _members(tender.id, payload.get("organizations", []))
    notified = delivery.notify_users(
        people,
        event.kind,
        tender,
        f"event:{event.id}",
        payload,
        template="rebidding_invitation",
        extra=_mail_context(tender, payload, people),
    )
    notice = {
        "tender_id": tender.id,
        "number": tender.number,
        "round": payload["round"],
        "deadline": payload["deadline"],
        "url": delivery.tender_link(tender, event.kind),
    }
    for uid in notified:
        after_commit(live.emit_now, "rebidding_invited", notice, live.user_room(uid))


def _closed(event: DomainEvent, tender: Tender) -> None:
    people = _members(tender.id, _invited_orgs(tender.id, event.payload["round"]))
    payload = dict(event.payload)
    delivery.notify_users(
        people,
        event.kind,
        tender,
        f"event:{event.id}",
        payload,
        template="rebidding_invitation",
        extra=_mail_context(tender, payload, people),
    )


def _extended(event: DomainEvent, tender: Tender) -> None:
    people = _members(tender.id, _invited_orgs(tender.id, event.payload["round"]))
    key, payload = f"event:{event.id}", dict(event.payload)
    delivery.notify_users(people, event.kind, tender, key, payload, mail=False)


delivery.HANDLERS.update(
    {
        "rebidding.announced": _announced,
        "rebidding.extended": _extended,
        "rebidding.closed": _closed,
    }
)
