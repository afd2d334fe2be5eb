"""Helpers for driving the app over HTTP like a browser."""

from __future__ import annotations

import re

from tests.factories import PASSWORD


def csrf_of(client, url: str) -> str:
    """The CSRF token of the form on a page."""
    page = client.get(url)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found, f"no CSRF token on {url} (status {page.status_code})"
    return found.group(1)


def login(client, email: str, password: str = PASSWORD, address: str | None = None):
    """Submit the login form (optionally from another client address); returns the response."""
    token = csrf_of(client, "/login")
    extra = {"environ_base": {"REMOTE_ADDR": address}} if address else {}
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, **extra
    )


def post_form(client, page: str, action: str, data: dict):
    """Submit a form found on `page` to `action` with its CSRF token."""
    return client.post(action, data={**data, "csrf_token": csrf_of(client, page)})
