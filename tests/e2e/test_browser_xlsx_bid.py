"""An Excel bid in a real browser (issue 23): the supplier downloads the .xlsx template from
the page, fills it with openpyxl (a second library, as a spreadsheet program would), uploads
it; a wrong price is shown with its cell, the corrected workbook is previewed, signed in the
browser and becomes revision 1."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from tests.e2e.api_helpers import caller, published
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.test_browser_bidding import _generate_key
from tests.e2e.test_browser_csv_bid import EXPECTED_REFUSAL

pytestmark = pytest.mark.live

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filled(template: bytes, prices: dict[str, object]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book["Предложение"]
    header = [c.value for c in sheet[1]]
    number, price = header.index("№ позиции"), header.index("Цена за единицу")
    for row in sheet.iter_rows(min_row=2):
        if row[number].value in prices:
            row[price].value = prices[row[number].value]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(page, name: str, data: bytes) -> None:
    page.set_input_files("#csv-file", files=[{"name": name, "mimeType": XLSX, "buffer": data}])
    page.click("#upload-button")
    page.wait_for_selector("#upload-progress[data-done='1']")


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_supplier_fills_the_xlsx_template_and_signs_it_in_the_browser(app, server):
    base, _ = server
    tender = published(app)
    number, lot = tender["number"], tender["lots"][0]
    criteria = {c["name"]: c["id"] for c in lot["criteria"]}
    supplier = caller(app, customer=False, supplier=True)
    problems: list[str] = []

    with chromium() as browser:
        context = browser.new_context(accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, supplier.email)
        _generate_key(page, base)
        page.goto(f"{base}/tenders/{number}/bid/csv")
        page.wait_for_selector("#submit-csv[data-ready='1']", state="attached")

        with page.expect_download() as download:
            page.click("#download-template-xlsx")
        assert download.value.suggested_filename == f"{number}-unit-prices.xlsx"
        template = Path(download.value.path()).read_bytes()

        # A wrong price: the problem names its cell.
        _upload(page, "prices.xlsx", _filled(template, {"1": 999, "2": "110,50"}))
        rows = page.locator("#problems-table tbody tr")
        rows.first.wait_for()
        assert rows.count() == 1
        assert rows.nth(0).locator("td").nth(0).inner_text() == "2"
        assert "Предложение!H2" in rows.nth(0).inner_text()
        assert "above the maximum unit price" in rows.nth(0).inner_text()
        assert page.locator("#csv-preview").is_hidden()

        # Corrected: previewed, criteria answered, signed and submitted.
        _upload(page, "prices.xlsx", _filled(template, {"1": 95, "2": "110,50"}))
        page.locator("#preview-table tbody tr[data-position='2']").wait_for()
        summary = page.locator("#preview-summary").inner_text()
        assert "230\u00a0900,00" in summary and "first revision" in summary, summary
        page.fill(f"#crit-1-{criteria['Гарантия']}", "24")
        page.select_option(f"#crit-1-{criteria['Отсрочка платежа']}", "30 дней")
        page.wait_for_selector("#submit-csv:enabled")
        page.click("#submit-csv")
        page.locator("#csv-result.flash-success", has_text="Revision 1 accepted").wait_for()
        context.close()

    mine = app.test_client().get(f"/api/v1/tenders/{tender['id']}/bid", headers=supplier.headers)
    assert [r["total"] for r in mine.get_json()["revisions"]] == ["230900.00"]
    unexpected = [m for m in problems if not (EXPECTED_REFUSAL in m and "/bid/csv" in m)]
    assert not unexpected, unexpected
