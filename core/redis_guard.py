"""Redis as the web process uses it: short socket timeouts, and a pause after a failure.

A hung Redis must not hold a response hostage: an after-commit hook (enqueue, emit) gives up
after REDIS_TIMEOUT seconds, and for REDIS_PAUSE seconds after a failure the hooks do not try
at all. What they would have done is durable already (outbox rows, overdue tenders, missing
results) and the sweepers do it once Redis answers again (docs/operations.md)."""

from __future__ import annotations

import time

from redis import Redis
from redis.exceptions import RedisError


class RedisSkipped(RedisError):
    """Redis failed a moment ago: this call was not tried (the sweepers will catch up)."""


class Breaker:
    """Skip Redis for `pause` seconds after a failure, instead of waiting for its timeout in
    every request meanwhile."""

    def __init__(self, pause: float):
        self.pause = pause
        self._closed_until = 0.0

    def call(self, fn, *args, **kwargs):
        """fn(*args, **kwargs), unless Redis failed less than `pause` seconds ago."""
        if time.monotonic() < self._closed_until:
            raise RedisSkipped("Redis failed moments ago; left to the sweepers")
        try:
            return fn(*args, **kwargs)
        except RedisError:
            self._closed_until = time.monotonic() + self.pause
            raise


def client(url: str, timeout: float | None) -> Redis:
    """A Redis client whose every call (and connect) gives up after `timeout` seconds."""
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
