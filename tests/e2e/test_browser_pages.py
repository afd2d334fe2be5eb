"""Pages that move, in real Chromium: the countdown follows the server's clock, not the
computer's; the category tree filters as one types."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core import clock
from core.transaction import commit
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.factories import make_org, make_user, published_tender

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]


def _published(app, minutes: int) -> tuple[str, int, str]:
    """A committed published tender closing in `minutes`, and a committed draft."""
    from tenders import service

    with app.test_request_context():
        org = make_org(is_supplier=False)
        user = make_user(org)
        tender = published_tender((user, org), deadline=dt.timedelta(minutes=minutes), commit=False)
        draft = service.create_draft(user, org, {"title": "Черновик", "categories": []})
        ids = (tender.number, draft.id, user.email)
        commit()
    return ids


COUNTDOWN_SHOWN = "() => / left$/.test(document.querySelector('.countdown').textContent)"


def _seconds(text: str) -> int:
    found = re.search(r"(?:(\d+) d )?(\d\d):(\d\d):(\d\d) left", text)
    assert found, text
    d, h, m, s = (int(x or 0) for x in found.groups())
    return ((d * 24 + h) * 60 + m) * 60 + s


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_countdown_uses_server_time_and_tree_filters(app, server):
    base, _ = server
    number, draft_id, email = _published(app, minutes=20)
    problems: list[str] = []
    with chromium() as browser:
        # This computer's clock is two hours fast: the countdown must not care.
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.clock.install(time=clock.now() + dt.timedelta(hours=2))
        page.clock.resume()
        watch(page, problems)
        page.goto(f"{base}/tenders/{number}")
        countdown = page.locator(".countdown")
        # Live (anonymous visitors too): the server's answer re-anchors the countdown to its
        # time; wait for it, or it lands after run_for() below and absorbs the 5 s jump.
        page.wait_for_selector(".countdown[data-watching='1']", state="attached")
        page.wait_for_function(COUNTDOWN_SHOWN)
        left = _seconds(countdown.text_content())
        assert 18 * 60 < left <= 20 * 60, countdown.text_content()
        assert "urgent" in countdown.get_attribute("class")  # the last 30 minutes
        page.clock.run_for(5000)
        assert _seconds(countdown.text_content()) <= left - 4

        login(page, base, email)
        page.goto(f"{base}/cabinet/tenders/{draft_id}")
        page.fill(".tree-filter", "цемент")
        cement = page.locator("label", has_text="23.5 ")
        cement.first.wait_for(state="visible")
        assert page.locator("label", has_text="27.3 ").first.is_hidden()
        page.fill(".tree-filter", "")
        page.locator("label", has_text="27.3 ").first.wait_for(state="attached")
    assert problems == []


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_watcher_page_shows_the_new_deadline_without_reload(app, server):
    from tests.e2e.bidding_helpers import bidder, submit_to_server, tender_in_window

    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client)
    with app.test_request_context():
        watcher = make_user(make_org(is_customer=False))
        email = watcher.email
        commit()
    b = bidder(app, client)
    problems: list[str] = []
    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        watch(page, problems)
        login(page, base, email)
        page.goto(f"{base}/tenders/{tender['number']}")
        page.wait_for_selector(".countdown[data-watching='1']", state="attached")
        page.wait_for_function(COUNTDOWN_SHOWN)
        before = page.locator("#deadline-text").text_content()
        left_before = _seconds(page.locator(".countdown").text_content())
        resp = submit_to_server(base, b, tender["id"], {"1": "100.00"})
        assert resp.status_code == 201, resp.text
        page.wait_for_function(
            "before => document.getElementById('deadline-text').textContent !== before",
            arg=before,
        )
        left_after = _seconds(page.locator(".countdown").text_content())
        assert left_after >= left_before + 25 * 60  # 30 minutes more, read live
        assert "extended" in page.locator("ul.flashes").text_content()
    assert problems == []
