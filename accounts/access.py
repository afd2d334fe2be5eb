"""Page and API guards shared by every domain's views."""

from __future__ import annotations

import functools

from flask import g
from flask_login import current_user, login_required

from core.errors import Forbidden


def operator_required(view):
    """A page for the platform operator only (login first, then 403 for everyone else)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_operator:
            raise Forbidden("Only the platform operator can see this page.")
        return view(*args, **kwargs)

    return login_required(wrapper)


def require_api_operator() -> None:
    """An API call for the platform operator: its browser session or an operator token (a
    token acting for an organization never acts as operator, whoever holds it)."""
    user = getattr(g, "api_user", None)
    if user is None or not user.is_operator:
        raise Forbidden("Only the platform operator can do this.")
    token = getattr(g, "api_token", None)
    if token is not None and token.scope != "operator":
        raise Forbidden(
            "This token acts for an organization: create an operator token for operator calls."
        )
