"""Appending to and verifying the audit chains."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sqlalchemy import select

from audit.models import AuditChain, AuditEvent
from audit.rules import GENESIS, Break, EventRecord, event_hash, payload_hash, verify_chain
from core import clock
from core.extensions import db
from core.transaction import lock_or_create

PLATFORM = "platform"


def record(
    action: str,
    object_type: str,
    object_id: object,
    payload: Mapping | None = None,
    *,
    actor_user_id: int | None = None,
    actor_org_id: int | None = None,
    chain: str = PLATFORM,
) -> AuditEvent:
    """Append an event to a chain in the caller's transaction (the chain head is locked)."""
    head = lock_or_create(AuditChain, "name", chain, last_seq=0, last_hash=GENESIS)
    payload = dict(payload or {})
    rec = EventRecord(
        chain=chain,
        seq=head.last_seq + 1,
        occurred_at=clock.now(),
        actor_user_id=actor_user_id,
        actor_org_id=actor_org_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        payload=payload,
        payload_hash=payload_hash(payload),
        prev_hash=head.last_hash,
    )
    own = event_hash(rec)
    event = AuditEvent(
        chain=chain,
        seq=rec.seq,
        occurred_at=rec.occurred_at,
        actor_user_id=actor_user_id,
        actor_org_id=actor_org_id,
        action=action,
        object_type=object_type,
        object_id=rec.object_id,
        payload=payload,
        payload_hash=rec.payload_hash,
        prev_hash=rec.prev_hash,
        hash=own,
    )
    db.session.add(event)
    head.last_seq, head.last_hash = rec.seq, own
    db.session.flush()
    return event


def _records(chain: str) -> Iterator[EventRecord]:
    rows = db.session.execute(
        select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
    ).yield_per(1000)
    for (e,) in rows:
        yield EventRecord(
            e.chain,
            e.seq,
            e.occurred_at,
            e.actor_user_id,
            e.actor_org_id,
            e.action,
            e.object_type,
            e.object_id,
            e.payload,
            e.payload_hash,
            e.prev_hash,
            e.hash,
        )


def verify_all() -> tuple[int, list[Break]]:
    """Verify every chain; return the number of chains checked and the breaks found."""
    heads = db.session.execute(select(AuditChain).order_by(AuditChain.name)).scalars().all()
    breaks = []
    for head in heads:
        found = verify_chain(_records(head.name), head.last_seq, head.last_hash)
        if found:
            breaks.append(found)
    return len(heads), breaks


def event_id(chain: str, seq: int) -> int | None:
    """The row id of an event, to name it in reports."""
    return db.session.execute(
        select(AuditEvent.id).where(AuditEvent.chain == chain, AuditEvent.seq == seq)
    ).scalar_one_or_none()
