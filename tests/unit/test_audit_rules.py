"""The hash chain detects altered, removed and reordered events."""

import dataclasses
import datetime as dt
import hashlib

from hypothesis import given
from hypothesis import strategies as st

from audit.rules import (
    GENESIS,
    EventRecord,
    event_hash,
    hash_prefix,
    payload_hash,
    verify_chain,
)

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def build_chain(n: int) -> list[EventRecord]:
    events, prev = [], GENESIS
    for seq in range(1, n + 1):
        payload = {"n": seq, "text": "Поставка кабеля"}
        e = EventRecord(
            "platform",
            seq,
            T0 + dt.timedelta(seconds=seq),
            1,
            2,
            "thing.done",
            "thing",
            str(seq),
            payload,
            payload_hash(payload),
            prev,
        )
        e = dataclasses.replace(e, hash=event_hash(e))
        events.append(e)
        prev = e.hash
    return events


def test_intact_chain_verifies():
    chain = build_chain(5)
    assert verify_chain(chain, head_seq=5, head_hash=chain[-1].hash) is None


def test_altered_payload_is_named():
    chain = build_chain(5)
    chain[2] = dataclasses.replace(chain[2], payload={"n": 999, "text": "x"})
    broken = verify_chain(chain)
    assert (broken.seq, broken.reason) == (3, "payload was altered")


def test_altered_field_with_recomputed_payload_hash_is_named():
    chain = build_chain(4)
    chain[1] = dataclasses.replace(chain[1], action="thing.undone")
    broken = verify_chain(chain)
    assert (broken.seq, broken.reason) == (2, "event fields were altered")


def test_rehashed_event_breaks_the_next_link():
    chain = build_chain(4)
    forged = dataclasses.replace(chain[1], actor_user_id=666)
    chain[1] = dataclasses.replace(forged, hash=event_hash(forged))
    broken = verify_chain(chain)
    assert broken.seq == 3 and "previous hash" in broken.reason


def test_deleted_event_is_detected():
    chain = build_chain(5)
    del chain[1]
    broken = verify_chain(chain)
    assert broken.seq == 2 and "missing" in broken.reason


def test_deleted_tail_is_detected_against_the_head():
    chain = build_chain(5)
    broken = verify_chain(chain[:3], head_seq=5, head_hash=chain[-1].hash)
    assert broken.seq == 4 and "missing" in broken.reason


def test_payload_hash_is_independent_of_key_order():
    assert payload_hash({"a": 1, "b": [1, 2]}) == payload_hash({"b": [1, 2], "a": 1})


@given(
    seq=st.integers(min_value=1, max_value=10**9),
    chain=st.text(max_size=64),
    action=st.text(max_size=64),
    object_id=st.text(max_size=64),
    actor=st.one_of(st.none(), st.integers(min_value=1, max_value=10**9)),
    prev=st.sampled_from([GENESIS, "ab" * 32]),
    micros=st.integers(min_value=0, max_value=10**12),
)
def test_hash_prefix_completed_by_the_head_gives_the_event_hash(
    seq, chain, action, object_id, actor, prev, micros
):
    """What the PostgreSQL writer (bid_accept_revision) appends to the prefix."""
    e = EventRecord(
        chain,
        seq,
        T0 + dt.timedelta(microseconds=micros),
        actor,
        None,
        action,
        "bid",
        object_id,
        {},
        payload_hash({}),
        prev,
    )
    text = hash_prefix(e) + prev + '","seq":' + str(seq) + "}"
    assert hashlib.sha256(text.encode()).hexdigest() == event_hash(e)
