"""The JavaScript catalog in real Chromium (docs/i18n.md): a Russian page loads
static/i18n/ru.json (no inline script: CSP), the countdown speaks Russian and names Moscow
time МСК, not GMT+3."""

from __future__ import annotations

import pytest

from tests.e2e.browser import TIMEOUT_MS, chromium, watch
from tests.e2e.test_browser_pages import _published

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]


@pytest.mark.parametrize(
    "server", [{"mode": "threading", "BABEL_DEFAULT_LOCALE": "ru"}], indirect=True
)
def test_countdown_and_moments_in_russian(app, server):
    base, _ = server
    number, _, _ = _published(app, minutes=90)
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context(locale="ru-RU")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        page.goto(f"{base}/tenders/{number}")
        assert page.get_attribute("html", "lang") == "ru"
        page.wait_for_function("() => document.querySelector('.countdown').textContent.length > 0")
        assert page.locator(".countdown").text_content().startswith("осталось 01:")
        moment = page.evaluate(
            "window.Platform.formatMoment('2026-12-06T11:30:05Z', 'Europe/Moscow')"
        )
        assert moment == "06.12.2026 14:30:05 МСК"
        english = context.new_page()
        english.set_extra_http_headers({"Accept-Language": "en"})
        english.context.add_cookies([{"name": "lang", "value": "en", "url": base}])
        english.goto(f"{base}/tenders/{number}")
        english.wait_for_function(
            "() => document.querySelector('.countdown').textContent.length > 0"
        )
        assert english.locator(".countdown").text_content().endswith(" left")
        english.evaluate("window.Platform.ready")
        closed = (
            "Bidding closed at {at} with {n} participants. The customer now reviews the offers."
        )
        says = "(n) => window.Platform.t('" + closed + "', {at: 'x', n: n})"
        assert english.evaluate(says, 1).startswith("Bidding closed at x with 1 participant.")
        assert english.evaluate(says, 2).startswith("Bidding closed at x with 2 participants.")
        assert page.evaluate(says, 1).startswith("Приём заявок завершён x, 1 участник.")
        assert page.evaluate(says, 5).startswith("Приём заявок завершён x, 5 участников.")
    assert problems == []
