"""The main path in Russian in real Chromium (issue 18): the registry (filters, result rows),
a notice, the bid form, the CSV upload preview and the published results, on a server whose
default is Russian and a ru-RU browser: the glossary's words, money as 1 234,50, moments in
МСК, regions by name, and no English left on the page. SHOTS_DIR keeps screenshots at
1280 and 390 px."""

from __future__ import annotations

import os
import re

import pytest

from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.results_helpers import decide_in_browser
from tests.e2e.test_browser_responsive import _data
from tests.i18n_check import untranslated_english

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]

MONEY = re.compile(r"\d{1,3}(\u00a0\d{3})*,\d{2}")  # 1 234,50 (no-break spaces)
MOMENT = re.compile(r"\d\d\.\d\d\.\d{4} \d\d:\d\d(:\d\d)? МСК")


def _shoot(page, name: str) -> None:
    folder = os.environ.get("SHOTS_DIR")
    if not folder:
        return
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{folder}/main-path-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _main(page) -> str:
    return page.locator("main").inner_text()


# Latin words that may stay: file formats and encodings, program names.
ALLOWED = {"CSV", "BOM", "Excel", "LibreOffice", "UTF", "Windows", "xlsx", "utf", "csv", "txt"}


def _english(page, d: dict | None = None) -> list[str]:
    """Texts with English words, but for the test data's own names: organizations (OOO Test
    n), users (User n, the commission's chair too) and signing keys ("test (ecdsa-p256,
    fingerprint)")."""
    found = untranslated_english(page.content(), ALLOWED)
    own = r"(OOO Test \d+\s*)+|test \(ecdsa-p256, [0-9a-f]+\)|User \d+( \(председатель\))?"
    return [t for t in found if not re.fullmatch(own, t)]


@pytest.mark.parametrize(
    "server", [{"mode": "threading", "BABEL_DEFAULT_LOCALE": "ru"}], indirect=True
)
def test_main_path_in_russian(app, server):
    base, _ = server
    d = _data(app)
    problems: list[str] = []
    english: dict[str, list[str]] = {}
    with chromium() as browser:
        context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)

        # The registry: filters and result rows.
        page.goto(f"{base}/tenders")
        assert page.get_attribute("html", "lang") == "ru"
        rows = page.locator("table tbody tr", has_text=d["long"]).inner_text()
        assert "Свердловская область" in rows  # a region by name, never "66"
        assert "попозиционная закупка" in rows.lower() and "приём заявок" in rows.lower()
        assert MONEY.search(rows) and " ₽" in rows.replace("\u00a0", " ")
        assert MOMENT.search(rows)
        heads = page.locator("table thead").inner_text()
        assert "НМЦК" in heads and "Окончание подачи заявок" in heads
        english["registry"] = _english(page)
        _shoot(page, "registry")

        # A notice.
        page.goto(f"{base}/tenders/{d['long']}")
        text = _main(page)
        assert "1\u00a0001,50" in text  # the first position's maximum unit price
        assert MOMENT.search(text) and "Свердловская область" in text
        page.locator(".countdown", has_text="осталось").wait_for()
        english["notice"] = _english(page)
        _shoot(page, "notice")

        # The bid form and the CSV upload preview, as the supplier.
        login(page, base, d["supplier"])
        page.goto(f"{base}/tenders/{d['long']}/bid")
        page.wait_for_selector("#submit-bid", state="attached")
        text = _main(page)
        assert "Моя заявка" in text and "Срок окончания подачи заявок" in text
        assert "НМЦ за единицу" in text and "Цена за единицу" in text and MOMENT.search(text)
        assert page.locator("#submit-bid").inner_text() == "Подписать и подать"
        assert _english(page, d) == []
        _shoot(page, "bid-form")

        page.goto(f"{base}/tenders/{d['long']}/bid/csv")
        page.wait_for_selector("#submit-csv[data-ready='1']", state="attached")
        csv = "№ позиции;Цена за единицу\n1;1000,50\n2;\n"
        page.set_input_files(
            "#csv-file", {"name": "цены.csv", "mimeType": "text/csv", "buffer": csv.encode()}
        )
        page.click("#upload-button")
        summary = page.locator("#preview-summary")
        summary.locator("dt", has_text="Изменения").wait_for()
        text = summary.inner_text().replace("\u00a0", " ")
        assert "цены.csv: 2 строки" in text and "разделитель — точка с запятой" in text
        assert "100 050,00 ₽" in text and "редакция 1" in text
        assert "Проверено: цена указана для 1 позиции, ошибок нет." in _main(page)
        assert _english(page, d) == []
        _shoot(page, "csv-preview")
        context.close()

        # The customer publishes the results; the public results page.
        context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, d["customer"])
        page.goto(f"{base}/cabinet/tenders/{d['closed_id']}/review")
        decide_in_browser(page)
        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            page.click("#publish-results")
        number = page.locator("h1").inner_text().split(": ")[-1]
        page.goto(f"{base}/tenders/{number}/results")
        text = _main(page)
        assert page.locator("#results-summary h2").inner_text() == "Итоги"
        for words in ("Итоги опубликованы", "Победитель", "Сумма по победителям", "Лот 2"):
            assert words in text, words
        assert MOMENT.search(text) and "40 000,00 ₽" in text.replace("\u00a0", " ")
        assert _english(page, d) == []
        _shoot(page, "results")
        context.close()
    assert english == {"registry": [], "notice": []}
    assert problems == []
