"""Live pushes over Socket.IO, emitted only after the transaction commits."""

from __future__ import annotations

import logging

import socketio as python_socketio
from flask_socketio import SocketIO
from redis.exceptions import RedisError

from core import redis_guard
from core.extensions import socketio
from core.transaction import after_commit

log = logging.getLogger(__name__)

_external: SocketIO | None = None


class GuardedRedisManager(python_socketio.RedisManager):
    """The web process's Socket.IO queue: it listens as RedisManager does (a blocking read,
    no timeout), but publishes through a client of its own that gives up after `timeout`
    seconds, once, and not at all for `pause` seconds after a failure: a live push is not
    worth holding a response for (the page shows the state when it is next loaded)."""

    def __init__(
        self, url: str, channel: str, timeout: float, pause: float, write_only: bool = False
    ):
        super().__init__(url, channel=channel, write_only=write_only)
        self._publisher = redis_guard.client(url, timeout)
        self._breaker = redis_guard.Breaker(pause)

    def _publish(self, data):
        try:
            self._breaker.call(self._publisher.publish, self.channel, self.json.dumps(data))
        except RedisError as error:
            log.warning("live push not sent: Redis %s: %s", type(error).__name__, error)


def client_manager(config) -> GuardedRedisManager | None:
    """The Socket.IO client manager for the web process (None without Redis)."""
    if not config.get("REDIS_URL"):
        return None
    return GuardedRedisManager(
        config["REDIS_URL"],
        config["SOCKETIO_CHANNEL"],
        config["REDIS_TIMEOUT"],
        config["REDIS_PAUSE"],
    )


def use_external_emitter(
    message_queue: str, channel: str, timeout: float | None = None, pause: float = 0.0
) -> None:
    """In processes that serve no clients (RQ workers), emit through the Redis queue only
    (giving up after `timeout` seconds: a hung Redis must not hold a job either)."""
    global _external
    manager = GuardedRedisManager(message_queue, channel, timeout, pause, write_only=True)
    # Threads: a worker is never monkey-patched (only serve.py patches for eventlet).
    _external = SocketIO(
        message_queue=message_queue, client_manager=manager, async_mode="threading"
    )


def emit(event: str, data: dict, room: str) -> None:
    """Push an event to a room after the current transaction commits."""
    after_commit(emit_now, event, data, room)


def emit_now(event: str, data: dict, room: str) -> None:
    """Push an event immediately (call only once the data is committed)."""
    server = _external or socketio
    server.emit(event, data, to=room)


def user_room(user_id: int) -> str:
    """The room every connection of a user joins."""
    return f"user:{user_id}"
