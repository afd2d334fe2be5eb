"""API token hashing and the mail retry rules."""

import datetime as dt

from accounts.rules import TOKEN_PREFIX, hash_token, new_token_text
from core.mail_rules import SENDING_LEASE, may_send, next_state, retry_delay


def test_tokens_are_random_prefixed_and_long():
    tokens = {new_token_text() for _ in range(100)}
    assert len(tokens) == 100
    assert all(t.startswith(TOKEN_PREFIX) and len(t) >= 40 for t in tokens)


def test_token_hash_is_sha256_hex_and_not_the_token():
    token = new_token_text()
    digest = hash_token(token)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert token not in digest
    assert hash_token(token) == digest
    assert hash_token(token + "x") != digest
    # a known vector: SHA-256 of "abc" (FIPS 180-2)
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_retry_delay_doubles_and_is_capped():
    assert retry_delay(0) == dt.timedelta(0)
    assert retry_delay(1) == dt.timedelta(seconds=30)
    assert retry_delay(2) == dt.timedelta(seconds=60)
    assert retry_delay(5) == dt.timedelta(seconds=480)
    assert retry_delay(40) == dt.timedelta(hours=6)


def test_mail_gives_up_after_the_last_attempt():
    assert next_state(7, 8) == "pending"
    assert next_state(8, 8) == "failed"


def test_a_taken_mail_is_sent_again_only_once_its_lease_ran_out():
    now = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
    assert may_send("pending", now + dt.timedelta(hours=1), now)
    assert not may_send("sending", now + SENDING_LEASE, now)
    assert may_send("sending", now, now)
    assert not may_send("sent", now, now) and not may_send("failed", now, now)
