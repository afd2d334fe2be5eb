"""Watching a tender live: a room per tender for its public state (deadline, activity)."""

from __future__ import annotations

from flask import session
from flask_login import current_user
from flask_socketio import join_room, leave_room

from accounts.service import active_organization
from core import clock
from core.extensions import db, socketio
from tenders.models import Tender


def tender_room(tender_id: int) -> str:
    """The room of everyone watching a tender."""
    return f"tender:{tender_id}"


def _tender(data) -> Tender | None:
    tender_id = data.get("tender_id") if isinstance(data, dict) else None
    if not isinstance(tender_id, int) or isinstance(tender_id, bool):
        return None
    tender = db.session.get(Tender, tender_id)
    if tender is None or tender.status == "draft":
        return None  # drafts are nobody's to watch
    return tender


@socketio.on("watch_tender")
def watch_tender(data):
    """Join a tender's room; the answer carries the current state, so a client that
    reconnects corrects itself (deadline and the server's time for clock skew)."""
    if not current_user.is_authenticated:
        return {"ok": False, "error": "Log in to watch tenders live."}
    tender = _tender(data)
    if tender is None:
        return {"ok": False, "error": "No such tender."}
    join_room(tender_room(tender.id))
    from bids.offers import live_room  # bids builds on tenders, not the other way round

    org, _ = active_organization(current_user, session.get("org_id"))
    offers_room = live_room(tender, org)
    if offers_room:
        join_room(offers_room)
    return {
        "ok": True,
        "tender_id": tender.id,
        "status": tender.status,
        "deadline": tender.bid_deadline.isoformat() if tender.bid_deadline else None,
        "extensions": tender.extensions_count,
        "server_time": clock.now().isoformat(),
        # Which offer pushes this watcher gets: "offers", "best" or none (DESIGN.md visibility).
        "offers_live": offers_room.rsplit(":", 1)[-1] if offers_room else None,
    }


@socketio.on("unwatch_tender")
def unwatch_tender(data):
    """Leave a tender's room."""
    tender = _tender(data)
    if tender is not None:
        leave_room(tender_room(tender.id))
    return {"ok": True}
