"""Bidding in a real browser: a supplier generates a key in Chromium, prices positions on the
bid form, gets every problem of a refused offer listed, signs and submits revisions 1 and 2,
and finds the platform's signed receipt of the last revision at the top of the form."""

from __future__ import annotations

import base64

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e.api_helpers import caller, published
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch

pytestmark = pytest.mark.live

# Chromium logs every non-2xx fetch answer as a console error; the refused offer is expected.
EXPECTED_REFUSAL = "the server responded with a status of 422"


def _generate_key(page, base: str) -> None:
    page.goto(base + "/cabinet/keys")
    page.wait_for_selector("#generate-key:enabled")
    page.fill("#new-key-label", "Bidding key")
    page.click("#generate-key")
    row = page.locator("#keys-table tr", has_text="Bidding key")
    row.locator(".local-mark", has_text="in this browser").wait_for()


def _open_form(page, base: str, number: str) -> None:
    page.goto(f"{base}/tenders/{number}/bid")
    page.wait_for_selector("#submit-bid:enabled")


def _submit_accepted(page, revision: int) -> None:
    """Sign and submit; wait for the result and for the reloaded form with the new receipt."""
    page.click("#submit-bid")
    accepted = f"Revision {revision} accepted at "
    page.locator("#bid-result.flash-success", has_text=accepted).wait_for()
    page.locator("#receipt-revision", has_text=str(revision)).wait_for()
    page.wait_for_selector("#submit-bid:enabled")


def _check_receipt(page, base: str, revision: int) -> None:
    """The receipt at the top is the exact signed text: the platform key verifies it."""
    receipt = page.locator("#receipt")
    assert receipt.locator("h2").inner_text() == f"Receipt of revision {revision}"
    receipt.locator("summary").click()
    assert "openssl dgst -sha256 -verify" in receipt.locator("details").inner_text()
    shown = page.locator("#receipt-json[data-canonical='1']").text_content()
    signature = base64.b64decode(page.locator("#receipt-signature").text_content().strip())
    pem = requests.get(base + "/platform-key.pem", timeout=5).content
    platform = serialization.load_pem_public_key(pem)
    platform.verify(signature, shown.encode(), ec.ECDSA(hashes.SHA256()))  # raises if wrong
    assert f'"revision":{revision}' in shown


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_supplier_prices_signs_and_revises_a_bid_in_the_browser(app, server):
    base, _ = server
    tender = published(app)
    number, lot = tender["number"], tender["lots"][0]
    criteria = {c["name"]: c["id"] for c in lot["criteria"]}
    warranty = f"#crit-1-{criteria['Гарантия']}"
    deferral = f"#crit-1-{criteria['Отсрочка платежа']}"
    supplier = caller(app, customer=False, supplier=True)
    problems: list[str] = []

    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, supplier.email)
        _generate_key(page, base)

        _open_form(page, base, number)
        assert page.locator("#bid-status").inner_text() == "no bid yet"
        assert page.locator("#receipt").count() == 0
        assert page.locator("#sign-key option").count() == 1
        page.wait_for_selector(".countdown[data-watching='1']")  # live (notice.js)
        assert "price every position" in page.locator("tr[data-position='3']").text_content()

        # A price above the maximum: every problem is listed, nothing is stored.
        page.fill("#price-1", "999")
        page.fill("#price-2", "110,50")  # decimal comma
        assert page.locator("#total-2").inner_text() == "88,400.00"
        page.fill(warranty, "24")
        page.select_option(deferral, "30 дней")
        page.click("#submit-bid")
        errors = page.locator("#bid-errors.flash-error")
        errors.wait_for()
        item = errors.locator("li[data-field='lines.1.unit_price']")
        assert "above the maximum unit price 95.50" in item.inner_text()
        assert errors.locator("li").count() == 1
        assert page.locator("#bid-result").is_hidden()

        # What was typed survives a reload (and so paging): kept in sessionStorage.
        page.reload()
        page.wait_for_selector("#submit-bid:enabled")
        assert page.input_value("#price-1") == "999"
        assert page.input_value("#price-2") == "110,50"
        assert page.input_value(warranty) == "24"

        page.fill("#price-1", "95")
        assert page.locator("#total-1").inner_text() == "142,500.00"
        _submit_accepted(page, 1)
        _check_receipt(page, base, 1)
        assert page.locator("#bid-status").inner_text() == "Participant 1, revision 1"
        assert page.input_value("#price-1") == "95.00"  # the accepted offer, edits forgotten
        assert page.input_value(deferral) == "30 дней"

        page.fill("#price-2", "105")
        _submit_accepted(page, 2)
        _check_receipt(page, base, 2)
        assert page.locator("#bid-status").inner_text() == "Participant 1, revision 2"
        assert page.locator("#revisions-table tbody tr").count() == 2
        context.close()

    mine = app.test_client().get(f"/api/v1/tenders/{tender['id']}/bid", headers=supplier.headers)
    revisions = mine.get_json()["revisions"]
    assert [r["number"] for r in revisions] == [1, 2]
    assert revisions[0]["total"] == "230900.00"  # 1500 x 95.00 + 800 x 110.50
    assert revisions[1]["total"] == "226500.00"  # 1500 x 95.00 + 800 x 105.00
    csp = [m for m in problems if "Content Security Policy" in m]
    assert not csp, csp
    unexpected = [m for m in problems if not (EXPECTED_REFUSAL in m and "/bid/prepare" in m)]
    assert not unexpected, unexpected
