"""Notifications in Russian in real Chromium (issue 18): the live accreditation notice and
badge are worded by Platform.t (static/i18n/ru.json), and the inbox, subscriptions and
«Торги для меня» fit a phone's width with their longer Russian words. Screenshots go to
$I18N_SHOTS when set (to look at them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.events import record_event
from core.transaction import commit
from tests.e2e.api_helpers import draft_body
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.test_browser_live_state import CONNECTED, _people
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]

RUSSIAN = [{"mode": "threading", "JOBS_MODE": "inprocess", "BABEL_DEFAULT_LOCALE": "ru"}]


@pytest.mark.parametrize("server", RUSSIAN, indirect=True)
def test_the_live_accreditation_notice_in_russian(app, server):
    base, _ = server
    org_id, org_name, email, operator_email, _number = _people(app)
    problems: list[str] = []
    with chromium() as browser:
        supplier = browser.new_context(locale="ru-RU")
        supplier.set_default_timeout(TIMEOUT_MS)
        cabinet = supplier.new_page()
        watch(cabinet, problems)
        login(cabinet, base, email)
        cabinet.goto(base + "/cabinet")
        cabinet.wait_for_function(CONNECTED)
        operator = browser.new_context(locale="ru-RU")
        operator.set_default_timeout(TIMEOUT_MS)
        desk = operator.new_page()
        login(desk, base, operator_email)
        desk.goto(base + "/operator/accreditation")
        with desk.expect_navigation():
            row = desk.locator("tr", has_text=org_name)
            row.locator("button", has_text="Аккредитовать").click()
        notice = f"Организация {org_name} аккредитована."
        cabinet.locator(".flash-success", has_text=notice).wait_for()
        badge = f"[data-accreditation-org='{org_id}'][data-accreditation='badge']"
        cabinet.wait_for_function(
            f"() => document.querySelector(\"{badge}\").textContent === 'аккредитована'"
        )
    assert problems == []


def _reader(app) -> tuple[str, str]:
    from notifications import subscriptions
    from tenders import schemas, service

    with app.test_request_context():
        customer = make_org(name="ООО «Энергосбыт Урала»", is_supplier=False)
        buyer = make_user(customer)
        supplier = make_org(name="ООО «Кабельный завод»", is_customer=False)
        reader = make_user(supplier, name="Борис Кабельщиков", locale="ru")
        subscriptions.create(
            reader,
            {
                "name": "Кабельная продукция по Уралу",
                "categories": ["27"],
                "regions": ["66", "74"],
                "keywords": ["кабель силовой"],
                "price_min": "100000",
                "by_email": True,
                "in_cabinet": True,
                "frequency": "daily",
            },
        )
        commit()
        numbers = []
        titles = ("Поставка кабеля силового ВВГнг-LS", "Кабель контрольный КВВГ, вторая партия")
        for title in titles:
            body = draft_body(title=title)
            tender = service.create_draft(buyer, customer, schemas.TenderCreate().load(body))
            service.publish(buyer, customer, tender.id)
            subscriptions.follow(reader, tender.id)
            numbers.append(tender.number)
            commit()
        record_event("tender.extended", tender.id, {"number": tender.number, "extensions": 1})
        commit()
        return reader.email, numbers[0]


@pytest.mark.parametrize("server", RUSSIAN, indirect=True)
def test_notification_pages_in_russian_fit_desktop_and_phone(app, server):
    base, _ = server
    email, number = _reader(app)
    shots = Path(os.environ["I18N_SHOTS"]) if os.environ.get("I18N_SHOTS") else None
    pages = {
        "inbox": ("/cabinet/notifications", "Уведомления"),
        "subscriptions": ("/cabinet/subscriptions", "Подписки"),
        "for-me": ("/cabinet/for-me", "Торги для меня"),
        "subscription": ("/cabinet/subscriptions/new", "Новая подписка"),
    }
    problems: list[str] = []
    with chromium() as browser:
        for width in (1280, 390):
            context = browser.new_context(locale="ru-RU", viewport={"width": width, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            watch(page, problems)
            login(page, base, email)
            for name, (path, heading) in pages.items():
                page.goto(base + path)
                assert page.get_attribute("html", "lang") == "ru"
                assert page.locator("h1").first.text_content().startswith(heading), path
                # The page's content fits (its tables scroll in their own boxes on a phone).
                overflow = page.evaluate(
                    "(m => m.scrollWidth - m.clientWidth)(document.querySelector('main'))"
                )
                if overflow > 0:
                    problems.append(f"{path} at {width} px is {overflow} px too wide")
                if shots:
                    shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
            assert number in page.goto(base + "/cabinet/notifications").text()
            context.close()
    assert problems == []


@pytest.mark.parametrize(
    "server", [{"mode": "eventlet", "BABEL_DEFAULT_LOCALE": "ru"}], indirect=True
)
def test_the_live_extension_notice_in_russian(app, server):
    from core import clock
    from tests.e2e.bidding_helpers import bidder, submit_to_server, tender_in_window

    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client)
    a = bidder(app, client)
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context(locale="ru-RU")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        page.clock.install(time=clock.now())
        page.clock.resume()
        page.goto(f"{base}/tenders/{tender['number']}")
        page.wait_for_selector(".countdown[data-watching='1']", state="attached")
        # The notice is written in the catalog's words: the catalog may come after the
        # socket's answer on a busy machine (the countdown speaks Russian once it is here).
        page.locator(".countdown", has_text="осталось").wait_for()
        assert submit_to_server(base, a, tender["id"], {"1": "100.00"}).status_code == 201
        page.locator("ul.flashes", has_text="Срок подачи заявок продлён до").wait_for()
        text = page.locator("ul.flashes").text_content()
        assert "МСК (в последние минуты изменилось предложение)." in text, text
    assert problems == []
