"""Offer pushes respect visibility: bidders who may see offers get each change (participant
number, prices, best prices); a watcher without a bid, or anyone on a sealed tender, gets
only the public events (deadline, participant count)."""

from __future__ import annotations

import queue
import time

import pytest
import socketio

from tests.e2e.bidding_helpers import bidder, submit_to_server, tender_in_window
from tests.e2e.test_live import _browser_login

pytestmark = pytest.mark.live


def _watch(base: str, email: str, tender_id: int, events: list[str]):
    http = _browser_login(base, email)
    received: queue.Queue = queue.Queue()
    sio = socketio.Client(reconnection=False)
    for name in events:
        sio.on(name, lambda data, name=name: received.put((name, data)))
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    sio.connect(
        base,
        headers={"Cookie": cookie, "User-Agent": http.headers["User-Agent"]},
        transports=["websocket"],
        wait_timeout=10,
    )
    state = sio.call("watch_tender", {"tender_id": tender_id}, timeout=10)
    assert state["ok"]
    return sio, received, state, http


def _until(received: queue.Queue, name: str, match=lambda data: True, timeout: float = 10):
    """Every event received up to and including the first `name` event that matches, as
    (name, data) pairs; fails if none comes within `timeout` seconds in all."""
    give_up = time.monotonic() + timeout
    seen = []
    while True:
        try:
            seen.append(received.get(timeout=max(give_up - time.monotonic(), 0)))
        except queue.Empty:
            raise AssertionError(f"no {name} event; got {seen}") from None
        if seen[-1][0] == name and match(seen[-1][1]):
            return seen


def _next(received: queue.Queue, name: str, timeout: float = 10):
    """The data of the next `name` event (others before it are dropped)."""
    return _until(received, name, timeout=timeout)[-1][1]


def _participants(count: int):
    return lambda data: data["participants"] == count


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_offer_changes_reach_only_those_who_may_see_them(app, server):
    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=120)
    a, b, c, d = (bidder(app, client) for _ in range(4))
    assert submit_to_server(base, a, tender["id"], {"1": "100.00"}).status_code == 201

    names = ["offers_changed", "best_prices", "bid_activity", "deadline_extended"]
    a_sio, a_events, a_state, a_http = _watch(base, a.who.email, tender["id"], names)
    c_sio, c_events, c_state, _ = _watch(base, c.who.email, tender["id"], names)
    try:
        assert a_state["offers_live"] == "offers"  # A has a bid: it sees offers
        assert c_state["offers_live"] is None  # C has none: only the number of bids
        assert submit_to_server(base, b, tender["id"], {"1": "95.50"}).status_code == 201
        change = _next(a_events, "offers_changed")
        assert change["participant"] == 2 and change["participants"] == 2
        assert change["prices"] == {"1": "95.50"} and change["best"] == {"1": "95.50"}
        # Everything C receives is kept (not skipped while waiting), to check for leaks.
        c_seen = _until(c_events, "bid_activity", _participants(2))
        # A's page fetches the offers section as the server renders it for A.
        # (in Russian, as A's browser asks: the money in Russian formats)
        fragment = a_http.get(
            f"{base}/tenders/{tender['number']}/offers", headers={"Accept-Language": "ru"}
        )
        assert fragment.status_code == 200 and "95,50" in fragment.text.replace("\xa0", " ")
        # B withdraws: A is told the position lost that offer.
        resp = b_withdraw(base, b, tender["id"])
        assert resp.status_code == 200, resp.text
        change = _next(a_events, "offers_changed")
        assert change["prices"] == {"1": None} and change["best"] == {"1": "100.00"}
        # D bids after that: the pushes of one web process go out through one Redis channel
        # in the order they were published, so once C has D's bid_activity, anything the
        # withdrawal pushed to C has arrived too.
        c_seen += _until(c_events, "bid_activity", _participants(1))  # the withdrawal
        assert submit_to_server(base, d, tender["id"], {"1": "99.00"}).status_code == 201
        c_seen += _until(c_events, "bid_activity", _participants(2))  # D's bid
        # C never got any offer content: only the number of bids, at each change.
        assert [name for name, _ in c_seen] == ["bid_activity"] * 3
    finally:
        a_sio.disconnect()
        c_sio.disconnect()


def b_withdraw(base, b, tender_id):
    import requests

    return requests.post(f"{base}/api/v1/tenders/{tender_id}/bid/withdraw", headers=b.headers)


def _second_bid_watched(app, base, visibility: str):
    """A tender with the given visibility, A's bid in, A watching the notice, then B's bid
    (and C's, to know B's pushes are all in): (what A's room is, the events A received for
    B's bid)."""
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=120, visibility=visibility)
    a, b, c = (bidder(app, client) for _ in range(3))
    assert submit_to_server(base, a, tender["id"], {"1": "100.00"}).status_code == 201
    names = ["offers_changed", "best_prices", "bid_activity"]
    sio, events, state, _ = _watch(base, a.who.email, tender["id"], names)
    try:
        room = state["offers_live"]
        assert submit_to_server(base, b, tender["id"], {"1": "90.00"}).status_code == 201
        # C bids after B: the pushes of one web process go out through one Redis channel in
        # the order they were published, so once A has C's bid_activity (3 participants),
        # everything B's bid pushed to A has arrived; those are the events of 2 participants.
        assert submit_to_server(base, c, tender["id"], {"1": "95.00"}).status_code == 201
        received = _until(events, "bid_activity", _participants(3))
        seen = [(name, data) for name, data in received if data["participants"] == 2]
        assert dict(seen)["bid_activity"]["participants"] == 2
        return room, seen
    finally:
        sio.disconnect()


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_sealed_tender_pushes_no_offer_content(app, server):
    room, seen = _second_bid_watched(app, server[0], "sealed")
    assert room is None
    assert [name for name, _ in seen] == ["bid_activity"]


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_rank_only_pushes_the_best_prices_and_nothing_of_the_offers(app, server):
    room, seen = _second_bid_watched(app, server[0], "rank_only")
    assert room == "best"
    assert sorted(name for name, _ in seen) == ["best_prices", "bid_activity"]
    best = dict(seen)["best_prices"]
    assert best["best"] == {"1": "90.00"} and best["participants"] == 2
    assert "prices" not in best and "participant" not in best
