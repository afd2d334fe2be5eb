"""The re-bidding round in real Chromium: an invitee watching the notice of a closed tender
sees the round appear live when the customer announces it (through another client), with a
countdown from the server's time, and its link to the improved-offer form; at 390 px too."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from core import clock
from core.transaction import commit
from tests.e2e.api_helpers import caller
from tests.e2e.bidding_helpers import bidder, submit_to_server, tender_in_window
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.test_browser_bidding import _generate_key
from tests.e2e.test_browser_pages import _seconds

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]


def _tender_and_bidders(app, client):
    """A customer and a tender closing in 40 minutes, with two bidders."""
    customer = caller(app)
    tender = tender_in_window(app, client, minutes=40, customer=customer)
    a, b = bidder(app, client), bidder(app, client)
    return customer, tender, a, b


def _close_now(app, tender_id: int) -> None:
    """Close the tender now (its deadline moved to the past) and evaluate it, in-process."""
    from core.extensions import db
    from results import jobs as result_jobs
    from tenders import closing
    from tenders.models import Tender

    with app.app_context():
        db.session.get(Tender, tender_id).bid_deadline = clock.now() - dt.timedelta(seconds=1)
        commit()
        assert closing.close(tender_id) == "closed"
        commit()
    with app.app_context():
        assert result_jobs.evaluate(tender_id) is True


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_the_round_appears_live_with_its_countdown(app, server, width):
    base, _ = server
    client = app.test_client()
    customer, tender, a, b = _tender_and_bidders(app, client)
    assert submit_to_server(base, a, tender["id"], {"1": "100.00"}).status_code == 201
    assert submit_to_server(base, b, tender["id"], {"1": "90.00"}).status_code == 201
    _close_now(app, tender["id"])
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, a.who.email)
        page.goto(f"{base}/tenders/{tender['number']}")
        # closed, no round yet: the page listens for one (the tender's room)
        page.wait_for_selector("#rebidding[hidden][data-watching='1']", state="attached")
        deadline = clock.now() + dt.timedelta(hours=2)
        resp = requests.post(
            f"{base}/api/v1/tenders/{tender['id']}/rebidding/rounds",
            json={"lots": [1], "deadline": deadline.isoformat()},
            headers=customer.headers,
            timeout=30,
        )
        assert resp.status_code == 201, resp.text
        page.wait_for_selector("#rebidding .countdown[data-round-of]")
        assert (
            "Re-bidding round 1 announced" in page.locator(".rebidding-notice").first.text_content()
        )
        page.wait_for_function(
            "() => / left$/.test(document.querySelector('#rebidding .countdown').textContent)"
        )
        left = _seconds(page.locator("#rebidding .countdown").text_content())
        assert 2 * 3600 - 120 < left <= 2 * 3600
        link = page.locator("#rebidding-offer-link")
        assert link.is_visible()
        link.click()
        page.wait_for_selector("#rebidding-offer tr.rebid-line[data-position='1']")
        page.wait_for_selector("#rebid-submit[data-ready='1']", state="attached")
        # No key of this supplier is stored in this browser: the form says so and waits.
        assert page.locator("#no-local-key").is_visible()
        assert page.locator("#rebid-submit").is_disabled()
        context.close()
    assert problems == []


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_an_improved_criterion_signed_with_a_key_of_this_browser(app, server):
    """A round that takes criteria: the invitee's form shows the lot's criteria with its
    values; a worse warranty is refused beside the field, nothing stored; a longer one with a
    lower price is signed in the browser and becomes the bid's new revision."""
    from bids.service import current_offer, own_bid
    from core.extensions import db
    from tenders.models import Tender
    from tests.e2e.api_helpers import published
    from tests.e2e.bidding_helpers import bid
    from tests.e2e.test_rebidding_api import _criterion_id
    from tests.factories import draft_body

    base, _ = server
    client = app.test_client()
    customer = caller(app)
    tender = published(
        app, customer, deadline=dt.timedelta(minutes=40), lots=draft_body()["lots"][:1]
    )
    warranty = _criterion_id(app, tender["id"], "Гарантия")
    a, b = bidder(app, client), bidder(app, client)
    months = lambda n: [{"lot": 1, "criterion": warranty, "value": n}]  # noqa: E731
    bid(app, a, tender["id"], {"1": "90.00", "2": "100.00"}, criteria=months("24"))
    bid(app, b, tender["id"], {"1": "95.00"}, criteria=months("12"))
    _close_now(app, tender["id"])
    resp = requests.post(
        f"{base}/api/v1/tenders/{tender['id']}/rebidding/rounds",
        json={
            "lots": [1],
            "deadline": (clock.now() + dt.timedelta(hours=2)).isoformat(),
            "scope": "prices_and_criteria",
        },
        headers=customer.headers,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, b.who.email)
        _generate_key(page, base)
        page.goto(f"{base}/tenders/{tender['number']}/rebidding")
        page.wait_for_selector("#rebid-submit[data-ready='1']:enabled")
        field = page.locator(f"#crit-1-{warranty}")
        assert field.input_value() == "12"

        field.fill("6")  # worse than 12 months: refused where the field is, nothing stored
        page.click("#rebid-submit")
        page.locator("#rebid-errors:not(.hidden)").wait_for()
        refusal = page.locator(f"[data-field='criteria.1.{warranty}']").inner_text()
        assert "worse than your previous value" in refusal, refusal

        field.fill("36")
        page.fill("input[name='price-1']", "93,00")
        page.click("#rebid-submit")
        result = page.locator("#rebid-result:not(.hidden)")
        result.wait_for()
        assert "Revision 2 accepted" in result.inner_text()
        context.close()
    assert [p for p in problems if "status of 422" not in p] == []  # the refused prepare
    with app.app_context():
        from accounts.models import Organization

        org = db.session.get(Organization, b.who.org_id)
        offer = current_offer(db.session.get(Tender, tender["id"]), own_bid(org, tender["id"]))
    assert offer["lines"]["1"]["unit_price"] == "93.00"
    assert offer["criteria"][f"1:{warranty}"] == "36"
