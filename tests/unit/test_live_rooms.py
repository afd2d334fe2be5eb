"""Which rooms a visibility change takes a connection out of (core/live.py)."""

from __future__ import annotations

import socketio

from core.live import VISIBILITY_EVENT, LocalManager, rooms_to_leave

ROOMS = [
    "sid-1",
    "user:5",
    "tender:7",
    "tender:7:org:3",
    "tender:7:offers",
    "tender:70:offers",
    "tender:8:best",
    "tender:8:org:3",
]


def test_a_tender_change_leaves_that_tenders_offer_rooms_only():
    assert rooms_to_leave(ROOMS, 7) == ["tender:7:offers"]
    assert rooms_to_leave(ROOMS, 8) == ["tender:8:best"]
    assert rooms_to_leave(ROOMS, 9) == []


def test_a_change_of_every_tender_leaves_every_offer_and_organization_room():
    assert rooms_to_leave(ROOMS, None) == [
        "tender:7:org:3",
        "tender:7:offers",
        "tender:70:offers",
        "tender:8:best",
        "tender:8:org:3",
    ]
    assert rooms_to_leave(None, None) == [] and rooms_to_leave([None, 5], None) == []


def test_the_manager_takes_the_addressed_connections_out_before_delivering():
    manager = LocalManager()
    socketio.Server(client_manager=manager, async_mode="threading")
    sids = {}
    for name, org_room in (("withdrawn", "tender:7:org:3"), ("other", "tender:7:org:4")):
        sid = manager.connect(f"eio-{name}", "/")
        for room in ("tender:7", org_room, "tender:7:offers"):
            manager.enter_room(sid, "/", room)
        sids[name] = sid
    manager._follow_visibility(VISIBILITY_EVENT, {"tender_id": 7}, "/", "tender:7:org:3")
    assert "tender:7:offers" not in manager.get_rooms(sids["withdrawn"], "/")
    assert "tender:7" in manager.get_rooms(sids["withdrawn"], "/")
    assert "tender:7:offers" in manager.get_rooms(sids["other"], "/")
    # any other event leaves the rooms alone
    manager._follow_visibility("offers_changed", {"tender_id": 7}, "/", "tender:7:org:4")
    assert "tender:7:offers" in manager.get_rooms(sids["other"], "/")
