"""Watching a tender live: a room per tender for its public state (deadline, status,
activity), open to anonymous visitors; the offers rooms only for those who may see them."""

from __future__ import annotations

from blinker import Namespace
from flask_socketio import join_room, leave_room, rooms

from accounts.sockets import viewer  # the connection's identity
from core import clock
from core.extensions import db, socketio
from core.live import viewers_room
from tenders.models import Tender
from tenders.sight import sees_tender

# Sent when someone starts watching a tender, with the tender, org=the viewer's
# organization and user=the viewer: each receiver answers an offers room to join, or None
# (bids decides who may hear offers, by the organization's bid and the member's roles;
# tenders does not import bids).
watching = Namespace().signal("tender-watching")


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


def _leave_tender_rooms(tender_id: int) -> None:
    prefix = f"{tender_room(tender_id)}:"
    for room in rooms():
        if room == tender_room(tender_id) or room.startswith(prefix):
            leave_room(room)


@socketio.on("watch_tender")
def watch_tender(data):
    """Join a tender's rooms as decided now (again after a visibility change); the answer
    carries the current state, so a client that reconnects corrects itself (deadline,
    status and the server's time for clock skew)."""
    tender = _tender(data)
    if tender is None:
        return {"ok": False, "error": "No such tender."}
    _leave_tender_rooms(tender.id)  # what this connection may hear is decided afresh
    join_room(tender_room(tender.id))
    user, org = viewer()
    if org is not None and org.id == tender.customer_id and not sees_tender(user, org, tender):
        org = None  # a member who does not see this tender of its organization: the public view
    offers_room = None
    if org is not None:  # anonymous visitors: the public room only
        join_room(viewers_room(tender.id, org.id))
        answers = watching.send(tender, org=org, user=user)
        offers_room = next((room for _, room in answers if room), None)
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
    """Leave a tender's rooms."""
    tender = _tender(data)
    if tender is not None:
        _leave_tender_rooms(tender.id)
    return {"ok": True}
