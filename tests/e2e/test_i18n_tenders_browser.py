"""The tenders area in Russian in real Chromium (issue 18): the registry, the notice, the
cabinet and the draft editor at 1280 and 390 px hold no English once the scripts ran, and
the longer Russian words push nothing sideways off a phone's screen."""

from __future__ import annotations

import pytest

from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.test_i18n_tenders import CODES, _customer
from tests.i18n_check import untranslated_english

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]
# What sticks out past a phone's screen (named in the failure).
WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > 391)
  .map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right)
    + ' ' + (el.textContent || '').slice(0, 60)).slice(0, 15)"""


@pytest.mark.parametrize(
    "server", [{"mode": "threading", "BABEL_DEFAULT_LOCALE": "ru"}], indirect=True
)
def test_tender_pages_in_russian_on_a_phone_and_a_laptop(app, server, tmp_path):
    base, _ = server
    number, published_id, draft_id, _, email = _customer(app)
    pages = {
        "registry": "/tenders",
        "notice": f"/tenders/{number}",
        "cabinet": "/cabinet/tenders",
        "new": "/cabinet/tenders/new",
        "draft": f"/cabinet/tenders/{draft_id}",
        "published": f"/cabinet/tenders/{published_id}",
    }
    problems: list[str] = []
    with chromium() as browser:
        for width in (1280, 390):
            context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            watch(page, problems)
            for name, url in pages.items():
                if name == "cabinet":
                    login(page, base, email)
                assert page.goto(base + url).status == 200, url
                if name == "notice":
                    page.wait_for_function(
                        "() => document.querySelector('.countdown').textContent.length > 0"
                    )
                    assert page.locator(".countdown").text_content().startswith("осталось ")
                assert untranslated_english(page.content(), CODES) == [], (width, url)
                page.screenshot(path=str(tmp_path / f"{name}-{width}.png"), full_page=True)
                if width == 390:
                    width_now = page.evaluate("document.scrollingElement.scrollWidth")
                    assert width_now <= 390, (url, page.evaluate(WIDE))
            context.close()
    assert problems == []
