"""Live pushes over Socket.IO, emitted only after the transaction commits.

Rooms (docs/live.md): "user:U" (every connection of a user), "tender:T" (everyone watching a
tender, anonymous visitors included), "tender:T:org:O" (those watching it for organization
O), "tender:T:offers" / "tender:T:best" (those who may see the offers / the best prices).
When what a viewer may see changes (a withdrawal, a member removed), a VISIBILITY_EVENT push
to its "tender:T:org:O" or "user:U" room makes every process take those connections out of
the offers rooms before it reaches them; the page then watches the tender again and the
server decides its rooms afresh.
"""

from __future__ import annotations

import logging
import re
import time

import socketio as python_socketio
from flask_socketio import SocketIO
from redis.exceptions import RedisError

from core import redis_guard
from core.extensions import socketio
from core.transaction import after_commit

log = logging.getLogger(__name__)

_external: SocketIO | None = None

VISIBILITY_EVENT = "visibility_changed"
RESYNC_EVENT = "resync"  # to this process's pages: pushes may have been missed
# The Redis listener's longest wait between reconnection attempts (python-socketio waits up
# to 60 s, and every push from other processes in between is lost).
REDIS_RETRY_MAX_SECONDS = 2.0

_OFFER_ROOM = re.compile(r"tender:(\d+):(offers|best|org:\d+)\Z")


def use_external_emitter(
    message_queue: str, channel: str, timeout: float | None = None, pause: float = 0.0
) -> None:
    """In processes that serve no clients (RQ workers), emit through the Redis queue only
    (giving up after `timeout` seconds: a hung Redis must not hold a job either)."""
    global _external
    manager = LiveRedisManager(message_queue, channel, timeout, pause, write_only=True)
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


def viewers_room(tender_id: int, org_id: int) -> str:
    """The room of the connections watching a tender for one organization."""
    return f"tender:{tender_id}:org:{org_id}"


def visibility_changed(tender_id: int | None, room: str) -> None:
    """After the commit: the connections in `room` leave the offers rooms of the tender
    (tender_id None: of every tender) and are told to watch again."""
    emit(VISIBILITY_EVENT, {"tender_id": tender_id}, room)


def rooms_to_leave(rooms, tender_id: int | None) -> list[str]:
    """Of a connection's rooms, those a visibility change takes it out of."""
    out = []
    for room in rooms or ():
        found = _OFFER_ROOM.match(room) if isinstance(room, str) else None
        if found is None:
            continue
        if tender_id is None or (int(found.group(1)) == tender_id and "org" not in room):
            out.append(room)
    return out


class _FollowsVisibility:
    """Take the connections a VISIBILITY_EVENT is addressed to out of the offers rooms, in
    the process that holds them, before the event reaches them."""

    def _follow_visibility(self, event, data, namespace, room) -> None:
        if event != VISIBILITY_EVENT or not isinstance(data, dict) or room is None:
            return
        namespace = namespace or "/"
        tender_id = data.get("tender_id")
        for sid, _ in list(self.get_participants(namespace, room)):
            for left in rooms_to_leave(self.get_rooms(sid, namespace), tender_id):
                self.basic_leave_room(sid, namespace, left)


class LocalManager(_FollowsVisibility, python_socketio.Manager):
    """One process, no message queue."""

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, **kwargs):
        """Emit, leaving rooms first for a visibility change."""
        self._follow_visibility(event, data, namespace, room)
        return super().emit(event, data, namespace, room, skip_sid, callback, **kwargs)


class LiveRedisManager(_FollowsVisibility, python_socketio.RedisManager):
    """The Redis message queue, reconnecting within seconds after an outage, and telling
    this process's pages to resynchronise once it has. It listens as RedisManager does (a
    blocking read), but publishes through a client of its own that gives up after `timeout`
    seconds, once, and not at all for `pause` seconds after a failure: a live push is not
    worth holding a response for (the page shows the state when it is next loaded)."""

    def __init__(
        self,
        url: str,
        channel: str,
        timeout: float | None = None,
        pause: float = 0.0,
        write_only: bool = False,
    ):
        super().__init__(url, channel=channel, write_only=write_only)
        self._publisher = redis_guard.client(url, timeout)
        self._breaker = redis_guard.Breaker(pause)

    def _publish(self, data):
        try:
            self._breaker.call(self._publisher.publish, self.channel, self.json.dumps(data))
        except RedisError as error:
            log.warning("live push not sent: Redis %s: %s", type(error).__name__, error)

    def _handle_emit(self, message):
        data = message.get("data")
        payload = data[0] if isinstance(data, list) and len(data) == 1 else data
        self._follow_visibility(
            message.get("event"), payload, message.get("namespace"), message.get("room")
        )
        return super()._handle_emit(message)

    def _redis_listen_with_retries(self):  # python-socketio's, with the wait capped
        retry_sleep = 0.5
        subscribed = False
        missed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed, retry_sleep = True, 0.5
                    if missed:
                        self._resync()
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001  (any failure: reconnect)
                log.warning("Socket.IO: no Redis (%s); retrying in %.1f s", exc, retry_sleep)
                subscribed, missed = False, True
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, REDIS_RETRY_MAX_SECONDS)

    def _resync(self) -> None:
        """Pushes from other processes were lost while unsubscribed: ask this process's
        pages to fetch the current state."""
        log.info("Socket.IO: Redis is back; asking this process's pages to resynchronise")
        python_socketio.Manager.emit(self, RESYNC_EVENT, {}, "/")


def client_manager(config):
    """The Socket.IO client manager of a web process: the Redis queue (short timeouts to
    publish), or one process without a message queue."""
    if not config.get("REDIS_URL"):
        return LocalManager()
    return LiveRedisManager(
        config["REDIS_URL"],
        config["SOCKETIO_CHANNEL"],
        config["REDIS_TIMEOUT"],
        config["REDIS_PAUSE"],
    )
