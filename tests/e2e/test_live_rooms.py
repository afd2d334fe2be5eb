"""Who hears what, live: anonymous visitors hear a tender's public room only, an API token
connects as its user and organization, and the offers rooms follow every change of what a
viewer may see, across two web processes on Redis."""

from __future__ import annotations

import queue
import re

import pytest
import requests
import socketio

from tests.e2e.api_helpers import caller
from tests.e2e.bidding_helpers import bidder, submit_to_server, tender_in_window
from tests.e2e.test_live import _browser_login
from tests.factories import make_user

pytestmark = pytest.mark.live

NAMES = [
    "offers_changed",
    "best_prices",
    "bid_activity",
    "deadline_extended",
    "visibility_changed",
    "resync",
]


def _client(received: queue.Queue) -> socketio.Client:
    sio = socketio.Client(reconnection=False)
    for name in NAMES:
        sio.on(name, lambda data, name=name: received.put((name, data)))
    return sio


def _session_socket(base: str, email: str) -> tuple[socketio.Client, queue.Queue]:
    http = _browser_login(base, email)
    received: queue.Queue = queue.Queue()
    sio = _client(received)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    headers = {"Cookie": cookie, "User-Agent": http.headers["User-Agent"]}
    sio.connect(base, headers=headers, transports=["websocket"], wait_timeout=10)
    return sio, received


def _socket(base: str, **connect) -> tuple[socketio.Client, queue.Queue]:
    received: queue.Queue = queue.Queue()
    sio = _client(received)
    sio.connect(base, transports=["websocket"], wait_timeout=10, **connect)
    return sio, received


def _until(received: queue.Queue, name: str, timeout: float = 10, **match) -> tuple[list, dict]:
    """Everything received up to the first `name` event whose data has `match`; and it."""
    seen = []
    while True:
        got, data = received.get(timeout=timeout)
        seen.append((got, data))
        if got == name and all(data.get(k) == v for k, v in match.items()):
            return seen, data


def _withdraw(base: str, b, tender_id: int):
    return requests.post(f"{base}/api/v1/tenders/{tender_id}/bid/withdraw", headers=b.headers)


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_anonymous_visitor_hears_the_public_room_only(app, server):
    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client)
    a, b = bidder(app, client), bidder(app, client)

    anonymous, heard = _socket(base)  # no session, no token: accepted
    try:
        state = anonymous.call("watch_tender", {"tender_id": tender["id"]}, timeout=10)
        assert state["ok"] and state["status"] == "published" and state["extensions"] == 0
        assert state["offers_live"] is None
        # A's first bid, in the last 30 minutes: the anonymous visitor sees the deadline move.
        assert submit_to_server(base, a, tender["id"], {"1": "100.00"}).status_code == 201
        seen, extended = _until(heard, "deadline_extended")
        assert extended["extensions"] == 1 and extended["deadline"] != tender["bid_deadline"]
        bidder_a, a_heard = _session_socket(base, a.who.email)
        try:
            state = bidder_a.call("watch_tender", {"tender_id": tender["id"]})
            assert state["offers_live"] == "offers"
            assert submit_to_server(base, b, tender["id"], {"1": "90.00"}).status_code == 201
            _until(a_heard, "offers_changed", participant=2)  # the offers were pushed
        finally:
            bidder_a.disconnect()
        # pushed after the offers by the same process
        seen += _until(heard, "bid_activity", participants=2)[0]
        names = [name for name, _ in seen]
        assert "offers_changed" not in names and "best_prices" not in names
    finally:
        anonymous.disconnect()


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_an_api_token_connects_as_its_user_and_organization(app, server):
    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=120)
    a, b = bidder(app, client), bidder(app, client)
    assert submit_to_server(base, a, tender["id"], {"1": "100.00"}).status_code == 201
    bearer = a.headers["Authorization"]

    with pytest.raises(socketio.exceptions.ConnectionError):
        _socket(base, auth={"token": "tnd_not-a-token"})
    with pytest.raises(socketio.exceptions.ConnectionError):
        _socket(base, headers={"Authorization": "Basic abc"})
    by_auth, heard = _socket(base, auth={"token": bearer.removeprefix("Bearer ")})
    by_header, _ = _socket(base, headers={"Authorization": bearer})
    try:
        for sio in (by_auth, by_header):
            state = sio.call("watch_tender", {"tender_id": tender["id"]}, timeout=10)
            assert state["ok"] and state["offers_live"] == "offers"  # A has a bid in
        assert submit_to_server(base, b, tender["id"], {"1": "95.00"}).status_code == 201
        _, first = _until(heard, "offers_changed", participant=2)
        assert submit_to_server(base, b, tender["id"], {"1": "94.00"}).status_code == 201
        _, second = _until(heard, "offers_changed", participant=2)
        assert second["prices"] == {"1": "94.00"}
        assert second["version"] > first["version"]  # the tender's order of changes

        # The token is revoked: the connection watches as nobody from then on.
        with app.app_context():
            from accounts.models import ApiToken
            from core import clock
            from core.extensions import db
            from core.transaction import commit

            token = db.session.execute(
                db.select(ApiToken).where(ApiToken.organization_id == a.who.org_id)
            ).scalar_one()
            token.revoked_at = clock.now()
            commit()
        state = by_auth.call("watch_tender", {"tender_id": tender["id"]}, timeout=10)
        assert state["ok"] and state["offers_live"] is None
    finally:
        by_auth.disconnect()
        by_header.disconnect()


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_a_withdrawn_supplier_hears_no_more_prices_across_two_processes(app, server, second_server):
    one, two = server[0], second_server  # two web processes on one Redis channel
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=120)
    a, b, c = bidder(app, client), bidder(app, client), bidder(app, client)
    assert submit_to_server(two, a, tender["id"], {"1": "100.00"}).status_code == 201
    assert submit_to_server(two, c, tender["id"], {"1": "99.00"}).status_code == 201

    a_sio, a_heard = _session_socket(one, a.who.email)  # A watches on process one
    c_sio, c_heard = _session_socket(one, c.who.email)
    try:
        for sio in (a_sio, c_sio):
            assert sio.call("watch_tender", {"tender_id": tender["id"]})["offers_live"] == "offers"
        # A withdraws through process two: A's socket on process one leaves the offers room.
        assert _withdraw(two, a, tender["id"]).status_code == 200
        # B bids through process two: C still hears the prices, A only the count.
        assert submit_to_server(two, b, tender["id"], {"1": "90.00"}).status_code == 201
        _until(c_heard, "offers_changed", participant=3)
        seen, _ = _until(a_heard, "bid_activity", participants=2)  # after B's offers push
        assert [name for name, data in seen if data.get("participant") == 3] == []
        assert ("visibility_changed", {"tender_id": tender["id"]}) in seen
        # Watching again, the server says what A may hear now.
        state = a_sio.call("watch_tender", {"tender_id": tender["id"]}, timeout=10)
        assert state["offers_live"] is None
    finally:
        a_sio.disconnect()
        c_sio.disconnect()


def _remove_member(base: str, admin_email: str, user_id: int) -> None:
    http = _browser_login(base, admin_email)
    page = http.get(base + "/members").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = http.post(
        f"{base}/members/{user_id}/remove", data={"csrf_token": token}, allow_redirects=False
    )
    assert resp.status_code == 302, resp.text


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_a_removed_member_hears_no_more_prices_across_two_processes(app, server, second_server):
    one, two = server[0], second_server
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=120)
    a, b, c = bidder(app, client), bidder(app, client), bidder(app, client)
    with app.test_request_context():
        from accounts.models import Organization
        from core.extensions import db
        from core.transaction import commit

        member = make_user(db.session.get(Organization, a.who.org_id), roles=["observer"])
        member_id, member_email = member.id, member.email
        commit()
    for x, price in ((a, "100.00"), (c, "99.00")):
        resp = submit_to_server(two, x, tender["id"], {"1": price})
        assert resp.status_code == 201, resp.text

    m_sio, m_heard = _session_socket(one, member_email)  # A's member watches on process one
    c_sio, c_heard = _session_socket(one, c.who.email)
    try:
        for sio in (m_sio, c_sio):
            assert sio.call("watch_tender", {"tender_id": tender["id"]})["offers_live"] == "offers"
        _remove_member(two, a.who.email, member_id)  # A's admin, through process two
        assert submit_to_server(two, b, tender["id"], {"1": "90.00"}).status_code == 201
        _until(c_heard, "offers_changed", participant=3)
        seen, _ = _until(m_heard, "bid_activity", participants=3)  # after B's offers push
        assert [name for name, _ in seen if name in ("offers_changed", "best_prices")] == []
        assert ("visibility_changed", {"tender_id": None}) in seen
        state = m_sio.call("watch_tender", {"tender_id": tender["id"]}, timeout=10)
        assert state["offers_live"] is None
    finally:
        m_sio.disconnect()
        c_sio.disconnect()


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_the_newest_offer_push_tells_the_state_in_force_across_two_processes(
    app, server, second_server, database_url
):
    """Concurrent revisions through two processes: the push with the highest version is the
    one that tells the best price in force (whatever order the pushes arrived in)."""
    from concurrent.futures import ThreadPoolExecutor

    if database_url.startswith("sqlite"):
        pytest.skip("two processes writing at once: SQLite answers 'database is locked'")
    one, two = server[0], second_server
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=120)
    watcher, bidders = bidder(app, client), [bidder(app, client) for _ in range(3)]
    assert submit_to_server(one, watcher, tender["id"], {"1": "500.00"}).status_code == 201
    sio, heard = _session_socket(one, watcher.who.email)
    try:
        assert sio.call("watch_tender", {"tender_id": tender["id"]})["offers_live"] == "offers"

        def revise(i: int) -> None:  # each bidder in turn through both processes
            for n in range(4):
                price = f"{400 - 10 * n - i:.2f}"
                base = (one, two)[(i + n) % 2]
                resp = submit_to_server(base, bidders[i], tender["id"], {"1": price})
                assert resp.status_code == 201, resp.text

        with ThreadPoolExecutor(3) as pool:
            list(pool.map(revise, range(3)))
        pushes = []
        while len(pushes) < 12:  # every revision changed a price: one push each
            pushes.append(_until(heard, "offers_changed")[1])
        versions = [p["version"] for p in pushes]
        assert len(set(versions)) == 12  # one place each in the tender's order
        newest = max(pushes, key=lambda p: p["version"])
        assert newest["best"] == {"1": "368.00"} and newest["participants"] == 4
    finally:
        sio.disconnect()


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_a_member_whose_roles_change_leaves_the_rooms_at_once(app, server):
    """Issue 20: rooms follow the roles. An observer of a bidder hears the offers; made a
    specialist not in charge of the bid, it is taken out of the rooms at once and watching
    again gets nothing; a customer's specialist not in charge of the tender hears nothing."""
    base, _ = server
    client = app.test_client()
    customer = caller(app)
    tender = tender_in_window(app, client, minutes=120, customer=customer)
    a, b = bidder(app, client), bidder(app, client)
    with app.test_request_context():
        from accounts.models import Organization
        from core.extensions import db
        from core.transaction import commit

        watcher = make_user(db.session.get(Organization, a.who.org_id), roles=["observer"])
        outsider = make_user(db.session.get(Organization, customer.org_id), roles=["specialist"])
        boss = make_user(db.session.get(Organization, customer.org_id), roles=["manager"])
        ids = (watcher.id, watcher.email, outsider.email, boss.email)
        commit()
    watcher_id, watcher_email, outsider_email, boss_email = ids
    assert submit_to_server(base, a, tender["id"], {"1": "100.00"}).status_code == 201

    m_sio, m_heard = _session_socket(base, watcher_email)
    o_sio, _ = _session_socket(base, outsider_email)
    c_sio, _ = _session_socket(base, boss_email)
    try:
        assert m_sio.call("watch_tender", {"tender_id": tender["id"]})["offers_live"] == "offers"
        assert c_sio.call("watch_tender", {"tender_id": tender["id"]})["offers_live"] == "offers"
        assert o_sio.call("watch_tender", {"tender_id": tender["id"]})["offers_live"] is None
        resp = requests.patch(
            f"{base}/api/v1/organizations/{a.who.org_id}/members/{watcher_id}",
            json={"roles": ["specialist"]},
            headers=a.headers,
        )
        assert resp.status_code == 200, resp.text
        _until(m_heard, "visibility_changed", tender_id=None)
        assert submit_to_server(base, b, tender["id"], {"1": "90.00"}).status_code == 201
        seen, _ = _until(m_heard, "bid_activity", participants=2)
        assert [name for name, _ in seen if name in ("offers_changed", "best_prices")] == []
        state = m_sio.call("watch_tender", {"tender_id": tender["id"]}, timeout=10)
        assert state["ok"] and state["offers_live"] is None
    finally:
        for sio in (m_sio, o_sio, c_sio):
            sio.disconnect()
