""" "My bids" in Chromium: a competitor's revision in the last minutes extends the deadline
and the row's countdown and standing follow live; the follow buttons of the registry switch
in place through the API (issue 22)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.bidding_helpers import bid, bidder, submit_to_server, tender_in_window
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.test_browser_live import _deadline_soon

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_my_bids_follows_an_extension_and_the_new_best_price(app, server):
    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=120)
    a, b = bidder(app, client), bidder(app, client)
    bid(app, a, tender["id"], {"1": "100.00"})  # not in the last 30 minutes: no extension
    _deadline_soon(app, tender["id"], seconds=600)
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, a.who.email)
        page.goto(f"{base}/cabinet/bids")
        row = page.locator(f'tr[data-tender="{tender["id"]}"]')
        countdown = row.locator(".countdown")
        before = countdown.get_attribute("data-deadline")
        assert "leading on 1 of 1" in row.locator("td.standing").text_content()
        page.wait_for_selector("#workspace[data-watched]", state="attached")  # rooms joined
        assert submit_to_server(base, b, tender["id"], {"1": "90.00"}).status_code == 201
        page.wait_for_function(
            "n => document.getElementById('workspace').dataset.refreshed >= n", arg="1"
        )
        row = page.locator(f'tr[data-tender="{tender["id"]}"]')
        after = row.locator(".countdown").get_attribute("data-deadline")
        assert dt.datetime.fromisoformat(after) > dt.datetime.fromisoformat(before)
        assert "extended 1 time" in row.text_content()
        assert "leading on 0 of 1" in row.locator("td.standing").text_content()
        assert row.locator(".countdown").text_content().strip() != ""
    assert problems == []


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_follow_from_the_registry_without_leaving_it(app, server):
    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=120)
    a = bidder(app, client)
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, a.who.email)
        page.goto(f"{base}/tenders?q={tender['number']}")
        form = page.locator(f'form.follow-toggle[data-tender="{tender["id"]}"]')
        form.locator("button").click()
        page.wait_for_function(
            "id => document.querySelector(`form.follow-toggle[data-tender='${id}']`)"
            ".dataset.following === '1'",
            arg=str(tender["id"]),
        )
        assert page.url.endswith(f"/tenders?q={tender['number']}")
        assert form.locator("button").text_content().strip() == "Following"
        page.goto(f"{base}/cabinet/followed")
        assert page.locator(f'tr[data-tender="{tender["id"]}"]').count() == 1
        page.locator(f'form.follow-toggle[data-tender="{tender["id"]}"] button').click()
        page.wait_for_function(
            "id => document.querySelector(`form.follow-toggle[data-tender='${id}']`)"
            ".dataset.following === '0'",
            arg=str(tender["id"]),
        )
    with app.app_context():
        from notifications.subscriptions import is_following

        assert not is_following(a.who.user_id, tender["id"])
    assert problems == []
