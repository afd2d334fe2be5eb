"""Socket.IO connection: authenticated by the Flask-Login session; joins the user's room."""

from __future__ import annotations

from flask_login import current_user
from flask_socketio import join_room

from core.extensions import socketio
from core.live import user_room


@socketio.on("connect")
def on_connect(auth=None):
    """Refuse anonymous connections; put the user's connections in its own room."""
    if not current_user.is_authenticated:
        return False
    join_room(user_room(current_user.id))
    return True
