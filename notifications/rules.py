"""Pure delivery rules for the mail outbox."""

from __future__ import annotations

import datetime as dt


def retry_delay(attempts: int, base_seconds: int = 30, cap_seconds: int = 6 * 3600) -> dt.timedelta:
    """Backoff before the next try after `attempts` failed ones: 30 s, 1 min, 2 min... capped."""
    if attempts < 1:
        return dt.timedelta(0)
    return dt.timedelta(seconds=min(cap_seconds, base_seconds * 2 ** (attempts - 1)))


def next_state(attempts: int, max_attempts: int) -> str:
    """After a failed try: keep retrying, or give up and leave the mail for the operator."""
    return "failed" if attempts >= max_attempts else "pending"
