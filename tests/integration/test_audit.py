"""Audit events are chained in the caller's transaction; tampering is found and named."""

import uuid

from sqlalchemy import select, update

from audit.commands import audit_cli
from audit.models import AuditChain, AuditEvent
from audit.service import record, verify_all


def test_events_chain_and_verify(ctx, db):
    events = [record("thing.done", "thing", i, {"i": i}) for i in range(3)]
    assert [e.seq for e in events][-1] - events[0].seq == 2
    assert events[1].prev_hash == events[0].hash
    head = db.session.get(AuditChain, "platform")
    assert head.last_hash == events[-1].hash
    chains, breaks = verify_all()
    assert chains >= 1 and breaks == []


def test_separate_chains_are_independent(ctx, db):
    first, second = (f"test-chain-{uuid.uuid4().hex[:8]}" for _ in range(2))
    a = record("x", "tender", 1, {}, chain=first)
    b = record("x", "tender", 2, {}, chain=second)
    c = record("x", "tender", 1, {}, chain=first)
    assert (a.seq, b.seq, c.seq) == (1, 1, 2) and c.prev_hash == a.hash


def test_tampered_event_is_named_by_the_verifier(app, ctx, db):
    events = [record("bid.accepted", "bid", i, {"price": str(100 + i)}) for i in range(3)]
    target = events[1]
    db.session.execute(
        update(AuditEvent).where(AuditEvent.id == target.id).values(payload={"price": "1"})
    )
    db.session.expire_all()
    _, breaks = verify_all()
    assert [(b.chain, b.seq, b.reason) for b in breaks] == [
        ("platform", target.seq, "payload was altered")
    ]
    result = app.test_cli_runner().invoke(audit_cli, ["verify"])
    assert result.exit_code == 1
    assert f"seq {target.seq} (event id {target.id})" in result.output


def test_deleted_event_is_named(app, ctx, db):
    events = [record("bid.accepted", "bid", i, {}) for i in range(3)]
    db.session.delete(db.session.get(AuditEvent, events[1].id))
    db.session.flush()
    _, breaks = verify_all()
    assert breaks and breaks[0].seq == events[1].seq and "missing" in breaks[0].reason
    assert db.session.execute(select(AuditEvent.id).where(AuditEvent.id == events[2].id)).first()


def test_cli_reports_ok(app, ctx, db):
    record("thing.done", "thing", 1, {})
    result = app.test_cli_runner().invoke(audit_cli, ["verify"])
    assert result.exit_code == 0 and "OK" in result.output
