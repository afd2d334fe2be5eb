"""bids.service against the real database: a random stream of changes gives the deadline and
the accepted revisions that the pure rule gives when replayed; on PostgreSQL, a revision of
an active bid stored in one call (bids/accept_pg.py) is stored exactly as the locked path
stores it, and falls back to that path when the tender or the bid moved meanwhile."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from audit.models import AuditEvent
from audit.service import verify_all
from bids import accept_pg, caches, offers, rules, service
from bids.models import Bid, BidCriterionValue, BidLine, BidRevision
from core import clock
from core.chains import tender_chain
from core.errors import Conflict
from core.events import DomainEvent
from core.extensions import db
from core.transaction import commit
from tenders.models import Tender
from tests.factories import make_supplier, published_tender, signed_submit

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)


# -- the rule and the database agree ----------------------------------------------------------

EDGES = ("at_deadline", "window_edge", "just_before", "just_after")
moves = st.one_of(
    st.integers(min_value=0, max_value=50 * 60).map(lambda s: dt.timedelta(seconds=s)),
    st.sampled_from(EDGES),
)
changes = st.lists(
    st.tuples(moves, st.integers(0, 2), st.sampled_from(("price", "same", "note"))),
    min_size=1,
    max_size=12,
)
policies = st.fixed_dictionaries(
    {
        "extension_mode": st.sampled_from(("from_deadline", "from_change")),
        "extension_window_minutes": st.integers(1, 60),
        "extension_minutes": st.integers(1, 60),
        "max_extensions": st.one_of(st.none(), st.integers(0, 3)),
    }
)


def _moment(now, move, deadline, window):
    targets = {
        "at_deadline": deadline,
        "window_edge": deadline - window,
        "just_before": deadline - US,
        "just_after": deadline + US,
    }
    return max(now, targets[move] if isinstance(move, str) else now + move)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(policy=policies, stream=changes, lead=st.integers(1, 90))
def test_a_stream_of_changes_gives_what_the_rule_gives(ctx, policy, stream, lead):
    clock.freeze(T0)
    deadline = T0 + dt.timedelta(minutes=lead)
    tender = published_tender(deadline=deadline, criteria=False, **policy)
    rule = service.policy_of(tender)
    suppliers = [make_supplier() for _ in range(3)]
    offered: dict[int, str] = {}  # the price each supplier offers now
    expected_deadline, extensions, now = deadline, 0, T0
    expected = []
    for n, (move, who, kind) in enumerate(stream):
        now = _moment(now, move, expected_deadline, rule.window)
        clock.freeze(now)
        first = who not in offered
        price = f"{90 - n * 0.5:.2f}" if kind == "price" or first else offered[who]
        triggering = first or kind == "price"
        decision = rules.decide(
            expected_deadline, now, rule, triggering=triggering, extensions_so_far=extensions
        )
        note = f"{n}" if kind == "note" else ""
        try:
            revision = signed_submit(suppliers[who], tender.id, {"1": price}, note=note)
        except Conflict as refused:
            assert not decision.accepted, refused
            assert decision.refusal is not None and refused.code == decision.refusal.code
            assert str(refused) == str(service.refused(tender, decision.refusal))
            continue
        assert decision.accepted
        offered[who] = price
        assert (revision.triggering, revision.extended) == (triggering, decision.extended)
        expected.append((suppliers[who][1].id, now, decision.deadline))
        extensions += decision.extended
        expected_deadline = decision.deadline
    stored = db.session.execute(
        select(Bid.organization_id, BidRevision.accepted_at, BidRevision.deadline_after)
        .join(Bid, Bid.id == BidRevision.bid_id)
        .where(Bid.tender_id == tender.id)
        .order_by(BidRevision.accepted_at, BidRevision.id)
    ).all()
    accepted = [tuple(row) for row in stored]
    assert accepted == expected
    db.session.expire_all()
    final = db.session.get(Tender, tender.id)
    assert (final.bid_deadline, final.extensions_count) == (expected_deadline, extensions)
    assert verify_all()[1] == []


# -- PostgreSQL: one call instead of the locked path ---------------------------------------------


@pytest.fixture()
def postgresql(ctx):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the one-call path is PostgreSQL's")


@pytest.fixture()
def calls(monkeypatch):
    """What accept_pg.store answered, call by call (None: it fell back)."""
    seen: list = []
    real = accept_pg.store

    def spy(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(accept_pg, "store", spy)
    return seen


def _stored(revision_id: int) -> dict:
    revision = db.session.get(BidRevision, revision_id)
    lines = db.session.execute(
        select(BidLine.position_number, BidLine.unit_price, BidLine.total, BidLine.note)
        .where(BidLine.revision_id == revision_id)
        .order_by(BidLine.position_number)
    ).all()
    values = db.session.execute(
        select(BidCriterionValue.criterion_id, BidCriterionValue.value)
        .where(BidCriterionValue.revision_id == revision_id)
        .order_by(BidCriterionValue.criterion_id)
    ).all()
    event = db.session.execute(
        select(AuditEvent).where(
            AuditEvent.action == "bid.revision_accepted",
            AuditEvent.payload["hash"].as_string() == revision.payload_hash,
        )
    ).scalar_one()
    return {
        "lines": [tuple(r) for r in lines],
        "values": [tuple(v) for v in values],
        "total": revision.total,
        "triggering": revision.triggering,
        "event": {k: v for k, v in event.payload.items() if k not in ("revision", "hash")},
        "actor": (event.actor_user_id, event.actor_org_id, event.occurred_at),
        "accepted_at": revision.accepted_at,
    }


def _criteria(tender: Tender, warranty: str) -> list[dict]:
    lot = tender.lots[0]
    ids = {c.name: c.id for c in lot.criteria}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": warranty},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": "30 дней"},
    ]


def test_one_call_stores_what_the_locked_path_stores(app, postgresql, calls):
    clock.freeze(T0)
    tender = published_tender(deadline=T0 + dt.timedelta(days=3))
    a = make_supplier()
    first = signed_submit(a, tender.id, {"1": "90.00"}, criteria=_criteria(tender, "24"))
    assert [c.revision_id for c in calls] == [first.id]  # a first bid, in one call too
    clock.freeze(T0 + dt.timedelta(minutes=1))
    prices = {"1": "89.50", "2": "110.00"}
    fast = signed_submit(a, tender.id, prices, note="склад", criteria=_criteria(tender, "36"))
    assert calls[-1].revision_id == fast.id
    app.config["BIDS_ONE_CALL_ACCEPT"] = False
    try:
        clock.freeze(T0 + dt.timedelta(minutes=2))
        locked = signed_submit(a, tender.id, prices, note="склад", criteria=_criteria(tender, "36"))
    finally:
        app.config["BIDS_ONE_CALL_ACCEPT"] = True
    assert len(calls) == 2
    bid = db.session.get(Bid, first.bid_id)
    assert (bid.participant_number, bid.revision_count, bid.first_bid_at) == (1, 3, T0)
    one, other = _stored(fast.id), _stored(locked.id)
    assert one["accepted_at"] == T0 + dt.timedelta(minutes=1)
    assert one["actor"][2] == one["accepted_at"]
    for d in (one, other):
        del d["accepted_at"]
        d["actor"] = d["actor"][:2]
    # The same offer again is not a triggering change; everything else is stored alike.
    assert other["triggering"] is other["event"]["triggering"] is False
    other["triggering"] = other["event"]["triggering"] = True
    assert one == other
    assert one["lines"] == [
        ("1", Decimal("89.50"), Decimal("134250.00"), "склад"),
        ("2", Decimal("110.00"), Decimal("88000.00"), "склад"),
    ]
    assert verify_all()[1] == []  # the function's hashes are the rule's


def test_one_call_reads_what_the_watchers_are_told(app, postgresql, calls, monkeypatch):
    """The best prices and the number of active bids that the call returns (read under the
    tender lock) are what bids.offers reads afterwards, and they are what is pushed."""
    pushed: list = []
    monkeypatch.setattr(offers, "push_changes", lambda *args: pushed.append(args))
    clock.freeze(T0)
    tender = published_tender(deadline=T0 + dt.timedelta(days=3), criteria=False)
    a, b, c = make_supplier(), make_supplier(), make_supplier()
    signed_submit(a, tender.id, {"1": "90.00", "2": "120.00"})
    signed_submit(b, tender.id, {"1": "95.00"})
    signed_submit(c, tender.id, {"1": "80.00", "2": "100.00"})
    service.withdraw(c[0], c[1], tender.id)  # c's prices no longer count
    commit()
    signed_submit(b, tender.id, {"2": "110.00"})  # drops position 1, prices position 2
    stored = calls[-1]
    assert stored.revision_id is not None
    assert stored.best == {"1": Decimal("90.00"), "2": Decimal("110.00")}
    assert (stored.best, stored.participants) == offers.best_prices(tender.id, ["1", "2"])
    assert stored.participants == 2
    assert pushed[-1][3] == {"1": None, "2": Decimal("110.00")}  # b's change
    assert pushed[-1][4] == (stored.best, 2)
    signed_submit(b, tender.id, {"1": "94.00"})  # back to 1, drops 2: a's prices are the best
    assert calls[-1].best == {"1": Decimal("90.00"), "2": Decimal("120.00")}


def test_one_call_extends_the_deadline(app, postgresql, calls):
    clock.freeze(T0)
    deadline = T0 + dt.timedelta(minutes=10)
    tender = published_tender(deadline=deadline, criteria=False)
    a = make_supplier()
    signed_submit(a, tender.id, {"1": "90.00"})  # a first bid, in the window: D + 30 min
    assert len(calls) == 1 and calls[0].event_id is not None
    clock.freeze(deadline + dt.timedelta(minutes=29))
    revision = signed_submit(a, tender.id, {"1": "89.00"})
    # A change that moves the deadline is decided under the lock: one call, never refused
    # for a deadline that moved meanwhile.
    assert len(calls) == 2
    assert calls[-1].revision_id == revision.id and calls[-1].event_id is not None
    assert revision.extended and revision.deadline_after == deadline + dt.timedelta(minutes=60)
    db.session.expire_all()
    stored = db.session.get(Tender, tender.id)
    assert stored.bid_deadline == deadline + dt.timedelta(minutes=60)
    assert stored.extensions_count == 2
    events = db.session.execute(
        select(DomainEvent.payload).where(
            DomainEvent.tender_id == tender.id, DomainEvent.kind == "tender.extended"
        )
    ).scalars()
    assert [e["extensions"] for e in events] == [1, 2]
    extended = db.session.execute(
        select(AuditEvent.payload).where(AuditEvent.action == "tender.extended")
    ).scalars()
    assert [e["revision_id"] for e in extended][-1] == revision.id
    assert verify_all()[1] == []


def test_a_deadline_moved_meanwhile_is_decided_again(app, postgresql, calls, monkeypatch):
    clock.freeze(T0)
    tender = published_tender(deadline=T0 + dt.timedelta(days=3), criteria=False)
    a = make_supplier()
    signed_submit(a, tender.id, {"1": "90.00"})
    real = accept_pg.store
    moves = []

    def amended_meanwhile(t, *args, **kwargs):
        if not moves:  # once: as if another change had extended it just before
            moves.append(t.bid_deadline)
            db.session.execute(
                text("UPDATE tenders SET bid_deadline = bid_deadline + interval '1 day'"),
            )
        return real(t, *args, **kwargs)

    monkeypatch.setattr(accept_pg, "store", amended_meanwhile)
    revision = signed_submit(a, tender.id, {"1": "89.00"})
    assert [c.revision_id for c in calls[1:]] == [None, revision.id]  # after the first bid
    assert calls[1].deadline == T0 + dt.timedelta(days=4)
    assert revision.deadline_before == revision.deadline_after == T0 + dt.timedelta(days=4)
    count = db.session.execute(
        select(func.count()).select_from(BidRevision).where(BidRevision.bid_id == revision.bid_id)
    ).scalar_one()
    assert count == 2


def test_a_first_bid_numbered_again_when_another_came_first(app, postgresql, calls, monkeypatch):
    clock.freeze(T0)
    tender = published_tender(deadline=T0 + dt.timedelta(days=3), criteria=False)
    a, b = make_supplier(), make_supplier()
    real = accept_pg.store
    others = []

    def another_came_first(t, bid, *args, **kwargs):
        if not others:  # b's first bid commits between a's read and a's call
            others.append(
                db.session.execute(
                    text(
                        "INSERT INTO bids (tender_id, organization_id, participant_number, status,"
                        " revision_count, first_bid_at, responsible_id)"
                        " VALUES (:t, :o, 1, 'active', 0, now(), :u) RETURNING id"
                    ),
                    {"t": t.id, "o": b[1].id, "u": b[0].id},
                ).scalar_one()
            )
        return real(t, bid, *args, **kwargs)

    monkeypatch.setattr(accept_pg, "store", another_came_first)
    revision = signed_submit(a, tender.id, {"1": "90.00"})
    assert [(c.revision_id, c.bids) for c in calls] == [(None, 1), (revision.id, None)]
    assert db.session.get(Bid, revision.bid_id).participant_number == 2
    event = db.session.execute(
        select(AuditEvent.payload).where(AuditEvent.action == "bid.revision_accepted")
    ).scalar_one()
    assert event["participant"] == 2
    assert verify_all()[1] == []


def test_a_moment_the_chain_passed_meanwhile_is_taken_again(app, postgresql, monkeypatch):
    """a's moment is taken before the tender lock; b's revision, stamped later, is stored
    first: a's call stores nothing, and a is stamped again and stored, so the chain's order
    is the order of its moments (and of the revisions' accepted_at)."""
    clock.freeze(T0)
    tender = published_tender(deadline=T0 + dt.timedelta(days=3), criteria=False)
    a, b = make_supplier(), make_supplier()
    signed_submit(a, tender.id, {"1": "90.00"})
    signed_submit(b, tender.id, {"1": "91.00"})
    real = accept_pg.store
    later = T0 + dt.timedelta(milliseconds=114)
    answers = []

    def b_came_first(*args, **kwargs):
        if not answers:  # a's call, once: b, stamped later, stores its revision first
            monkeypatch.setattr(accept_pg, "store", real)
            clock.freeze(later)
            signed_submit(b, tender.id, {"1": "89.00"})
            monkeypatch.setattr(accept_pg, "store", b_came_first)
        answers.append(real(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(accept_pg, "store", b_came_first)
    revision = signed_submit(a, tender.id, {"1": "88.00"})
    assert answers == [accept_pg.Stored(None, moment_passed=True), answers[1]]
    assert answers[1].revision_id == revision.id and revision.accepted_at == later
    rows = db.session.execute(
        select(AuditEvent.occurred_at, BidRevision.accepted_at)
        .join(Bid, Bid.id == func.cast(AuditEvent.object_id, db.Integer))
        .join(
            BidRevision,
            (BidRevision.bid_id == Bid.id)
            & (
                BidRevision.number
                == func.cast(AuditEvent.payload["revision"].as_string(), db.Integer)
            ),
        )
        .where(AuditEvent.chain == tender_chain(tender.id))
        .where(AuditEvent.action == "bid.revision_accepted")
        .order_by(AuditEvent.seq)
    ).all()
    assert [r.occurred_at for r in rows] == [T0, T0, later, later]
    assert [r.accepted_at for r in rows] == [T0, T0, later, later]
    assert verify_all()[1] == []


@pytest.mark.parametrize(
    ("meanwhile", "code", "refusal"),
    [
        (
            "UPDATE tenders SET status = 'cancelled'",
            "tender_not_open",
            "is cancelled: it accepts no bids",
        ),
        (
            f"UPDATE bids SET last_hash = '{'f' * 64}'",
            "bid_changed",
            "Your bid changed while you were signing",
        ),
    ],
)
def test_a_tender_or_bid_moved_meanwhile_is_refused_by_the_locked_path(
    app, postgresql, monkeypatch, meanwhile, code, refusal
):
    clock.freeze(T0)
    tender = published_tender(deadline=T0 + dt.timedelta(days=3), criteria=False)
    a = make_supplier()
    first = signed_submit(a, tender.id, {"1": "90.00"})
    real = accept_pg.store
    answers = []

    def moved(*args, **kwargs):
        db.session.execute(text(meanwhile))
        answers.append(real(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(accept_pg, "store", moved)
    with pytest.raises(Conflict, match=refusal) as refused:
        signed_submit(a, tender.id, {"1": "89.00"})
    assert refused.value.code == code
    assert answers == [accept_pg.Stored(None)]  # nothing stored by the call
    numbers = db.session.execute(
        select(BidRevision.number).where(BidRevision.bid_id == first.bid_id)
    ).scalars()
    assert list(numbers) == [1]


def test_an_accepted_offer_is_remembered_as_the_database_holds_it(ctx, monkeypatch):
    """The next revision compares with the remembered offer (no read), which is exactly the
    offer read back from the database; a bid revised elsewhere (another process) is read."""
    clock.freeze(T0)
    tender = published_tender(deadline=T0 + dt.timedelta(days=3))
    a = make_supplier()
    signed_submit(
        a, tender.id, {"1": "90", "2": "110.5"}, note="склад", criteria=_criteria(tender, "24")
    )
    bid = service.own_bid(a[1], tender.id)
    specs = service.specs_of(tender)
    remembered = caches.OFFERS.get((bid.id, bid.last_hash, specs.version))
    assert remembered is not None
    caches.OFFERS.clear()
    stored = service._offer_of(bid, specs)  # read from the database
    assert remembered == stored
    assert stored.lines["2"].unit_price == Decimal("110.50")
    # The same offer again is no triggering change, whether remembered or read.
    reads: list = []
    real = service._latest_offer_queries
    monkeypatch.setattr(service, "_latest_offer_queries", lambda: reads.append(1) or real())
    clock.freeze(T0 + dt.timedelta(minutes=1))
    same = signed_submit(
        a, tender.id, {"1": "90.00", "2": "110.50"}, note="склад", criteria=_criteria(tender, "24")
    )
    assert same.triggering is False and reads == [1]  # nothing remembered yet: read once
    clock.freeze(T0 + dt.timedelta(minutes=2))
    again = signed_submit(a, tender.id, {"1": "89"}, note="склад", criteria=_criteria(tender, "24"))
    assert again.triggering is True and reads == [1]  # remembered from the revision before
