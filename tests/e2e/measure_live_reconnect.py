"""Measurement, not part of the suite (no test_ prefix; run it by name, see docs/live.md):
Redis goes away for N seconds, comes back; how long until both web processes' Socket.IO
listeners are subscribed again (PUBSUB NUMSUB on the channel). Prints one line per case."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
import socketio

from tests.e2e.conftest import _env, serving

SUBSCRIBE_TIMEOUT = 90


def _subscribers(client: redis.Redis, channel: str) -> int:
    return client.pubsub_numsub(channel)[0][1]


def _wait_subscribed(client: redis.Redis, channel: str) -> float:
    started = time.monotonic()
    while _subscribers(client, channel) < 2:
        assert time.monotonic() - started < SUBSCRIBE_TIMEOUT, "not subscribed again"
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.mark.parametrize("away", [16, 30])
def test_measure(app, database_url, smtp_server, workdir, private_redis, away):
    channel = f"tenders-test-{uuid.uuid4().hex[:8]}"
    env = _env(database_url, private_redis.url, smtp_server.port, workdir, "eventlet", channel)
    with serving(env, workdir, "one") as one, serving(env, workdir, "two") as two:
        clients = []
        for base in (one, two):  # a process's manager subscribes at its first connection
            c = socketio.Client(reconnection=False)
            c.connect(base, transports=["websocket"], wait_timeout=10)
            clients.append(c)
        _wait_subscribed(redis.Redis(port=private_redis.port), channel)
        private_redis.stop()
        time.sleep(away)
        private_redis.start()
        took = _wait_subscribed(redis.Redis(port=private_redis.port), channel)
        print(f"\nRedis away {away} s: both processes subscribed again {took:.2f} s after")
        for c in clients:
            c.disconnect()
