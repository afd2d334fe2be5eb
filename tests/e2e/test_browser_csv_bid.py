"""A CSV bid in a real browser: a refused file shows every problem with its line, a valid one
its preview; the supplier answers the criteria, signs in the browser and gets revision 1.
Then a file of lot 2 only adds lot 2 and leaves lot 1 as it is (issue 19.7), and an empty
price in a lot-1 file is previewed as dropped. UI_SHOTS=<folder> saves the previews."""

from __future__ import annotations

import os

import pytest

from tests.e2e.api_helpers import caller, published
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.test_browser_bidding import _generate_key

pytestmark = pytest.mark.live

EXPECTED_REFUSAL = "the server responded with a status of 422"


def _upload(page, name: str, text: str, codec: str) -> None:
    page.set_input_files(
        "#csv-file", files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode(codec)}]
    )
    page.click("#upload-button")
    page.wait_for_selector("#upload-progress[data-done='1']")


def _shot(page, name: str) -> None:
    folder = os.environ.get("UI_SHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, name), full_page=True)


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_supplier_uploads_a_csv_bid_and_signs_it_in_the_browser(app, server):
    base, _ = server
    tender = published(app)
    number, lot = tender["number"], tender["lots"][0]
    criteria = {c["name"]: c["id"] for c in lot["criteria"]}
    supplier = caller(app, customer=False, supplier=True)
    problems: list[str] = []

    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, supplier.email)
        _generate_key(page, base)
        page.goto(f"{base}/tenders/{number}/bid")
        page.click("#csv-bid-link")
        page.wait_for_selector("#submit-csv[data-ready='1']", state="attached")

        # A refused file: every problem with its line, nothing stored.
        _upload(page, "bad.csv", "№ позиции;Цена за единицу\r\n1;999\r\n2;abc\r\n", "cp1251")
        rows = page.locator("#problems-table tbody tr")
        rows.first.wait_for()
        assert rows.count() == 2
        assert rows.nth(0).locator("td").nth(0).inner_text() == "2"
        assert "above the maximum unit price" in rows.nth(0).inner_text()
        assert "not a number" in rows.nth(1).inner_text()
        assert page.locator("#csv-preview").is_hidden()

        # A valid file as Excel writes it: the preview, then criteria, sign and submit.
        _upload(
            page, "prices.csv", "№ позиции;Цена за единицу\r\n1;95,00\r\n2;110,50\r\n", "cp1251"
        )
        page.locator("#preview-table tbody tr[data-position='2']").wait_for()
        summary = page.locator("#preview-summary").inner_text()
        assert "230\u00a0900,00" in summary and "first revision" in summary
        page.fill(f"#crit-1-{criteria['Гарантия']}", "24")
        page.select_option(f"#crit-1-{criteria['Отсрочка платежа']}", "30 дней")
        page.wait_for_selector("#submit-csv:enabled")
        page.click("#submit-csv")
        page.locator("#csv-result.flash-success", has_text="Revision 1 accepted").wait_for()
        page.wait_for_url(f"{base}/tenders/{number}/bid")
        page.locator("#receipt-revision", has_text="1").wait_for()

        # The file of lot 2 alone: lot 1 stays as it is, the offer signed holds both lots.
        page.click("#csv-bid-link")
        page.wait_for_selector("#submit-csv[data-ready='1']", state="attached")
        _upload(page, "lot-2.csv", "№ позиции;Цена за единицу\r\n3;500\r\n", "cp1251")
        page.locator("#preview-table tbody tr[data-position='3']").wait_for()
        summary = page.locator("#preview-summary").inner_text()
        assert "the file covers lot 2; lot 1 of your bid stays as it is" in summary, summary
        assert "1 in the file; 3 in the offer to sign (lots 1, 2)" in summary, summary
        assert "250\u00a0900,00" in summary and "2 kept (not in the file)" in summary, summary
        kept = page.locator("#preview-table tbody tr.change-kept")
        assert kept.count() == 2 and "kept (not in the file)" in kept.first.inner_text()
        _shot(page, "csv-preview-lot-2.png")
        page.wait_for_selector("#submit-csv:enabled")
        page.click("#submit-csv")
        page.locator("#csv-result.flash-success", has_text="Revision 2 accepted").wait_for()
        page.wait_for_url(f"{base}/tenders/{number}/bid")
        page.locator("#receipt-revision", has_text="2").wait_for()

        # An empty price in a lot-1 file: previewed as dropped, lot 2 kept.
        page.click("#csv-bid-link")
        page.wait_for_selector("#submit-csv[data-ready='1']", state="attached")
        _upload(page, "lot-1.csv", "№ позиции;Цена за единицу\r\n1;95,00\r\n2;\r\n", "cp1251")
        page.locator("#preview-table tbody tr.change-dropped[data-position='2']").wait_for()
        summary = page.locator("#preview-summary").inner_text()
        assert "the file covers lot 1; lot 2 of your bid stays as it is" in summary, summary
        assert "1 no longer priced" in summary, summary
        _shot(page, "csv-preview-dropped.png")
        page.click("#discard-csv")
        page.locator("#csv-preview").wait_for(state="hidden")
        context.close()

    mine = app.test_client().get(f"/api/v1/tenders/{tender['id']}/bid", headers=supplier.headers)
    revisions = mine.get_json()["revisions"]
    assert [r["total"] for r in revisions] == ["230900.00", "250900.00"]
    unexpected = [m for m in problems if not (EXPECTED_REFUSAL in m and "/bid/csv" in m)]
    assert not unexpected, unexpected
