"""The draft editor's error path in real Chromium (issue 19.1): a refused position keeps
the header as saved and the typed input, the browser lands on the form that failed, and a
failed Publish lists its problems with the fields' labels. Screenshots at 1280 and 390 px
go to $SCREENSHOT_DIR when it is set."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from core import clock
from core.transaction import commit
from tests.e2e.browser import TIMEOUT_MS, chromium, login, watch
from tests.factories import make_org, make_user

pytestmark = [pytest.mark.live, pytest.mark.database_agnostic]

DESCRIPTION = "Цемент М500 на склад в Екатеринбурге, разгрузка силами поставщика."


def _draft(app) -> tuple[int, int, str]:
    """A committed draft with a description, region 66, a zone and one lot."""
    from tenders import schemas, service

    with app.test_request_context():
        org = make_org(is_supplier=False)
        user = make_user(org)
        body = {
            "title": "Поставка цемента",
            "description": DESCRIPTION,
            "region_code": "66",
            "timezone": "Asia/Yekaterinburg",
            "categories": ["23.5"],
            "bid_deadline": (clock.now() + dt.timedelta(days=10)).isoformat(),
            "lots": [{"title": "Цемент", "price_weight": "100"}],
        }
        tender = service.create_draft(user, org, schemas.TenderCreate().load(body))
        ids = (tender.id, tender.lots[0].id, user.email)
        commit()
    return ids


def _shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("server", ["threading"], indirect=True)
def test_editor_error_path_keeps_the_header_and_the_input(app, server):
    base, _ = server
    tender_id, lot_id, email = _draft(app)
    problems: list[str] = []
    with chromium() as browser:
        for width in (1280, 390):
            context = browser.new_context(viewport={"width": width, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            watch(page, problems)
            login(page, base, email)
            page.goto(f"{base}/cabinet/tenders/{tender_id}")
            form = page.locator(f"#position-{lot_id}")
            form.locator("summary").click()
            number = "1" if width == 1280 else "2"
            form.locator("input[name=number]").fill(number)
            form.locator("input[name=name]").fill("Цемент М500 Д0")
            form.locator("input[name=quantity]").fill("12,5")
            form.locator("input[name=max_unit_price]").fill("1 000,00 руб")
            with page.expect_navigation():
                form.locator("button[type=submit]").click()
            # The browser lands on the form that failed, open, with the typed input.
            assert page.url.endswith(f"#position-{lot_id}")
            form = page.locator(f"#position-{lot_id}")
            assert form.get_attribute("open") is not None
            alert = form.locator("[role=alert]")
            assert "Max unit price" in alert.text_content()
            assert "max_unit_price" not in page.locator("main").inner_text()
            assert form.locator("input[name=max_unit_price]").input_value() == "1 000,00 руб"
            assert form.locator("input[name=name]").input_value() == "Цемент М500 Д0"
            assert form.locator("input[name=max_unit_price]").get_attribute("aria-invalid")
            # The header is the saved draft, not a blank form with region 01.
            header = page.locator("#header")
            assert header.locator("textarea[name=description]").input_value() == DESCRIPTION
            assert header.locator("select[name=region_code]").input_value() == "66"
            assert header.locator("select[name=timezone]").input_value() == "Asia/Yekaterinburg"
            assert header.locator(".field-error").count() == 0
            _shoot(page, f"editor-position-error-{width}")
            # Russian number: accepted once the letters are gone.
            form.locator("input[name=max_unit_price]").fill("1 000,00")
            with page.expect_navigation():
                form.locator("button[type=submit]").click()
            assert f"Position {number} added." in page.locator("ul.flashes").text_content()
            # A failed Publish: the problems in the user's words, beside the button.
            lot = page.locator(f"#lot-{lot_id}")
            lot.locator("details.lot-edit summary").click()
            lot.locator("details.lot-edit input[name=price_weight]").fill("80")
            with page.expect_navigation():
                lot.locator("details.lot-edit button[type=submit]").click()
            assert "Lot saved." in page.locator("ul.flashes").text_content()
            with page.expect_navigation():
                page.locator("#publish button[type=submit]").click()
            assert page.url.endswith("#publish")
            text = page.locator("#publish [role=alert]").text_content()
            assert "Lot 1, price weight, %:" in text and "add up to 80.00, not 100" in text
            assert "lots.1" not in page.locator("main").inner_text()
            assert header.locator("textarea[name=description]").input_value() == DESCRIPTION
            _shoot(page, f"editor-publish-error-{width}")
            context.close()
    # The refused forms answer 422, which Chromium reports in its console: nothing else.
    assert [p for p in problems if "status of 422" not in p] == []
