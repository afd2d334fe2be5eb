"""Live pushes over Socket.IO, emitted only after the transaction commits."""

from __future__ import annotations

import logging

from flask_socketio import SocketIO

from core.extensions import socketio
from core.transaction import after_commit

log = logging.getLogger(__name__)

_external: SocketIO | None = None


def use_external_emitter(message_queue: str, channel: str) -> None:
    """In processes that serve no clients (RQ workers), emit through the Redis queue only."""
    global _external
    _external = SocketIO(message_queue=message_queue, channel=channel)


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
