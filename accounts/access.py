"""Page guards shared by every domain's views."""

from __future__ import annotations

import functools

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
