"""Socket.IO connection: a browser session, an API token, or nobody (an anonymous visitor
may watch only public tender state: tenders/sockets.py)."""

from __future__ import annotations

from flask import request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import select

from accounts.models import ApiToken, Membership, Organization, User
from accounts.service import active_organization, authenticate_token
from core.errors import Unauthorized
from core.extensions import db, socketio
from core.live import user_room
from core.transaction import commit

_TOKEN = "live_token_id"  # in this connection's own session (never written to the cookie)


def _bearer(auth) -> str | None:
    """The API token a client sent: {"token": ...} or {"Authorization": "Bearer ..."} as the
    connect payload, or the Authorization header of the handshake."""
    if isinstance(auth, dict):
        if isinstance(auth.get("token"), str):
            return auth["token"].strip()
        header = auth.get("Authorization")
    else:
        header = None
    header = header if isinstance(header, str) else request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        return None
    if scheme.lower() != "bearer" or not token.strip():
        raise ConnectionRefusedError("Use 'Authorization: Bearer <token>'.")
    return token.strip()


@socketio.on("connect")
def on_connect(auth=None):
    """Accept a browser session, an API token or an anonymous visitor; put a user's
    connections in its own room."""
    session.pop(_TOKEN, None)
    token = _bearer(auth)
    if token is not None:
        try:
            api_token = authenticate_token(token)
        except Unauthorized as exc:
            raise ConnectionRefusedError(exc.message) from None
        session[_TOKEN] = api_token.id
        join_room(user_room(api_token.user_id))
        commit()  # the token's last-used time
        return True
    if current_user.is_authenticated:
        join_room(user_room(current_user.id))
    return True


def viewer() -> tuple[User | None, Organization | None]:
    """Who this connection acts as now: the session's user and chosen organization, the API
    token's user and organization while the token stays valid, or (None, None)."""
    if current_user.is_authenticated:
        org, _ = active_organization(current_user, session.get("org_id"))
        return current_user._get_current_object(), org
    token_id = session.get(_TOKEN)
    if token_id is None:
        return None, None
    row = db.session.execute(
        select(ApiToken)
        .join(
            Membership,
            (Membership.user_id == ApiToken.user_id)
            & (Membership.organization_id == ApiToken.organization_id),
        )
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None or row.user.disabled:
        return None, None  # revoked or no longer a member: public view only
    return row.user, row.organization
