"""The Content Security Policy lets sockets reach this site only, and Chromium still opens
the page's Socket.IO websocket under it."""

from __future__ import annotations

import pytest

from tests.e2e.api_helpers import caller, published
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_live_socket_connects_under_connect_src_self(app, server):
    base, _ = server
    customer = caller(app)
    client = app.test_client()
    tender = published(app, customer)
    supplier = caller(app, customer=False, supplier=True)
    problems: list[str] = []
    with chromium() as browser:
        page = browser.new_context().new_page()
        page.set_default_timeout(TIMEOUT_MS)
        watch(page, problems)
        with page.expect_websocket() as opened:
            login(page, base, supplier.email)
            page.goto(f"{base}/tenders/{tender['number']}")
        socket = opened.value
        page.wait_for_selector(".countdown[data-watching='1']")  # joined the tender's room
    header = client.get("/login").headers["Content-Security-Policy"]
    assert "connect-src 'self';" in header
    host = base.removeprefix("http://")
    assert socket.url.startswith(f"ws://{host}/socket.io/") and "transport=websocket" in socket.url
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
