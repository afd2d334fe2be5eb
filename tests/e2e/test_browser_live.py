"""The notice page live in real Chromium for an anonymous visitor: it follows the deadline's
extensions, never says "closed" before the server does, and ignores pushes older than what
it shows."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from core.transaction import commit
from tests.e2e.bidding_helpers import bidder, submit_to_server, tender_in_window
from tests.e2e.browser import TIMEOUT_MS, chromium, watch
from tests.e2e.test_browser_pages import _seconds

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]


def _anonymous_page(browser, base: str, number: str, problems: list[str]):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watch(page, problems)
    page.clock.install(time=clock.now())
    page.clock.resume()
    page.goto(f"{base}/tenders/{number}")
    page.wait_for_selector(".countdown[data-watching='1']", state="attached")
    # The countdown ticks once the page's catalog is loaded (Platform.ready), which may come
    # after the server's answer on a busy machine: until then it is empty.
    page.wait_for_function("() => document.querySelector('.countdown').textContent !== ''")
    return page


def _deadline_soon(app, tender_id: int, seconds: int) -> None:
    """Move the deadline to a few seconds from now (as if the tender had been open for days)."""
    from tenders.models import Tender

    with app.app_context():
        from core.extensions import db

        db.session.get(Tender, tender_id).bid_deadline = clock.now() + dt.timedelta(seconds=seconds)
        commit()


def _close(app, tender_id: int) -> str:
    from tenders import closing

    with app.app_context():
        outcome = closing.close(tender_id)
        commit()
    return outcome


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_anonymous_notice_follows_the_extension_past_the_original_deadline(app, server):
    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client)
    a = bidder(app, client)
    problems: list[str] = []
    with chromium() as browser:
        page = _anonymous_page(browser, base, tender["number"], problems)
        countdown = page.locator(".countdown")
        before = page.locator("#deadline-text").text_content()
        assert submit_to_server(base, a, tender["id"], {"1": "100.00"}).status_code == 201
        page.wait_for_function(
            "before => document.getElementById('deadline-text').textContent !== before",
            arg=before,
        )
        assert "extended" in page.locator("ul.flashes").text_content()
        # Eleven minutes later on the visitor's clock: past the original deadline (10 min),
        # and bidding runs on for some 29 minutes.
        extended = dt.datetime.fromisoformat(countdown.get_attribute("data-deadline"))
        page.clock.fast_forward("11:00")  # fires the countdown's tick
        left = _seconds(countdown.text_content())
        expected = (extended - clock.now() - dt.timedelta(minutes=11)).total_seconds()
        assert expected - 60 < left <= expected + 1, countdown.text_content()
        assert "closed" not in countdown.get_attribute("class")
    assert problems == []


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_the_page_says_closed_only_when_the_server_does(app, server):
    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=120)
    resp = submit_to_server(base, bidder(app, client), tender["id"], {"1": "1.00"})
    assert resp.status_code == 201, resp.text
    _deadline_soon(app, tender["id"], seconds=3)
    problems: list[str] = []
    with chromium() as browser:
        page = _anonymous_page(browser, base, tender["number"], problems)
        countdown = page.locator(".countdown")
        # The deadline passes; nobody has closed the tender yet (no job runs in this test).
        page.wait_for_function(
            "() => document.querySelector('.countdown').textContent.includes('deadline reached')"
        )
        assert "waiting for the platform" in countdown.text_content()
        assert "closed" not in countdown.get_attribute("class")
        assert page.locator("#status-badge").text_content() == "published"
        # The platform closes it: the page, asking at the deadline, says so.
        assert _close(app, tender["id"]) == "closed"
        page.wait_for_function("() => document.querySelector('.countdown.closed') !== null")
        assert countdown.text_content() == "bidding closed"
        assert page.locator("#status-badge").text_content() == "closed"
    assert problems == []


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_the_page_ignores_pushes_older_than_what_it_shows(app, server):
    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=120)
    problems: list[str] = []
    with chromium() as browser:
        page = _anonymous_page(browser, base, tender["number"], problems)
        order = page.evaluate(
            """() => [Live.order(null, 1), Live.order(1, 2), Live.order(1, 3),
                      Live.order(3, 3), Live.order(3, 2), Live.order(2, "x")]"""
        )
        assert order == ["next", "next", "gap", "stale", "stale", "stale"]
        # Extensions #1, #3, #2 arrive in that order (two web processes): #3 stays shown.
        start = dt.datetime.fromisoformat(tender["bid_deadline"])
        deadlines = {n: (start + dt.timedelta(minutes=30 * n)).isoformat() for n in (1, 2, 3)}
        shown = page.evaluate(
            """([tenderId, deadlines]) => {
                const fire = (n) => Live.socket.listeners("deadline_extended").forEach((fn) =>
                    fn({tender_id: tenderId, extensions: n, deadline: deadlines[n],
                        previous: deadlines[n], server_time: new Date().toISOString()}));
                [1, 3, 2].forEach(fire);
                const el = document.querySelector(".countdown");
                return [el.dataset.deadline, el.dataset.extensions,
                        document.getElementById("deadline-text").textContent,
                        Platform.formatMoment(deadlines[3], el.dataset.timezone)];
            }""",
            [tender["id"], {str(k): v for k, v in deadlines.items()}],
        )
        assert shown[0] == deadlines[3] and shown[1] == "3" and shown[2] == shown[3]
        # The gap (#1 to #3) made it ask the server, whose answer (no extension) is older:
        # once an answer to a later question is back, that one is too (one connection).
        page.evaluate(
            """(tenderId) => new Promise((done) =>
                Live.socket.emit("watch_tender", {tender_id: tenderId}, done))""",
            tender["id"],
        )
        assert (
            page.evaluate("document.querySelector('.countdown').dataset.deadline") == (deadlines[3])
        )
    assert problems == []
