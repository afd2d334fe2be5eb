"""Pure hash-chain rules: how an event is hashed and how a chain is verified."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

GENESIS = "0" * 64


def stable_json(value: object) -> bytes:
    """A stable byte form of a JSON value: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def payload_hash(payload: Mapping) -> str:
    """SHA-256 of an event's payload."""
    return hashlib.sha256(stable_json(payload)).hexdigest()


@dataclass(frozen=True)
class EventRecord:
    """The hashed fields of one audit event."""

    chain: str
    seq: int
    occurred_at: dt.datetime
    actor_user_id: int | None
    actor_org_id: int | None
    action: str
    object_type: str
    object_id: str
    payload: Mapping
    payload_hash: str
    prev_hash: str
    hash: str = ""


def _hashed_fields(e: EventRecord) -> dict:
    return {
        "chain": e.chain,
        "seq": e.seq,
        "at": e.occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_user": e.actor_user_id,
        "actor_org": e.actor_org_id,
        "action": e.action,
        "object": [e.object_type, e.object_id],
        "payload_hash": e.payload_hash,
        "prev": e.prev_hash,
    }


def event_hash(e: EventRecord) -> str:
    """SHA-256 over every field of the event except its own hash."""
    return hashlib.sha256(stable_json(_hashed_fields(e))).hexdigest()


def hash_prefix(e: EventRecord) -> str:
    """The hashed text of an event up to its previous hash, for a writer that learns the
    chain's head (seq, prev) only when it appends: event_hash(e) is the SHA-256 of
    hash_prefix(e) + prev + '","seq":' + str(seq) + '}' ("prev" and "seq" sort last)."""
    fields = _hashed_fields(e)
    del fields["prev"], fields["seq"]
    return stable_json(fields).decode()[:-1] + ',"prev":"'


@dataclass(frozen=True)
class Break:
    """The first event at which a chain stops being valid."""

    chain: str
    seq: int
    reason: str


def verify_chain(
    events: Iterable[EventRecord], head_seq: int | None = None, head_hash: str | None = None
) -> Break | None:
    """Check a chain's events in sequence order; return the first break or None."""
    expected_seq, prev, chain = 1, GENESIS, None
    for e in events:
        chain = e.chain
        if e.seq != expected_seq:
            return Break(e.chain, expected_seq, f"event {expected_seq} is missing")
        if e.prev_hash != prev:
            return Break(e.chain, e.seq, "previous hash does not match the preceding event")
        if payload_hash(e.payload) != e.payload_hash:
            return Break(e.chain, e.seq, "payload was altered")
        if event_hash(e) != e.hash:
            return Break(e.chain, e.seq, "event fields were altered")
        prev, expected_seq = e.hash, expected_seq + 1
    if head_seq is not None and head_seq != expected_seq - 1:
        return Break(chain or "?", expected_seq, f"events after {expected_seq - 1} are missing")
    if head_hash is not None and head_hash != prev:
        return Break(chain or "?", expected_seq - 1, "last event does not match the chain head")
    return None
