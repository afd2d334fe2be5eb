"""The charts in real Chromium under the CSP: the notice's price history (Chart.js on a
canvas) follows the live pushes (an extension appears without a reload) and fits a 390 px
phone."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock, jobs
from tests.e2e.api_helpers import caller
from tests.e2e.bidding_helpers import bid, bidder, submit_to_server, tender_in_window
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]

# The Chart.js instance of a canvas: its datasets' labels and the numbers it draws.
DRAWN = """(selector) => [...document.querySelectorAll(selector)].map((canvas) => {
  const chart = window.Chart.getChart(canvas);
  return chart && {
    type: chart.config.type,
    labels: chart.data.labels || [],
    series: chart.data.datasets.map((d) => d.label || ""),
    values: chart.data.datasets.map((d) =>
      d.data.map((p) => (p && typeof p === "object" ? p.y : p))),
  };
})"""


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_price_history_live_and_narrow(app, server, width):
    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client)
    a = bidder(app, client)
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        page.goto(f"{base}/tenders/{tender['number']}")
        page.wait_for_selector(".countdown[data-watching='1']", state="attached")
        chart = page.locator(".price-chart canvas[role='img']")
        chart.wait_for()
        page.wait_for_selector(".price-chart[data-extensions='0']", state="attached")
        assert page.evaluate(DRAWN, ".price-chart canvas")[0]["type"] == "line"  # Chart.js
        assert page.locator(".price-chart .chart-legend li.extension").count() == 0
        assert submit_to_server(base, a, tender["id"], {"1": "100.00"}).status_code == 201
        # The push makes the chart fetch the history again: the extension is drawn and listed.
        page.wait_for_selector(".price-chart[data-updated]", state="attached")
        page.wait_for_selector(".price-chart[data-extensions='1']", state="attached")
        assert page.locator(".price-chart .chart-legend li.extension").count() == 1
        assert page.locator("#price-history-table tr.extension").count() == 1
        box = chart.bounding_box()
        assert box is not None and box["width"] <= width
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    assert problems == []


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_review_lines_and_dashboard_bars(app, server):
    """After the close the customer's review draws every participant's line beside the best
    price, and the dashboard draws its bars with the numbers of its tables, at 1280 and 390 px,
    with no console errors (CSP)."""
    base, _ = server
    client = app.test_client()
    customer = caller(app)
    tender = tender_in_window(app, client, minutes=20, customer=customer)
    a = bidder(app, client, name="ООО Альфа")
    b = bidder(app, client, name="ООО Бета")
    bid(app, a, tender["id"], {"1": "90.00"})
    bid(app, b, tender["id"], {"1": "85.00"})
    clock.advance(dt.timedelta(days=11))
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") >= 1
    problems: list[str] = []
    with chromium() as browser:
        for width in (1280, 390):
            context = browser.new_context(viewport={"width": width, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            watch(page, problems)
            login(page, base, customer.email)
            page.goto(f"{base}/cabinet/tenders/{tender['id']}/review?history_position=1")
            page.wait_for_selector(".price-chart[data-extensions]", state="attached")
            (history,) = page.evaluate(DRAWN, ".price-chart canvas")
            assert history["type"] == "line"
            assert history["series"][0] and len(history["series"]) == 3  # best, Альфа, Бета
            assert sorted(v for v in history["values"][0] if v is not None)[0] == 85.0
            assert page.locator(".price-chart .chart-legend li:not(.extension)").count() == 3
            # a bid in the last 30 minutes extended the deadline: marked as the table lists it
            marked = int(page.get_attribute(".price-chart", "data-extensions") or 0)
            assert marked >= 1
            assert page.locator("#price-history-table tr.extension").count() == marked
            assert page.locator(".price-chart .chart-legend li.extension").count() == 1
            assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width

            page.goto(f"{base}/cabinet/dashboard")
            page.wait_for_selector(".bar-chart canvas", state="attached")
            bars = page.evaluate(DRAWN, ".bar-chart canvas")
            assert [c["type"] for c in bars] == ["bar", "bar", "bar"]
            stages = dict(zip(bars[0]["labels"], bars[0]["values"][0], strict=True))
            table = page.locator("#stages table tbody tr").all_inner_texts()
            assert {r.split("\t")[0]: int(r.split("\t")[1]) for r in table} == stages
            assert sum(stages.values()) == 1
            for chart in page.locator(".bar-chart canvas").all():
                box = chart.bounding_box()
                assert box is not None and box["width"] > 100 and box["x"] + box["width"] <= width
            assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width
            context.close()
    assert problems == []
