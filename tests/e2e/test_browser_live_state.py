"""Live messages update the page state they announce, in real Chromium (issue 19.8): the
"accredited" push turns the cabinet's PENDING badge and "you cannot bid" notice into the new
state and shows the notice page's bid button; a generated key appears in the keys table
with its confirmation still on screen (no reload)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.transaction import commit
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.factories import make_org, make_user, published_tender

pytestmark = pytest.mark.live

# Set before the action, still there after it: the page was not reloaded.
MARK = "window.__notReloaded = true"
NOT_RELOADED = "window.__notReloaded === true"
CONNECTED = "() => Boolean(window.Live && window.Live.socket && window.Live.socket.connected)"


def _people(app) -> tuple[int, str, str, str, str]:
    """A pending supplier and its user, an operator, and a published tender of another
    (accredited) organization."""
    with app.test_request_context():
        customer = make_org(is_supplier=False)
        author = make_user(customer)
        tender = published_tender((author, customer), deadline=dt.timedelta(days=5), commit=False)
        supplier = make_org(accreditation_status="pending", is_customer=False)
        user = make_user(supplier)
        operator = make_user(is_operator=True)
        found = (supplier.id, supplier.name, user.email, operator.email, tender.number)
        commit()
    return found


def _hidden(page, selector: str) -> bool:
    return page.eval_on_selector(selector, "el => el.classList.contains('hidden')")


@pytest.mark.parametrize("server", [{"mode": "threading", "JOBS_MODE": "inprocess"}], indirect=True)
def test_accreditation_push_updates_the_cabinet_and_the_notice(app, server):
    base, _ = server
    org_id, org_name, email, operator_email, number = _people(app)
    problems: list[str] = []
    with chromium() as browser:
        supplier = browser.new_context()
        supplier.set_default_timeout(TIMEOUT_MS)
        cabinet = supplier.new_page()
        watch(cabinet, problems)
        login(cabinet, base, email)
        cabinet.goto(base + "/cabinet")
        badge = f"[data-accreditation-org='{org_id}'][data-accreditation='badge']"
        assert cabinet.text_content(badge) == "pending"  # shown upper-case by the CSS
        assert not _hidden(cabinet, "#accreditation-pending")
        notice = supplier.new_page()
        watch(notice, problems)
        notice.goto(f"{base}/tenders/{number}")
        assert not _hidden(notice, "#bid-after-accreditation")
        assert _hidden(notice, "#bid-link")
        for page in (cabinet, notice):
            page.wait_for_function(CONNECTED)
            page.evaluate(MARK)

        operator = browser.new_context()
        operator.set_default_timeout(TIMEOUT_MS)
        desk = operator.new_page()
        login(desk, base, operator_email)
        desk.goto(base + "/operator/accreditation")
        row = desk.locator("tr", has_text=org_name)
        with desk.expect_navigation():
            row.locator("button", has_text="Accredit").click()

        # The cabinet: the message, the badge and no "you cannot bid" any more.
        cabinet.locator(".flash-success", has_text=f"{org_name} is now accredited").wait_for()
        cabinet.wait_for_function(
            f"() => document.querySelector(\"{badge}\").textContent === 'accredited'"
        )
        assert "badge-accredited" in cabinet.get_attribute(badge, "class")
        assert "badge-pending" not in cabinet.get_attribute(badge, "class")
        assert _hidden(cabinet, "#accreditation-pending")
        # The notice: the bid button instead of "you can bid once accredited".
        notice.locator("#bid-link:not(.hidden)").wait_for()
        assert _hidden(notice, "#bid-after-accreditation")
        for page in (cabinet, notice):
            assert page.evaluate(NOT_RELOADED)
        with notice.expect_navigation():
            notice.click("#bid-link a")
        assert notice.url.endswith(f"/tenders/{number}/bid"), notice.url
    assert problems == []


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_a_generated_key_appears_with_its_confirmation_on_screen(app, server):
    base, _ = server
    with app.test_request_context():
        email = make_user(make_org()).email
        commit()
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, email)
        page.goto(base + "/cabinet/keys")
        page.wait_for_selector("#generate-key:enabled")
        page.evaluate(MARK)
        page.fill("#new-key-label", "Office laptop")
        page.click("#generate-key")
        row = page.locator("#keys-table tr", has_text="Office laptop")
        row.locator(".local-mark", has_text="in this browser").wait_for()
        assert row.locator("button", has_text="Revoke").count() == 1
        assert page.locator("#keys-table tr", has_text="No keys yet").count() == 0
        status = page.locator(
            "#webcrypto-status.flash-success", has_text="generated and registered"
        )
        assert status.is_visible()
        page.wait_for_timeout(1500)  # the old page reloaded within a second
        assert page.evaluate(NOT_RELOADED) and status.is_visible()
        assert page.input_value("#new-key-label") == ""
    assert problems == []


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_the_bid_button_goes_when_the_tender_closes(app, server):
    from tests.e2e.bidding_helpers import bidder, submit_to_server, tender_in_window
    from tests.e2e.test_browser_live import _close, _deadline_soon

    base, _ = server
    client = app.test_client()
    tender = tender_in_window(app, client, minutes=120)
    b = bidder(app, client)
    assert submit_to_server(base, b, tender["id"], {"1": "1.00"}).status_code == 201
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, problems)
        login(page, base, b.who.email)
        page.goto(f"{base}/tenders/{tender['number']}")
        page.wait_for_selector(".countdown[data-watching='1']", state="attached")
        assert not _hidden(page, "#bid-link")
        _deadline_soon(app, tender["id"], seconds=3)
        page.reload()  # the page learns the moved deadline (moved behind its back here)
        page.wait_for_selector(".countdown[data-watching='1']", state="attached")
        page.evaluate(MARK)
        page.wait_for_function(
            "() => document.querySelector('.countdown').textContent.includes('deadline reached')"
        )
        assert not _hidden(page, "#bid-link")
        assert _close(app, tender["id"]) == "closed"
        page.locator("#bid-link.hidden").wait_for(state="attached")
        assert page.locator("#status-badge").text_content() == "closed"
        assert page.evaluate(NOT_RELOADED)
    assert problems == []
