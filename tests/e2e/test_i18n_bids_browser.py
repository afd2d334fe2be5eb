"""The bid path in Russian in real Chromium (issue 18): a supplier generates a signing key,
prices a position on the bid form, sees a refused offer's problems and the accepted
revision in Russian (moments in МСК), then the CSV page's preview summary in Russian."""

from __future__ import annotations

import re

import pytest

from tests.e2e.api_helpers import published
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.test_browser_bidding import EXPECTED_REFUSAL
from tests.e2e.test_i18n_bids import _criteria

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]

RUSSIAN_SERVER = {"mode": "threading", "BABEL_DEFAULT_LOCALE": "ru"}


def _shoot(page, folder, name: str) -> None:
    """Screenshots at desktop and phone widths (kept in the test's tmp folder for review)."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("server", [RUSSIAN_SERVER], indirect=True)
def test_bid_form_and_csv_page_in_russian(app, server, tmp_path):
    base, _ = server
    tender = published(app)
    from tests.e2e.api_helpers import caller

    supplier = caller(app, customer=False, supplier=True, name="ООО «Поставщик»")
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, supplier.email)

        page.goto(base + "/cabinet/keys")
        page.wait_for_selector("#generate-key:enabled")
        assert page.locator("h1").inner_text() == "Ключи электронной подписи"
        page.fill("#new-key-label", "Ключ бухгалтера")
        page.click("#generate-key")
        page.locator(
            "#webcrypto-status.flash-success", has_text="создан и зарегистрирован"
        ).wait_for()
        row = page.locator("#keys-table tr", has_text="Ключ бухгалтера")
        row.locator(".local-mark", has_text="в этом браузере").wait_for()
        _shoot(page, tmp_path, "keys")

        page.goto(f"{base}/tenders/{tender['number']}/bid")
        page.wait_for_selector("#submit-bid:enabled")
        assert page.locator("#submit-bid").inner_text() == "Подписать и подать"
        page.fill("#price-1", "100,5")  # above the maximum 95,50
        page.locator("#price-1").blur()
        page.click("#submit-bid")
        errors = page.locator("#bid-errors.flash-error")
        errors.wait_for()
        assert "В предложении 2 ошибки; ничего не сохранено." in errors.inner_text()
        assert "цена за единицу 100,5 выше НМЦ за единицу 95,50" in errors.inner_text()
        for criterion in _criteria(tender):
            field = f"#crit-{criterion['lot']}-{criterion['criterion']}"
            if page.locator(field).evaluate("el => el.tagName") == "SELECT":
                page.select_option(field, criterion["value"])
            else:
                page.fill(field, criterion["value"])
        page.fill("#price-1", "90")
        page.locator("#price-1").blur()
        assert page.locator("#total-1").inner_text() == "135\u00a0000,00"
        page.click("#submit-bid")
        # One check: the page reloads a second after it shows the result (the receipt).
        accepted = re.compile(r"Редакция 1 принята .* МСК\.\s*$")
        page.locator("#bid-result.flash-success", has_text=accepted).wait_for()
        page.locator("#receipt-revision", has_text="1").wait_for()
        page.wait_for_selector("#submit-bid:enabled")
        assert page.locator("#receipt h2").inner_text() == "Квитанция о приёме редакции 1"
        assert page.input_value("#price-1") == "90,00"  # the accepted price, decimal comma
        _shoot(page, tmp_path, "bid-form")

        page.goto(f"{base}/tenders/{tender['number']}/bid/csv")
        page.wait_for_selector("#submit-csv[data-ready='1']", state="attached")
        csv = "№ позиции;Цена за единицу\n1;89,90\n2;\n"
        page.set_input_files(
            "#csv-file", {"name": "цены.csv", "mimeType": "text/csv", "buffer": csv.encode()}
        )
        page.click("#upload-button")
        summary = page.locator("#preview-summary")
        summary.locator("dt", has_text="Изменения").wait_for()
        text = summary.inner_text()
        assert "цены.csv: 2 строки" in text and "разделитель — точка с запятой" in text
        assert "редакция 2" in text
        assert page.locator("#preview-table tbody tr").first.inner_text().endswith("цена снижена")
        _shoot(page, tmp_path, "csv")

        page.goto(base + "/signature-check")
        page.wait_for_selector("#sign-check:enabled")
        page.click("#sign-check")
        page.locator("#check-result.flash-success", has_text="Подпись проверена").wait_for()
        _shoot(page, tmp_path, "check")
    assert [p for p in problems if EXPECTED_REFUSAL not in p] == []
