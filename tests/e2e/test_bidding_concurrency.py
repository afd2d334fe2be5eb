"""Many suppliers revise at once around the close: nothing is accepted at or after the final
deadline, the deadline is what the rule gives for the accepted revisions, and every revision
the API acknowledged is stored. Real concurrent transactions (no per-test transaction here)."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select, text

from audit.service import verify_all
from bids import accept_pg, rules
from bids.models import Bid, BidRevision
from bids.service import policy_of
from core import clock
from core.chains import tender_chain
from core.extensions import db
from tenders.models import Tender
from tests.e2e.api_helpers import published
from tests.e2e.bidding_helpers import (
    bidder,
    offer,
    submit,
    submit_to_server,
    tender_in_window,
)
from tests.factories import one_position_lots

BIDDERS = 8


def _together(calls: list[tuple], timeout: float) -> None:
    """Run each (function, *args) in a thread of its own, all let go at once by a barrier;
    fail if any still runs after `timeout` seconds in all (the safety net)."""
    start = threading.Barrier(len(calls))

    def run(fn, *args) -> None:
        start.wait(timeout=timeout)
        fn(*args)

    threads = [threading.Thread(target=run, args=call, daemon=True) for call in calls]
    for t in threads:
        t.start()
    give_up = time.monotonic() + timeout
    for t in threads:
        t.join(timeout=max(give_up - time.monotonic(), 0))
    assert not [t for t in threads if t.is_alive()], f"still running after {timeout} s"


def _hammer(app, b, tender_id: int, acknowledged: list, errors: list) -> None:
    client = app.test_client()
    price = Decimal("1000.00") - Decimal(b.key_id % 97)
    while True:
        resp = submit(client, b, tender_id, offer({"1": f"{price:.2f}"}))
        if resp.status_code == 201:
            acknowledged.append(resp.get_json()["payload_hash"])
            price -= Decimal("0.01")
        elif resp.status_code == 409:
            return  # bidding closed
        else:
            errors.append((resp.status_code, resp.get_json()))
            return


def _replay_holds(app, tender_id: int) -> list[BidRevision]:
    """Every accepted revision of the tender replays through the pure rule to the deadline
    stored, none at or after it, and the audit chains verify."""
    with app.app_context():
        tender = db.session.get(Tender, tender_id)
        revisions = (
            db.session.execute(
                select(BidRevision)
                .join(Bid)
                .where(Bid.tender_id == tender_id)
                .order_by(BidRevision.accepted_at, BidRevision.id)
            )
            .scalars()
            .all()
        )
        deadline, extensions = tender.original_deadline, 0
        policy = policy_of(tender)
        for r in revisions:
            decision = rules.decide(
                deadline,
                r.accepted_at,
                policy,
                triggering=r.triggering,
                extensions_so_far=extensions,
            )
            assert decision.accepted and decision.deadline == r.deadline_after
            assert r.accepted_at < tender.bid_deadline
            extensions += decision.extended
            deadline = decision.deadline
        assert deadline == tender.bid_deadline and extensions == tender.extensions_count
        assert verify_all()[1] == []
        db.session.remove()
        return revisions


def test_revisions_racing_the_close(app):
    client = app.test_client()
    now = clock.now()
    tender_id = published(  # closes in 3 s, and for good in 6 s
        app,
        deadline=now + dt.timedelta(seconds=3),
        latest_close=(now + dt.timedelta(seconds=6)).isoformat(),
        lots=one_position_lots(),
    )["id"]
    bidders = [bidder(app, client) for _ in range(BIDDERS)]
    acknowledged: list[str] = []
    errors: list = []
    _together([(_hammer, app, b, tender_id, acknowledged, errors) for b in bidders], 60)
    assert errors == []
    revisions = _replay_holds(app, tender_id)
    stored = {r.payload_hash for r in revisions}
    assert set(acknowledged) <= stored and len(acknowledged) == len(stored)
    assert len(revisions) > BIDDERS  # they did race
    assert sum(r.extended for r in revisions) == 1  # from the deadline: once, then out of it


def _postgresql(app) -> None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the lock of the one-call path is PostgreSQL's")


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_changes_that_all_move_the_deadline_race_through_a_green_web_process(app, server):
    """from_change in the window: every change moves the deadline, so each is decided under
    the tender lock, which a green web process holds without yielding (without_yielding)."""
    _postgresql(app)
    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=10, extension_mode="from_change")
    bidders = [bidder(app, client) for _ in range(6)]
    acknowledged: list[str] = []
    errors: list = []

    def revise(b, start: int) -> None:
        for step in range(8):
            resp = submit_to_server(base, b, tender["id"], {"1": f"{start - step}.00"})
            if resp.status_code != 201:
                errors.append((resp.status_code, resp.text))
                return
            acknowledged.append(resp.json()["payload_hash"])

    _together([(revise, b, 1000 + 10 * i) for i, b in enumerate(bidders)], 120)
    assert errors == []
    revisions = _replay_holds(app, tender["id"])
    assert sorted(r.payload_hash for r in revisions) == sorted(acknowledged)
    assert len(revisions) == 48 and all(r.extended for r in revisions)


@contextlib.contextmanager
def _lock_held_elsewhere(app, tender_id: int, until):
    """Another connection holds the tender's row lock, and lets it go once until(engine)
    returns (from a thread of its own); yields a list that then holds what until returned
    (False: it gave up waiting, the safety net)."""
    with app.app_context():
        holder = create_engine(db.engine.url.render_as_string(hide_password=False))
    released: list[bool] = []

    def release(other) -> None:
        released.append(until(holder))
        other.rollback()

    try:
        with holder.connect() as other:
            other.execute(text("SELECT 1 FROM tenders WHERE id = :i FOR UPDATE"), {"i": tender_id})
            releaser = threading.Thread(target=release, args=(other,), daemon=True)
            releaser.start()
            try:
                yield released
            finally:
                releaser.join(timeout=60)
    finally:
        holder.dispose()


_WAITING_PAST = text(
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    " AND datname = current_database()"
    " AND clock_timestamp() - query_start > make_interval(secs => CAST(:s AS float8))"
)


def _waiting_past(ms: int, timeout: float = 30):
    """until for _lock_held_elsewhere: once a session has waited for a lock longer than `ms`,
    as PostgreSQL sees it (False if none has within `timeout` seconds)."""

    def until(engine) -> bool:
        give_up = time.monotonic() + timeout
        with engine.connect() as conn:
            while time.monotonic() < give_up:
                if conn.execute(_WAITING_PAST, {"s": ms / 1000}).scalar_one():
                    return True
                conn.rollback()  # the next read sees pg_stat_activity afresh
                time.sleep(0.002)  # a poll interval, not a wait for the outcome
        return False

    return until


def _submit_at(app, client, b, tender_id: int, price: str, minutes: int):
    """Submit `minutes` after now (the clock moved there and back)."""
    with app.app_context():
        clock.advance(dt.timedelta(minutes=minutes))
        try:
            return submit(client, b, tender_id, offer({"1": price}))
        finally:
            clock.advance(-dt.timedelta(minutes=minutes))


def test_a_tender_lock_held_too_long_elsewhere_is_waited_for_the_cooperative_way(app, monkeypatch):
    """The section that waits for the tender lock with the whole process gives up after
    LOCK_WAIT_MS (the holder may take its time, or be a green thread of the same process);
    the revision then takes the locked path, waits there, and is stored once the lock is let
    go. For a while after, this process waits for that tender's lock cooperatively, longer."""
    _postgresql(app)
    from core.transaction import LockWaitTooLong

    client = app.test_client()
    tender = tender_in_window(app, client, minutes=10)  # D: now + 10 min
    b = bidder(app, client)
    assert submit(client, b, tender["id"], offer({"1": "100.00"})).status_code == 201  # D + 30
    gave_up: list = []
    given_up = threading.Event()
    real = accept_pg._under_lock

    def spy(*args):
        try:
            return real(*args)
        except LockWaitTooLong as error:
            gave_up.append(error)
            given_up.set()
            raise

    monkeypatch.setattr(accept_pg, "_under_lock", spy)
    # The busy mark lasts BUSY_SECONDS (1 s) from the give-up; the second revision below
    # reached the lock 0.13-0.3 s after it at load 10 on 2 cores, a stall away from missing
    # it. What is tested is that a marked tender is waited for cooperatively, not how long
    # the mark lasts: long enough here (caches.reset() forgets it after the test).
    monkeypatch.setattr(accept_pg, "BUSY_SECONDS", 60.0)
    # The holder lets go only once the section has given up: the revision, stored after,
    # waited for the release on the locked path.
    with _lock_held_elsewhere(app, tender["id"], lambda _: given_up.wait(30)) as released:
        resp = _submit_at(app, client, b, tender["id"], "99.00", minutes=35)
    assert released == [True] and len(gave_up) == 1
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["extended"]  # to now + 70 min

    # Marked busy: a wait past LOCK_WAIT_MS (but within LOCK_WAIT_COOPERATIVE_MS) is waited
    # out; the holder lets go once PostgreSQL shows the revision waiting halfway between.
    assert accept_pg.LOCK_WAIT_MS < accept_pg.LOCK_WAIT_COOPERATIVE_MS
    until = _waiting_past((accept_pg.LOCK_WAIT_MS + accept_pg.LOCK_WAIT_COOPERATIVE_MS) // 2)
    with _lock_held_elsewhere(app, tender["id"], until) as released:
        resp = _submit_at(app, client, b, tender["id"], "98.00", minutes=45)
    assert released == [True] and len(gave_up) == 1  # waited past LOCK_WAIT_MS, no give-up
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["extended"]
    revisions = _replay_holds(app, tender["id"])
    assert [r.payload_hash for r in revisions][-1] == resp.get_json()["payload_hash"]


def _chain_disorder(app, tender_id: int) -> list:
    """Where the tender's audit chain, in its order, steps back in time: its events'
    occurred_at, or the accepted_at of the revisions its bid.revision_accepted events name."""
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT e.seq, e.occurred_at, r.accepted_at FROM audit_events e"
                " LEFT JOIN bid_revisions r ON e.action = 'bid.revision_accepted'"
                "  AND r.bid_id = CAST(e.object_id AS integer)"
                "  AND r.number = CAST(e.payload ->> 'revision' AS integer)"
                " WHERE e.chain = :chain ORDER BY e.seq"
            ),
            {"chain": tender_chain(tender_id)},
        ).all()
        db.session.remove()
    disorder, last_event, last_accepted = [], None, None
    for seq, occurred_at, accepted_at in rows:
        if last_event is not None and occurred_at < last_event:
            disorder.append((seq, "occurred_at", occurred_at, last_event))
        if accepted_at is not None:
            if last_accepted is not None and accepted_at < last_accepted:
                disorder.append((seq, "accepted_at", accepted_at, last_accepted))
            assert accepted_at <= occurred_at  # a revision's event is not older than it
            last_accepted = accepted_at
        last_event = occurred_at
    assert len(rows) > 2 * BIDDERS
    return disorder


def test_the_chain_order_is_the_order_of_the_moments(app):
    """Revisions racing on two tenders far from their deadline (on PostgreSQL each stored in
    one call, its moment taken before the tender lock): in each tender's chain the moments
    never step back, the revisions' accepted_at as their events' occurred_at."""
    client = app.test_client()
    tenders = [tender_in_window(app, client, minutes=24 * 60)["id"] for _ in range(2)]
    bidders = [bidder(app, client) for _ in range(BIDDERS)]
    errors: list = []

    def revise(b, tender_id: int) -> None:
        own = app.test_client()
        for step in range(12):
            resp = submit(own, b, tender_id, offer({"1": f"{900 - step}.00"}))
            if resp.status_code != 201:
                errors.append((resp.status_code, resp.get_json()))
                return

    _together([(revise, b, tenders[i % 2]) for i, b in enumerate(bidders)], 120)
    assert errors == []
    for tender_id in tenders:
        assert _chain_disorder(app, tender_id) == []
        _replay_holds(app, tender_id)
