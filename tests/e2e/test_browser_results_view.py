"""Issues 19.4 and 19.11 in Chromium: the bid form shows the best price and the supplier's
own rank per position and follows other bids live (rank_only: the best-price pushes); once
the results are published the notice names the participants, greys a disqualified offer
with its reason, highlights the winner, and shows each participant its own price and
reason. Screenshots at 1280 and 390 px when UI_SHOTS names a folder."""

from __future__ import annotations

import os

import pytest

from tests.e2e.api_helpers import caller, draft_body
from tests.e2e.bidding_helpers import bidder, offer, submit, submit_to_server
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.results_helpers import close_and_publish

pytestmark = pytest.mark.live

REASON = "No certificate of conformity for position 1 (section 4.2)"


def _shot(page, name: str) -> None:
    folder = os.environ.get("UI_SHOTS")
    if not folder:
        return
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=os.path.join(folder, f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _auction(app) -> dict:
    client = app.test_client()
    customer = caller(app, name="PAO Customer")
    body = draft_body(visibility="rank_only")
    body["lots"][0]["criteria"] = []
    body["lots"][0]["price_weight"] = "100"
    tender = client.post("/api/v1/tenders", json=body, headers=customer.headers).get_json()
    resp = client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=customer.headers)
    assert resp.status_code == 200, resp.get_json()
    who = {
        "alfa": bidder(app, client, name="OOO Alfa"),
        "beta": bidder(app, client, name="OOO Beta"),
        "gamma": bidder(app, client, name="OOO Gamma"),
    }
    for name, prices in (("alfa", {"1": "90.00", "2": "50.00"}), ("beta", {"1": "85.00"})):
        assert submit(client, who[name], tender["id"], offer(prices)).status_code == 201
    return {"tender": resp.get_json(), "customer": customer, **who}


def _text(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_bid_form_standing_live_and_the_published_notice(app, server):
    base, _ = server
    auction = _auction(app)
    tender = auction["tender"]
    number = tender["number"]
    problems: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        watch(page, problems)
        login(page, base, auction["alfa"].who.email)

        # -- the bid form: best price and own rank per position -------------------------
        page.goto(f"{base}/tenders/{number}/bid")
        page.wait_for_selector("#bid-lines[data-standing='rank']")
        assert _text(page, "#best-1") == "85.00" and _text(page, "#rank-1") == "2"
        assert _text(page, "#best-2") == "50.00" and _text(page, "#rank-2") == "1"
        assert "best" in page.locator("#rank-2").get_attribute("class")
        # Only the best price and the own rank: no competitor's price or name on the page.
        assert "OOO Beta" not in page.content()
        page.wait_for_selector(".countdown[data-watching='1']")  # joined the tender's rooms
        page.wait_for_selector("#bid-form[data-ready='1']", state="attached")  # follows pushes
        _shot(page, "bid-form-standing")

        # Live: Beta lowers its price; Gamma undercuts Alfa on position 2.
        assert (
            submit_to_server(base, auction["beta"], tender["id"], {"1": "80.00"}).status_code == 201
        )
        page.locator("#best-1", has_text="80.00").wait_for()
        assert (
            submit_to_server(base, auction["gamma"], tender["id"], {"2": "45.00"}).status_code
            == 201
        )
        page.locator("#best-2", has_text="45.00").wait_for()
        page.locator("#rank-2", has_text="2").wait_for()  # the rank comes from the server
        assert "best" not in (page.locator("#rank-2").get_attribute("class") or "")
        assert _text(page, "#standing-bids") == "3"

        # -- results published: Beta disqualified on lot 1 -------------------------------
        auction["tender"] = tender
        close_and_publish(app, app.test_client(), auction, disqualify=("beta", 1, REASON))
        page.goto(f"{base}/tenders/{number}#offers")
        table = page.locator("table.offers-results")
        table.wait_for()
        heads = [h.strip() for h in table.locator("thead th").all_inner_texts()]
        assert heads[3:] == ["OOO Alfa (you)", "OOO Beta", "OOO Gamma"]
        assert "Participant" not in page.locator("#offers").inner_text()
        dq = page.locator("#offers tr[data-position='1'] td.offer-dq")
        assert dq.locator("s").inner_text() == "80.00"
        assert REASON in dq.inner_text()
        # Greyed: muted text on a grey background.
        colour = dq.evaluate("el => getComputedStyle(el).color")
        assert colour == "rgb(106, 115, 125)", colour
        winner = page.locator("#offers tr[data-position='1'] td.offer-winner")
        assert winner.get_attribute("data-participant") == "1" and "90.00" in winner.inner_text()
        winner2 = page.locator("#offers tr[data-position='2'] td.offer-winner")
        assert "45.00" in winner2.inner_text()
        _shot(page, "notice-results-alfa")

        # Beta: its own price and the reason under "Your results".
        page.context.clear_cookies()
        login(page, base, auction["beta"].who.email)
        page.goto(f"{base}/tenders/{number}")
        own = page.locator("#own-results")
        own.wait_for()
        assert "80.00" in own.inner_text() and REASON in own.inner_text()
        assert "90.00" in own.inner_text()  # the winning price
        _shot(page, "notice-results-beta")

        # Not a participant: no offers, no names but the winners' in the summary.
        outsider = bidder(app, app.test_client(), name="OOO Outsider")
        page.context.clear_cookies()
        login(page, base, outsider.who.email)
        page.goto(f"{base}/tenders/{number}")
        offers = page.locator("#offers")
        assert "only the customer and the participants see the offers" in offers.inner_text()
        assert "80.00" not in page.content() and "OOO Beta" not in page.content()

        # No horizontal scroll of the page at 390 px (a wide table scrolls in its box).
        page.set_viewport_size({"width": 390, "height": 900})
        login(page, base, auction["alfa"].who.email)
        page.goto(f"{base}/tenders/{number}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
    assert problems == []
