"""Signing a bid through CryptoPro's browser plug-in, in Chromium (issue 24). The plug-in is
a native program no test machine has, so a stand-in (cryptopro_fake.js) answers its
asynchronous API; its SignCades signs with `openssl cms` and Debian's GOST engine and the
test centre's keys. Everything else is real: the page lists the store's certificates, the
platform says which can sign for the organization and why the others cannot, the signature
goes through the bid path and is verified as any CAdES file."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.e2e.api_helpers import caller, published
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.helpers import login as client_login
from tests.gost_helpers import CA_DIR, CRL_DIR, LEGAL, certificate_pem, sign_b64

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]

TRUSTED = {
    "mode": "threading",
    "SIGNATURE_TRUSTED_CA_DIR": str(CA_DIR),
    "SIGNATURE_CRL_DIR": str(CRL_DIR),
}
FAKE = (Path(__file__).parent / "cryptopro_fake.js").read_text()


def _der(name: str) -> str:
    return "".join(line for line in certificate_pem(name).splitlines() if "-----" not in line)


def _plugin(context, tmp_path, store: list[tuple[str, bool]]) -> None:
    """The stand-in plug-in in every page of the context, with these certificates (name,
    has a private key) in the user's store."""
    entries = [{"name": n, "der": _der(n), "hasKey": has_key} for n, has_key in store]
    context.add_init_script(script=FAKE.replace("__STORE__", json.dumps(entries)))

    def gost_sign(name: str, content_b64: str) -> str:
        return sign_b64(name, base64.b64decode(content_b64), tmp_path)

    context.expose_function("__gostSign", gost_sign)


STORE = [("le256", True), ("other256", True), ("revoked", True), ("plain", True), ("le512", False)]


@pytest.mark.parametrize("server", [TRUSTED], indirect=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_bid_signed_through_the_plug_in(app, server, tmp_path, width):
    base, _ = server
    tender = published(app, criteria=False, qualified_signature_required=True)
    supplier = caller(app, customer=False, supplier=True, inn=LEGAL["inn"], ogrn=LEGAL["ogrn"])
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        _plugin(context, tmp_path, STORE)
        page = context.new_page()
        watch(page, problems)
        login(page, base, supplier.email)
        page.goto(f"{base}/tenders/{tender['number']}/bid")
        page.wait_for_selector("#qualified-sign[data-plugin='ready']", state="attached")
        # One certificate names the organization; the others are shown with their reason;
        # the one without a private key is not offered at all.
        options = page.locator("#cryptopro-certificate option")
        assert options.count() == 1
        assert "Поставкин Сергей Петрович" in options.first.inner_text()
        assert LEGAL["inn"] in options.first.inner_text()
        unusable = page.locator("#cryptopro-unusable li").all_inner_texts()
        assert len(unusable) == 3
        assert any("another organization" in u for u in unusable)
        assert any("revoked" in u for u in unusable)
        assert any("not a qualified one" in u for u in unusable)
        assert "found 1 certificate that can sign" in page.inner_text("#cryptopro-status")

        page.fill("#price-1", "90")
        page.click("#cryptopro-submit")
        # Read in one check: the page reloads 1.5 s after it shows the result (the receipt).
        accepted = re.compile(r"Revision 1 accepted .*Signed by Поставкин Сергей Петрович")
        page.locator("#bid-result.flash-success", has_text=accepted).wait_for()
        page.locator("#receipt-revision", has_text="1").wait_for()
        assert "Qualified electronic signature" in page.inner_text("#receipt-signed-with")
        signed = [c for c in page.evaluate("window.__cryptoproCalls") if c[0] == "SignCades"]
        assert signed == [], signed  # the page reloaded: the calls of this page only
        page.wait_for_selector("#qualified-sign[data-plugin='ready']", state="attached")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, overflow  # the certificates' list fits a phone too
        page.locator("#sign").screenshot(path=str(tmp_path / f"cryptopro-{width}.png"))

        # The user cancels CryptoPro's PIN dialog: said so, nothing is stored.
        page.evaluate("window.__cryptoproCancel = true")
        page.fill("#price-1", "80")
        page.click("#cryptopro-submit")
        page.locator("#bid-errors.flash-error", has_text="Signing was cancelled").wait_for()
        calls = [c for c in page.evaluate("window.__cryptoproCalls") if c[0] == "SignCades"]
        assert calls == [["SignCades", "le256", 1, True, 1, 1]]  # detached CAdES-BES, time
        assert page.locator("#revisions-table tbody tr").count() == 1
        assert page.locator("#cryptopro-submit").is_enabled()
        context.close()
    assert problems == []


@pytest.mark.parametrize("server", [TRUSTED], indirect=True)
def test_csv_bid_signed_through_the_plug_in(app, server, tmp_path):
    base, _ = server
    tender = published(app, criteria=False, qualified_signature_required=True)
    supplier = caller(app, customer=False, supplier=True, inn=LEGAL["inn"], ogrn=LEGAL["ogrn"])
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        _plugin(context, tmp_path, [("le512", True)])
        page = context.new_page()
        watch(page, problems)
        login(page, base, supplier.email)
        page.goto(f"{base}/tenders/{tender['number']}/bid/csv")
        page.wait_for_selector("#qualified-sign[data-plugin='ready']", state="attached")
        assert page.locator("#cryptopro-submit").is_disabled()  # nothing uploaded yet
        page.set_input_files(
            "#csv-file",
            files=[
                {"name": "p.csv", "mimeType": "text/csv", "buffer": "№;Цена\r\n1;90\r\n".encode()}
            ],
        )
        page.click("#upload-button")
        page.locator("#preview-table tbody tr[data-position='1']").wait_for()
        page.click("#cryptopro-submit")
        page.locator("#csv-result.flash-success", has_text="Revision 1 accepted").wait_for()
        page.wait_for_url(f"{base}/tenders/{tender['number']}/bid")
        shown = page.inner_text("#receipt-signed-with")
        assert "GOST R 34.10-2012 (512)" in shown and "Поставкин" in shown
        context.close()
    assert problems == []


@pytest.mark.parametrize("server", [TRUSTED], indirect=True)
def test_improved_offer_in_a_round_signed_through_the_plug_in(app, server, gost_trust, tmp_path):
    """On a tender that requires КЭП the round's form offers the qualified panel alone."""
    from tests.e2e.test_qualified_signatures_api import qualified_round

    base, _ = server
    tender, legal = qualified_round(app, app.test_client(), tmp_path)
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        _plugin(context, tmp_path, [("le256", True)])
        page = context.new_page()
        watch(page, problems)
        login(page, base, legal.who.email)
        page.goto(f"{base}/tenders/{tender['number']}/rebidding")
        assert page.locator("#qualified-only-note").is_visible()
        assert page.locator("#rebid-submit").count() == 0  # no browser-key route here
        page.wait_for_selector("#qualified-sign[data-plugin='ready']", state="attached")
        page.fill("input[name='price-1']", "88,50")
        page.click("#cryptopro-submit")
        result = page.locator("#rebid-result:not(.hidden)")
        result.wait_for()
        assert "Revision 2 accepted" in result.inner_text()
        assert "Поставкин Сергей Петрович" in result.inner_text()
        context.close()
    assert problems == []


@pytest.mark.parametrize("server", [TRUSTED], indirect=True)
def test_without_the_plug_in_the_file_route_alone(app, server):
    base, _ = server
    tender = published(app, criteria=False, qualified_signature_required=True)
    supplier = caller(app, customer=False, supplier=True, inn=LEGAL["inn"], ogrn=LEGAL["ogrn"])
    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        login(page, base, supplier.email)
        page.goto(f"{base}/tenders/{tender['number']}/bid")
        page.wait_for_selector("#qualified-sign[data-plugin='absent']", state="attached")
        assert page.locator("#cryptopro-sign").is_hidden()
        assert "was not found in this browser" in page.inner_text("#cryptopro-status")
        assert page.locator("#qualified-download").is_enabled()


def test_the_operator_serves_cadesplugin_api(app, client, db):
    """With CRYPTOPRO_PLUGIN_API_URL the bid pages load CryptoPro's script and the CSP admits
    its browser extension; without it neither."""
    tender = published(app, criteria=False, qualified_signature_required=True)
    supplier = caller(app, customer=False, supplier=True, inn=LEGAL["inn"], ogrn=LEGAL["ogrn"])
    client_login(client, supplier.email)
    url = "/static/vendor/cryptopro/cadesplugin_api.js"
    page = client.get(f"/tenders/{tender['number']}/bid")
    assert url not in page.text
    assert "chrome-extension:" not in page.headers["Content-Security-Policy"]
    app.config["CRYPTOPRO_PLUGIN_API_URL"] = url
    try:
        for path in (f"/tenders/{tender['number']}/bid", f"/tenders/{tender['number']}/bid/csv"):
            page = client.get(path)
            assert page.status_code == 200
            assert f'<script src="{url}"></script>' in page.text
            csp = page.headers["Content-Security-Policy"]
            assert "script-src 'self' chrome-extension://iifchhfnnmpdbibifmljnfjhpififfog" in csp
    finally:
        app.config["CRYPTOPRO_PLUGIN_API_URL"] = None
