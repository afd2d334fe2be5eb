"""The "keep me logged in" box with strong session protection (issue 19.6).

A browser reopened keeps only the remember cookie: the session restored from it must last
beyond its first page. A session cookie copied to another client is still refused, and a
remembered login ends with logout and with a password change."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import csrf_of
from tests.factories import PASSWORD, make_org, make_user

REMEMBER = "remember_token"
SESSION = "session"
BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux) Chromium/120"}
OTHER_BROWSER = {"HTTP_USER_AGENT": "curl/8.0", "REMOTE_ADDR": "203.0.113.7"}


def _remembered(app, client, email: str) -> str:
    """Log in with "Keep me logged in"; returns the remember cookie's value."""
    token = csrf_of(client, "/login")
    resp = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "remember": "1", "csrf_token": token},
        environ_base=BROWSER,
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/cabinet"
    cookie = client.get_cookie(REMEMBER)
    assert cookie is not None and cookie.http_only
    return cookie.value


def _fresh(app, cookies: dict[str, str]):
    """Another cookie jar holding only ``cookies`` (a browser reopened)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def _pages(client, environ=BROWSER, urls=("/cabinet", "/tokens", "/cabinet")) -> list[int]:
    return [client.get(url, environ_base=environ).status_code for url in urls]


def test_the_remember_cookie_keeps_the_login_for_every_page(app, client, db):
    user = make_user(make_org())
    value = _remembered(app, client, user.email)
    reopened = _fresh(app, {REMEMBER: value})
    assert _pages(reopened) == [200, 200, 200]
    assert reopened.get_cookie(REMEMBER) is not None  # not deleted on the way


def test_a_session_cookie_alone_is_refused_from_another_client(app, client, db):
    user = make_user(make_org())
    _remembered(app, client, user.email)
    stolen = _fresh(app, {SESSION: client.get_cookie(SESSION).value})
    resp = stolen.get("/cabinet", environ_base=OTHER_BROWSER)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    # The owner's own session goes on.
    assert _pages(client) == [200, 200, 200]


def test_a_remembered_login_survives_a_new_address(app, client, db):
    """Strong protection wipes the session of a client seen with another address or user
    agent; the remember cookie, checked again, logs it back in at once."""
    user = make_user(make_org())
    _remembered(app, client, user.email)
    moved = {**BROWSER, "REMOTE_ADDR": "198.51.100.20"}
    assert _pages(client, moved) == [200, 200, 200]
    assert client.get_cookie(REMEMBER) is not None


@pytest.mark.parametrize("how", ["logout", "password"])
def test_logout_and_a_password_change_end_a_remembered_login(app, client, db, how):
    from accounts.models import User
    from core.transaction import commit

    user = make_user(make_org())
    value = _remembered(app, client, user.email)
    if how == "logout":
        token = csrf_of(client, "/cabinet")
        client.post("/logout", data={"csrf_token": token}, environ_base=BROWSER)
        assert client.get_cookie(REMEMBER) is None  # deleted with the answer
    else:
        db.session.get(User, user.id).session_version += 1  # what a password change does
        commit()
        # An old copy of the cookie proves nothing any more.
        resp = _fresh(app, {REMEMBER: value}).get("/cabinet", environ_base=BROWSER)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    resp = client.get("/cabinet", environ_base=BROWSER)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
