"""When a sweeper counts as overdue (pure: the time is an argument)."""

from __future__ import annotations

import datetime as dt

# A run may wait for a busy worker or a scheduler restart: allow two intervals and a minute.
GRACE = dt.timedelta(seconds=60)


def overdue_at(last_success: dt.datetime, interval: int) -> dt.datetime:
    """The moment a sweeper that last succeeded at `last_success` becomes overdue."""
    return last_success + 2 * dt.timedelta(seconds=interval) + GRACE


def is_overdue(last_success: dt.datetime | None, interval: int, now: dt.datetime) -> bool:
    """Overdue: never succeeded, or not within two intervals and a minute of `now` (the
    scheduler runs every sweeper as it starts, so a healthy one has run them all by then)."""
    return last_success is None or now > overdue_at(last_success, interval)
