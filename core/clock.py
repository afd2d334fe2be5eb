"""The one clock: every domain asks it for the time, tests move it."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

UTC = dt.UTC

_lock = threading.Lock()
_offset = dt.timedelta(0)
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """Current time, timezone-aware UTC (shifted or frozen in tests)."""
    with _lock:
        if _frozen is not None:
            return _frozen
        return dt.datetime.now(UTC) + _offset


def freeze(at: dt.datetime) -> None:
    """Stop the clock at a given aware moment (tests)."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    with _lock:
        _frozen = at.astimezone(UTC)


def advance(delta: dt.timedelta) -> None:
    """Move the clock forward (tests, sandbox acceleration)."""
    global _frozen, _offset
    with _lock:
        if _frozen is not None:
            _frozen = _frozen + delta
        else:
            _offset = _offset + delta


def reset() -> None:
    """Return to the real time."""
    global _frozen, _offset
    with _lock:
        _frozen = None
        _offset = dt.timedelta(0)


def local(moment: dt.datetime, zone: str) -> dt.datetime:
    """Express a UTC moment in a named time zone."""
    return moment.astimezone(ZoneInfo(zone))
