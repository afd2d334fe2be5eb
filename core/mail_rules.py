"""Pure delivery rules for the mail outbox: backoff, the sending lease, giving up."""

from __future__ import annotations

import datetime as dt


def retry_delay(attempts: int, base_seconds: int = 30, cap_seconds: int = 6 * 3600) -> dt.timedelta:
    """Backoff before the next try after `attempts` failed ones: 30 s, 1 min, 2 min... capped."""
    if attempts < 1:
        return dt.timedelta(0)
    return dt.timedelta(seconds=min(cap_seconds, base_seconds * 2 ** (attempts - 1)))


SENDING_LEASE = dt.timedelta(minutes=10)


def may_send(status: str, lease_until: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a worker may take a mail to send: pending, or "sending" with its lease run out
    (the worker that took it died, or hung, before recording the SMTP server's answer: the
    outcome is unknown and the mail is sent again, at least once in all)."""
    if status == "pending":
        return True
    return status == "sending" and lease_until is not None and lease_until <= now


def next_state(attempts: int, max_attempts: int) -> str:
    """After a failed try: keep retrying, or give up and leave the mail for the operator."""
    return "failed" if attempts >= max_attempts else "pending"
