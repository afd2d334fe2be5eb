"""A qualified signature from the bid page in Chromium (issue 24): on a tender that requires
КЭП the page offers only the file route; the supplier downloads the canonical file, signs it
with `openssl cms -sign` and the GOST engine (standing in for cryptcp), uploads the .p7s and
finds the revision accepted with the signer named in the receipt."""

from __future__ import annotations

import re

import pytest

from tests.e2e.api_helpers import caller, published
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.gost_helpers import CA_DIR, CRL_DIR, LEGAL, sign

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]  # the API tests run on both

TRUSTED = {
    "mode": "threading",
    "SIGNATURE_TRUSTED_CA_DIR": str(CA_DIR),
    "SIGNATURE_CRL_DIR": str(CRL_DIR),
}
# Chromium logs every non-2xx fetch answer as a console error; the refusal below is expected.
EXPECTED_REFUSAL = "the server responded with a status of 422"


@pytest.mark.parametrize("server", [TRUSTED], indirect=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_supplier_signs_the_downloaded_file_and_uploads_the_signature(app, server, tmp_path, width):
    base, _ = server
    tender = published(app, criteria=False, qualified_signature_required=True)
    supplier = caller(app, customer=False, supplier=True, inn=LEGAL["inn"], ogrn=LEGAL["ogrn"])
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, supplier.email)
        page.goto(f"{base}/tenders/{tender['number']}/bid")
        # bid-form.js starts after the page's load (Platform.ready): typed before, a price is
        # overwritten by the form's start and the download button does nothing yet.
        page.wait_for_selector("#bid-form[data-ready='1']", state="attached")
        assert page.locator("#qualified-only-note").is_visible()
        assert page.locator("#submit-bid").count() == 0  # no browser-key form here
        assert page.locator("#qualified-submit").is_disabled()
        page.fill("#price-1", "90")

        with page.expect_download() as download:
            page.click("#qualified-download")
        signed = tmp_path / download.value.suggested_filename
        download.value.save_as(signed)
        assert signed.name == f"bid-{tender['number']}-r1.json"
        assert page.locator("#qualified-file-name").inner_text().startswith("Downloaded ")

        # A signature over other bytes is refused with the reason; nothing is stored.
        other = tmp_path / "other.p7s"
        other.write_bytes(sign("le256", signed.read_bytes() + b" ", tmp_path))
        page.set_input_files("#qualified-signature", str(other))
        page.click("#qualified-submit")
        errors = page.locator("#bid-errors.flash-error")
        errors.wait_for()
        assert "other bytes" in errors.inner_text()

        good = tmp_path / "bid.json.p7s"
        good.write_bytes(sign("le256", signed.read_bytes(), tmp_path))
        page.set_input_files("#qualified-signature", str(good))
        page.click("#qualified-submit")
        # Read in one check: the page reloads 1.5 s after it shows the result (the receipt).
        accepted = re.compile(r"Revision 1 accepted .*Signed by Поставкин Сергей Петрович")
        page.locator("#bid-result.flash-success", has_text=accepted).wait_for()
        page.locator("#receipt-revision", has_text="1").wait_for()
        shown = page.locator("#receipt-signed-with").inner_text()
        assert "Qualified electronic signature" in shown and "112-233-445 95" in shown
        # The reloaded page fits the screen (no sideways scrolling on a phone), measured once
        # it is laid out with its style sheet (its script starts after the load): the receipt
        # shows as soon as the HTML is parsed.
        page.wait_for_selector("#bid-form[data-ready='1']", state="attached")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, overflow
        context.close()
    assert [p for p in problems if EXPECTED_REFUSAL not in p] == []


@pytest.mark.parametrize("server", [TRUSTED], indirect=True)
def test_csv_bid_signed_with_a_qualified_signature(app, server, tmp_path):
    base, _ = server
    tender = published(app, criteria=False, qualified_signature_required=True)
    supplier = caller(app, customer=False, supplier=True, inn=LEGAL["inn"], ogrn=LEGAL["ogrn"])
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, supplier.email)
        page.goto(f"{base}/tenders/{tender['number']}/bid")
        page.click("#csv-bid-link")
        page.wait_for_selector("#submit-csv[data-ready='1']", state="attached")  # script started
        page.set_input_files(
            "#csv-file",
            files=[
                {"name": "p.csv", "mimeType": "text/csv", "buffer": "№;Цена\r\n1;90\r\n".encode()}
            ],
        )
        page.click("#upload-button")
        page.locator("#preview-table tbody tr[data-position='1']").wait_for()
        assert page.locator("#qualified-only-note").is_visible()
        assert page.locator("#submit-csv").is_hidden()
        with page.expect_download() as download:
            page.click("#qualified-download")
        signed = tmp_path / download.value.suggested_filename
        download.value.save_as(signed)
        good = tmp_path / "bid.json.p7s"
        good.write_bytes(sign("le512", signed.read_bytes(), tmp_path))
        page.set_input_files("#qualified-signature", str(good))
        page.click("#qualified-submit")
        page.locator("#csv-result.flash-success", has_text="Revision 1 accepted").wait_for()
        page.wait_for_url(f"{base}/tenders/{tender['number']}/bid")
        shown = page.locator("#receipt-signed-with").inner_text()
        assert "GOST R 34.10-2012 (512)" in shown and "Поставкин" in shown
        context.close()
    assert problems == []
