"""The scheduler's and worker's supervising loop, the sweepers' overdue rule, the breaker."""

from __future__ import annotations

import datetime as dt

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.commands import BACKOFF_MAX, supervise
from core.redis_guard import Breaker, RedisSkipped
from core.sweep_rules import is_overdue

T0 = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def test_supervise_restarts_after_redis_errors_with_capped_backoff():
    outcomes = [RedisConnectionError("down")] * 7 + [RedisTimeoutError("hung"), False, True]
    waits: list[float] = []

    def run_once():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    supervise("test", run_once, sleep=waits.append)
    assert outcomes == []  # ran until it returned True (a stop request)
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30, 30]
    assert max(waits) == BACKOFF_MAX


def test_supervise_lets_other_errors_through():
    def run_once():
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        supervise("test", run_once, sleep=lambda s: None)


def test_overdue_after_two_intervals_and_a_minute():
    assert is_overdue(None, 60, T0)  # never ran
    assert not is_overdue(T0, 60, T0 + dt.timedelta(seconds=180))
    assert is_overdue(T0, 60, T0 + dt.timedelta(seconds=181))
    assert not is_overdue(T0, 900, T0 + dt.timedelta(minutes=31))


def test_breaker_skips_redis_for_a_pause_after_a_failure():
    calls = []

    def failing():
        calls.append(1)
        raise RedisTimeoutError("hung")

    breaker = Breaker(pause=60)
    with pytest.raises(RedisTimeoutError):
        breaker.call(failing)
    with pytest.raises(RedisSkipped):
        breaker.call(failing)
    assert calls == [1]  # the second call did not wait for Redis
    assert Breaker(pause=0).call(lambda: "ok") == "ok"
