"""The customer's review and the published results in Russian in real Chromium (issue 18):
Russian words, ₽ and МСК, no sideways scroll of the page on a phone."""

from __future__ import annotations

import pytest

from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.results_helpers import decide_in_browser
from tests.e2e.test_browser_responsive import _data

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]


@pytest.mark.parametrize(
    "server", [{"mode": "threading", "BABEL_DEFAULT_LOCALE": "ru"}], indirect=True
)
def test_review_and_results_in_russian(app, server):
    base, _ = server
    d = _data(app)
    review = f"{base}/cabinet/tenders/{d['closed_id']}/review"
    problems: list[str] = []
    with chromium() as browser:
        for width in (390, 1280):
            context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 800})
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            watch(page, problems)
            login(page, base, d["customer"])
            page.goto(review)
            page.locator("#comparison").wait_for()
            assert page.locator("h1").inner_text().startswith("Рассмотрение предложений")
            text = page.locator("main").inner_text().replace("\u00a0", " ")
            for expected in ("Сравнение предложений", "Победитель", "Экономия", " ₽", "МСК"):
                assert expected in text, (width, expected)
            assert page.locator("#publish-results").inner_text() == "Опубликовать итоги"
            if width == 390:
                assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
            context.close()
        # Published: the public results page in Russian.
        context = browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 800})
        page = context.new_page()
        watch(page, problems)
        login(page, base, d["customer"])
        page.goto(review)
        decide_in_browser(page)
        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            page.click("#publish-results")
        assert "Итоги опубликованы; участники уведомлены." in page.locator("main").inner_text()
        page.goto(f"{base}/tenders/{page.locator('h1').inner_text().split(': ')[-1]}/results")
        assert page.locator("#results-summary h2").inner_text() == "Итоги"
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        context.close()
    assert problems == []
