"""Approval before publication in real Chromium, with two users: a specialist prepares a
draft and sends it for approval, a manager approves the version shown, the specialist
publishes. Screenshots at 1280 and 390 px go to $SCREENSHOT_DIR when it is set."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from core import clock
from core.transaction import commit
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.e2e.test_browser_bidding import _generate_key
from tests.factories import draft_body, make_org, make_user

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]  # the API tests run on both


def _chain(app) -> tuple[int, str, str]:
    """A customer requiring one manager's approval, its specialist's draft: (draft id,
    specialist's email, manager's email)."""
    from approvals import service as approvals
    from tenders import schemas, service

    with app.test_request_context():
        org = make_org(is_supplier=False)
        admin = make_user(org, roles=("administrator",))
        specialist = make_user(org, roles=("specialist",))
        manager = make_user(org, roles=("manager",))
        approvals.save_settings(admin, org, {"publication": True, "approvers": 1})
        body = draft_body(bid_deadline=(clock.now() + dt.timedelta(days=10)).isoformat())
        tender = service.create_draft(specialist, org, schemas.TenderCreate().load(body))
        ids = (tender.id, specialist.email, manager.email)
        commit()
    return ids


def _shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_prepare_approve_publish_with_two_users(app, server):
    base, _ = server
    problems: list[str] = []
    with chromium() as browser:
        for width in (1280, 390):
            tender_id, specialist, manager = _chain(app)
            editor = f"{base}/cabinet/tenders/{tender_id}"
            first = browser.new_context(viewport={"width": width, "height": 900})
            second = browser.new_context(viewport={"width": width, "height": 900})
            try:
                page = first.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                watch(page, problems)
                login(page, base, specialist)
                page.goto(editor)
                # Publishing before approval is refused with the reason.
                with page.expect_navigation():
                    page.click("#publish button[type=submit]")
                assert "not approved" in page.locator(".form-errors").inner_text()
                version = page.locator("#draft-version").get_attribute("title")
                page.fill("#approval-comment", "Прошу согласовать")
                with page.expect_navigation():
                    page.click("#send-for-approval button[type=submit]")
                assert (
                    "Waiting for approval (0 of 1)" in page.locator("#approval-state").inner_text()
                )
                _shoot(page, f"approval-sent-{width}")

                other = second.new_page()
                other.set_default_timeout(TIMEOUT_MS)
                watch(other, problems)
                login(other, base, manager)
                other.goto(f"{base}/cabinet/approvals")
                with other.expect_navigation():
                    other.click("#waiting-table a")
                assert (
                    other.locator("#approval .approve-button").inner_text().endswith(version[:12])
                )
                _shoot(other, f"approval-to-decide-{width}")
                with other.expect_navigation():
                    other.click("#approval .approve-button")
                assert "This version is approved" in other.locator("#approval-state").inner_text()
                steps = other.locator(".approval-steps li").all_inner_texts()
                assert any("sent for approval" in s and "Прошу согласовать" in s for s in steps)
                assert any("approved" in s for s in steps)

                page.reload()
                assert "This version is approved" in page.locator("#approval-state").inner_text()
                with page.expect_navigation():
                    page.click("#publish button[type=submit]")
                assert "Published" in page.locator(".flash-success").first.inner_text()
                assert page.locator("h1 .badge-published").count() == 1
                _shoot(page, f"approval-published-{width}")
            finally:
                first.close()
                second.close()
    # The refused publication answers 409 on purpose (the page shows why); nothing else.
    assert [p for p in problems if "status of 409" not in p] == []


def _supplier_chain(app) -> tuple[str, str]:
    """A supplier requiring bid approval: (specialist's email, manager's email)."""
    from approvals import service as approvals

    with app.test_request_context():
        org = make_org(is_customer=False, is_supplier=True)
        admin = make_user(org, roles=("administrator", "manager"))
        specialist = make_user(org, roles=("specialist",))
        approvals.save_settings(admin, org, {"bids": True})
        emails = (specialist.email, admin.email)
        commit()
    return emails


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_a_bid_is_signed_once_a_manager_approved_it(app, server):
    from tests.e2e.api_helpers import published

    base, _ = server
    number = published(app, criteria=False)["number"]
    specialist, manager = _supplier_chain(app)
    problems: list[str] = []
    with chromium() as browser:
        first = browser.new_context()
        second = browser.new_context()
        try:
            page = first.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            watch(page, problems)
            login(page, base, specialist)
            _generate_key(page, base)
            page.goto(f"{base}/tenders/{number}/bid")
            page.wait_for_selector("#submit-bid:enabled")
            page.fill("#price-1", "90,50")
            # Signing before approval is refused with the reason; nothing is stored.
            page.click("#submit-bid")
            page.locator("#bid-errors.flash-error", has_text="not been approved").wait_for()
            page.fill("#bid-approval-comment", "Прошу согласовать цену")
            with page.expect_navigation():
                page.click("#send-bid-approval")
            page.locator(".approval-request[data-state='pending']").wait_for()

            other = second.new_page()
            other.set_default_timeout(TIMEOUT_MS)
            watch(other, problems)
            login(other, base, manager)
            other.goto(f"{base}/tenders/{number}/bid")
            assert "90.50" in other.locator(".approval-offer").inner_text()
            with other.expect_navigation():
                other.click("#approval .approve-button")
            other.locator(".approval-request[data-state='approved']").wait_for()

            page.reload()
            # The typed offer is kept in the form (sessionStorage) and signed as approved.
            page.wait_for_function("() => document.getElementById('price-1').value !== ''")
            page.locator("#approved-payload").wait_for()
            page.wait_for_selector("#submit-bid:enabled")
            page.click("#submit-bid")
            page.locator("#bid-result.flash-success", has_text="Revision 1 accepted at").wait_for()
            page.locator("#receipt-revision", has_text="1").wait_for()
            assert "signed and submitted as revision 1" in page.locator("#approval").inner_text()
            _shoot(page, "bid-approved-and-signed")
        finally:
            first.close()
            second.close()
    assert [p for p in problems if "status of 409" not in p] == []
