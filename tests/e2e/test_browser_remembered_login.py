"""The "keep me logged in" box in real Chromium (issue 19.6): the browser is closed keeping its
cookies, i.e. a new context holding only the remember cookie (the session cookie dies with
the browser); two pages later the supplier is still logged in."""

from __future__ import annotations

import pytest

from core.transaction import commit
from tests.e2e.browser import TIMEOUT_MS, chromium, watch
from tests.factories import PASSWORD, make_org, make_user

pytestmark = pytest.mark.live


def _user(app) -> str:
    with app.test_request_context():
        email = make_user(make_org()).email
        commit()
    return email


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_reopened_browser_stays_logged_in_page_after_page(app, server):
    base, _ = server
    email = _user(app)
    problems: list[str] = []
    with chromium() as browser:
        first = browser.new_context()
        first.set_default_timeout(TIMEOUT_MS)
        page = first.new_page()
        watch(page, problems)
        page.goto(base + "/login")
        page.fill("#f-email", email)
        page.fill("#f-password", PASSWORD)
        page.check("#f-remember")
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert page.url.endswith("/cabinet"), page.url
        cookies = {c["name"]: c for c in first.cookies()}
        assert {"session", "remember_token"} <= cookies.keys()
        first.close()

        # The browser reopened: only the persistent remember cookie is left.
        reopened = browser.new_context()
        reopened.set_default_timeout(TIMEOUT_MS)
        reopened.add_cookies([cookies["remember_token"]])
        page = reopened.new_page()
        watch(page, problems)
        for path in ("/cabinet", "/tokens", "/cabinet/notifications", "/cabinet"):
            page.goto(base + path)
            assert page.url == base + path, f"{path} went to {page.url}"
            assert page.locator("header button", has_text="Log out").count() == 1, path
        names = {c["name"] for c in reopened.cookies()}
        assert "remember_token" in names, names  # not deleted on the way

        # Logging out ends it: the remember cookie goes too.
        with page.expect_navigation():
            page.click("header button:has-text('Log out')")
        assert "remember_token" not in {c["name"] for c in reopened.cookies()}
        page.goto(base + "/cabinet")
        assert "/login" in page.url, page.url
    assert problems == []
