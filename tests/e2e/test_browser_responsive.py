"""The main pages on a 390 px phone and a 1280 px laptop in real Chromium (issue 19.16-17):
no sideways scroll of the page, the folded menu reaches every item, the header is one line
at 1280 px, every visible field has a label, the skip link moves the focus to the content."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from accounts.models import Membership
from core import clock, jobs
from core.extensions import db
from core.transaction import commit
from tests.e2e.api_helpers import caller, draft_body, future, published
from tests.e2e.bidding_helpers import bid, bidder
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]

HEADER_ITEMS = ".topbar nav a, .topbar .user-menu a, .topbar .user-menu button"
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.checkVisibility())
  .filter(el => {
    const byLabel = [...(el.labels || [])].some(l => l.textContent.trim());
    const byAria = (el.getAttribute('aria-label') || '').trim();
    const byRef = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
      .some(id => (document.getElementById(id) || {}).textContent);
    return !(byLabel || byAria || byRef);
  })
  .map(el => el.outerHTML.slice(0, 120))"""


def _positions(n: int) -> list[dict]:
    return [
        {
            "number": str(i),
            "name": f"Кабель силовой с медными жилами ВВГнг(А)-LS 5x{i}0 ГОСТ 31996-2012 {i}",
            "quantity": str(100 * i),
            "unit_code": "006",
            "max_unit_price": f"{1000 + i}.50",
        }
        for i in range(1, n + 1)
    ]


def _data(app) -> dict:
    """A customer with a long published tender (30 positions) and a closed one with a bid;
    an operator with an organization to accredit."""
    customer = caller(app, name="Публичное акционерное общество «Очень длинное название»")
    lots = draft_body()["lots"][:1]
    lots[0]["positions"] = _positions(30)
    long = published(app, customer, bid_deadline=future(30), questions_until=None, lots=lots)
    closing = published(app, customer)
    supplier = bidder(app)
    bid(app, supplier, closing["id"], {"3": "1000"})
    clock.advance(dt.timedelta(days=11))
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") >= 1
    with app.test_request_context():
        make_user(make_org(accreditation_status="pending"))  # a row with a rejection reason
        operator = make_user(is_operator=True).email
        commit()
    return {
        "operator": operator,
        "customer": customer.email,
        "supplier": supplier.who.email,
        "long": long["number"],
        "closed_id": closing["id"],
    }


def _pages(d: dict) -> list[tuple[str | None, str]]:
    return [
        (None, "/"),
        (None, "/tenders"),
        (None, f"/tenders/{d['long']}"),
        (None, "/login"),
        (d["supplier"], "/"),
        (d["supplier"], "/tenders"),
        (d["supplier"], f"/tenders/{d['long']}"),
        (d["supplier"], "/cabinet"),
        (d["supplier"], f"/tenders/{d['long']}/bid"),
        (d["supplier"], "/cabinet/notifications"),
        (d["customer"], f"/cabinet/tenders/{d['closed_id']}"),
        (d["customer"], f"/cabinet/tenders/{d['closed_id']}/review"),
        (d["customer"], "/cabinet/dashboard"),
        (d["operator"], "/operator/accreditation"),
    ]


def _inside(page, selector: str, width: int) -> list[str]:
    """Texts of the matching elements that are hidden or not wholly inside the viewport."""
    out = []
    for item in page.locator(selector).all():
        box = item.bounding_box()
        if not item.is_visible() or box is None or box["x"] < 0 or box["x"] + box["width"] > width:
            out.append(item.inner_text())
    return out


def _check_phone(page, url: str) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390, url
    menu = page.locator(".nav-menu > summary")
    assert menu.is_visible(), url
    assert page.locator(".topbar nav a").first.is_hidden(), url  # folded
    menu.click()
    assert page.locator(HEADER_ITEMS).count() >= 2, url
    assert _inside(page, HEADER_ITEMS, 390) == [], url
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390, url
    menu.click()
    page.locator(".topbar nav a").first.wait_for(state="hidden")


def _check_laptop(page, url: str) -> None:
    assert page.locator(".nav-menu > summary").is_hidden(), url
    tops = {round(b["y"]) for b in (a.bounding_box() for a in page.locator(".topbar nav a").all())}
    assert len(tops) == 1, (url, tops)  # one line
    assert page.evaluate("document.querySelector('.topbar').offsetHeight") <= 40, url
    assert _inside(page, HEADER_ITEMS, 1280) == [], url


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_pages_fit_a_phone_and_one_line_header_on_a_laptop(app, server):
    base, _ = server
    d = _data(app)
    problems: list[str] = []
    with chromium() as browser:
        for width in (390, 1280):
            contexts = {}
            for who, url in _pages(d):
                if who not in contexts:
                    context = browser.new_context(viewport={"width": width, "height": 800})
                    context.set_default_timeout(TIMEOUT_MS)
                    contexts[who] = context.new_page()
                    watch(contexts[who], problems)
                    if who:
                        login(contexts[who], base, who)
                page = contexts[who]
                resp = page.goto(base + url)
                assert resp.status == 200, url
                assert page.evaluate(UNLABELLED) == [], url
                if width == 390:
                    _check_phone(page, url)
                else:
                    _check_laptop(page, url)
            page = contexts[d["supplier"]]
            page.goto(f"{base}/tenders/{d['long']}/bid")
            assert _inside(page, ".price-input", width) == []  # every price within reach
            for context in {p.context for p in contexts.values()}:
                context.close()
    assert problems == []


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_skip_link_moves_the_focus_to_the_content(app, server):
    base, _ = server
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 800})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(base + "/tenders")
        skip = page.locator(".skip-link")
        assert (skip.bounding_box() or {"y": -1})["y"] < 0  # off screen until focused
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        box = skip.bounding_box()
        assert box["y"] >= 0 and box["x"] + box["width"] <= 390
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
        assert float(outline.removesuffix("px")) >= 2  # a visible focus ring
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.activeElement.id === 'main'")
        page.keyboard.press("Tab")  # the next stop is inside the content, not the header
        assert page.evaluate("document.activeElement.closest('main') !== null")


def _demo_like(app) -> list[str]:
    """Like the demo's widest headers: supplier3 (admin of three customer-and-supplier
    organizations: every menu item and the organization switch) and the operator."""
    with app.test_request_context():
        user = make_user(make_org(name="АО «Кабель-Снаб»"))
        for name in ("ООО «Метиз-Торг»", "Публичное акционерное общество «Очень длинное название»"):
            db.session.add(Membership(user_id=user.id, organization_id=make_org(name=name).id))
        operator = make_user(is_operator=True)
        commit()
        return [user.email, operator.email]


@pytest.mark.parametrize(
    "server", [{"mode": "threading", "BABEL_DEFAULT_LOCALE": "ru"}], indirect=True
)
def test_russian_and_english_header_on_one_line_at_1280(app, server):
    base, _ = server
    users = _demo_like(app)
    shots = os.environ.get("SHOTS_DIR")
    problems: list[str] = []
    with chromium() as browser:
        for lang, locale in (("ru", "ru-RU"), ("en", "en-US")):
            for width in (1280, 390):
                for who in (None, *users):
                    context = browser.new_context(
                        viewport={"width": width, "height": 800}, locale=locale
                    )
                    context.set_default_timeout(TIMEOUT_MS)
                    context.add_cookies([{"name": "lang", "value": lang, "url": base}])
                    page = context.new_page()
                    watch(page, problems)
                    if who:
                        login(page, base, who)
                        page.request.post(  # the user's own setting wins over the cookie
                            f"{base}/language",
                            form={"lang": lang, "csrf_token": _csrf(page)},
                        )
                    for url in ("/", "/tenders"):
                        page.goto(base + url)
                        assert page.get_attribute("html", "lang") == lang
                        if shots:
                            tag = who.split("@")[0] if who else "guest"
                            name = url.strip("/") or "home"
                            page.screenshot(path=f"{shots}/header-{lang}-{tag}-{name}-{width}.png")
                        if width == 1280:
                            _check_laptop(page, url)
                            assert page.evaluate("document.scrollingElement.scrollWidth") <= 1280
                        else:
                            _check_phone(page, url)
                    context.close()
    assert problems == []


def _csrf(page) -> str:
    return page.get_attribute("input[name=csrf_token]", "value")
