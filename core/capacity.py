"""How many connections a web process takes on: pure sizing rules (no eventlet, no Flask)."""

from __future__ import annotations

# File descriptors kept free besides the client connections: the listening socket, the
# event hub, log files, Redis, documents being read, the interpreter's own files.
FD_RESERVE = 128


def fd_target(soft: int, hard: int, infinity: int) -> int:
    """The soft file-descriptor limit to ask for at start-up: the hard limit (or, when the
    hard limit is unlimited, at least 65,536)."""
    if hard == infinity:
        return max(soft, 65_536)
    return max(soft, hard)


def connection_limit(configured: int, nofile: int, reserved: int) -> int:
    """Connections served at once: the setting, lowered so that they and `reserved` other
    descriptors (database pool, refusals, FD_RESERVE) fit in `nofile`."""
    return max(1, min(configured, nofile - reserved - FD_RESERVE))


def body_deadline(content_length: int | None, timeout: float, min_rate: int) -> float:
    """Seconds a request body may take to arrive: `timeout`, plus its declared length at
    `min_rate` bytes per second (a large upload on a slow line is not cut)."""
    extra = (content_length or 0) / min_rate if min_rate > 0 else 0.0
    return timeout + extra
