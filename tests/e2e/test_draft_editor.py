"""The draft editor keeps the header and every form apart (issue 19 items 1, 2, 3 and 13):
an error in one form never blanks another; Russian numbers are read everywhere; lots are
edited in place and numbered 1..n; problems are told with the field's label."""

import datetime as dt
import re

from sqlalchemy import select

from core import clock
from positions.models import Position
from tenders.models import Lot, Tender
from tests.e2e.api_helpers import draft_body
from tests.e2e.helpers import login, post_form
from tests.factories import make_org, make_user

NBSP = "\u00a0"


def _local(days: int) -> str:
    moment = clock.local(clock.now() + dt.timedelta(days=days), "Asia/Yekaterinburg")
    return moment.strftime("%Y-%m-%dT%H:%M")


def _draft(client, db) -> tuple[str, Tender]:
    """A draft made through the new page, with a description, region 66 and a category."""
    customer = make_user(make_org(name="AO Zakazchik", is_supplier=False))
    login(client, customer.email)
    resp = post_form(
        client,
        "/cabinet/tenders/new",
        "/cabinet/tenders/new",
        {
            "title": "Поставка цемента",
            "description": "Цемент на склад в Екатеринбурге.",
            "region_code": "66",
            "timezone": "Asia/Yekaterinburg",
            "bid_deadline": _local(10),
            "categories": ["23.51"],
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    tender = db.session.execute(
        select(Tender).where(Tender.title == "Поставка цемента")
    ).scalar_one()
    return resp.headers["Location"], tender


def _header_form(page: str) -> str:
    return page[page.index('<section id="header">') : page.index('<section id="lots">')]


def _lot_ids(client, edit_url: str) -> list[str]:
    return re.findall(r'<div class="panel" id="lot-(\d+)"', client.get(edit_url).get_data(True))


def test_new_page_has_zone_and_category_pickers(client, db):
    edit_url, tender = _draft(client, db)
    assert [c.code for c in tender.categories] == ["23.51"]
    assert tender.timezone == "Asia/Yekaterinburg" and tender.region_code == "66"
    page = client.get("/cabinet/tenders/new").get_data(as_text=True)
    assert '<select id="f-timezone" name="timezone"' in page
    assert '<option value="Asia/Yekaterinburg">Yekaterinburg (UTC+5)</option>' in page
    assert 'name="categories" value="23.5"' in page
    # A problem is told with the field's label, beside the form, input kept.
    resp = post_form(
        client,
        "/cabinet/tenders/new",
        "/cabinet/tenders/new",
        {"title": "", "region_code": "66", "timezone": "Asia/Omsk", "categories": ["23.51"]},
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "<strong>Title</strong>:" in page
    assert '<option value="Asia/Omsk" selected>' in page
    assert 'value="23.51" checked' in page


def test_a_failed_position_keeps_the_header_and_the_typed_input(client, db):
    edit_url, tender = _draft(client, db)
    post_form(client, edit_url, f"{edit_url}/lots", {"title": "Цемент", "price_weight": "100"})
    (lot_id,) = _lot_ids(client, edit_url)
    # The case: a max price with a letter in it is refused beside the position form.
    resp = post_form(
        client,
        edit_url,
        f"{edit_url}/lots/{lot_id}/positions",
        {"number": "1", "name": "Цемент М500", "quantity": "12,5", "unit_code": "168",
         "max_unit_price": "1 000,00 руб"},
    )  # fmt: skip
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    header = _header_form(page)
    assert "Цемент на склад в Екатеринбурге." in header
    assert '<option value="66" selected>' in header
    assert '<option value="Asia/Yekaterinburg" selected>' in header
    assert "field-error" not in header
    position_form = page[page.index(f'id="position-{lot_id}"') :]
    assert "<strong>Max unit price</strong>: Not a number" in position_form
    assert 'value="1 000,00 руб"' in position_form and 'value="Цемент М500"' in position_form
    assert "max_unit_price:" not in page  # no internal keys
    # Saving the header after that keeps the description and the region.
    resp = post_form(
        client,
        edit_url,
        f"{edit_url}/header",
        {"title": "Поставка цемента М500", "description": "Цемент на склад в Екатеринбурге.",
         "region_code": "66", "timezone": "Asia/Yekaterinburg", "categories": ["23.51"],
         "bid_deadline": _local(10), "extension_window_minutes": "30", "extension_minutes": "30"},
    )  # fmt: skip
    assert resp.status_code == 302
    db.session.refresh(tender)
    assert tender.description == "Цемент на склад в Екатеринбурге."
    assert tender.region_code == "66"


def test_russian_numbers_in_every_form(client, db):
    edit_url, tender = _draft(client, db)
    post_form(client, edit_url, f"{edit_url}/lots", {"title": "Цемент", "price_weight": "80,5"})
    (lot_id,) = _lot_ids(client, edit_url)
    resp = post_form(
        client,
        edit_url,
        f"{edit_url}/lots/{lot_id}/positions",
        {"number": "1", "name": "Цемент М500", "quantity": "1 200,5", "unit_code": "168",
         "max_unit_price": f"68{NBSP}500,00"},
    )  # fmt: skip
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    position = db.session.execute(select(Position)).scalar_one()
    assert str(position.quantity) == "1200.500" and str(position.max_unit_price) == "68500.00"
    resp = post_form(
        client,
        edit_url,
        f"{edit_url}/lots/{lot_id}/criteria",
        {"name": "Гарантия", "kind": "number", "weight": "19,5", "direction": "higher_better",
         "min_value": "1 000", "options_text": ""},
    )  # fmt: skip
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    lot = db.session.get(Lot, int(lot_id))
    assert str(lot.price_weight) == "80.50" and str(lot.criteria[0].min_value) == "1000.0000"


def test_lots_are_edited_in_place_and_numbered_one_to_n(client, db):
    edit_url, tender = _draft(client, db)
    for title in ("Первый", "", ""):
        post_form(client, edit_url, f"{edit_url}/lots", {"title": title, "price_weight": "100"})
    first, second, third = _lot_ids(client, edit_url)
    for lot_id, number in ((second, "2"), (third, "3")):
        resp = post_form(
            client,
            edit_url,
            f"{edit_url}/lots/{lot_id}/positions",
            {"number": number, "name": f"Позиция {number}", "quantity": "1", "unit_code": "796"},
        )
        assert resp.status_code == 302
    # Editing a lot keeps its positions: weight down to make room for a criterion.
    resp = post_form(
        client,
        edit_url,
        f"{edit_url}/lots/{second}",
        {"title": "Второй", "award_mode": "whole_lot", "price_weight": "70,00"},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    lot = db.session.get(Lot, int(second))
    assert (lot.title, lot.award_mode, str(lot.price_weight)) == ("Второй", "whole_lot", "70.00")
    # Every lot repeats its forms: their ids stay unique, so each label finds its input.
    ids = re.findall(r' id="([^"]+)"', client.get(edit_url).get_data(as_text=True))
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert [p.number for p in lot.positions] == ["2"]
    # A refused edit stays in the lot's form with the label, the saved lot unchanged.
    resp = post_form(
        client,
        edit_url,
        f"{edit_url}/lots/{second}",
        {"title": "Второй", "award_mode": "whole_lot", "price_weight": "170"},
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    lot_form = page[page.index(f'id="lot-{second}"') : page.index(f'id="lot-{third}"')]
    assert "<strong>Price weight, %</strong>: Must be at most 100." in lot_form, lot_form
    assert 'value="170"' in lot_form
    # Removing lot 1 renumbers the others; a default title follows its number.
    post_form(client, edit_url, f"{edit_url}/lots/{first}/delete", {})
    db.session.expire_all()
    lots = db.session.execute(select(Lot).order_by(Lot.number)).scalars().all()
    assert [(lot.number, lot.title) for lot in lots] == [(1, "Второй"), (2, "Lot 2")]


def test_publication_problems_in_the_users_words(client, db):
    edit_url, tender = _draft(client, db)
    post_form(client, edit_url, f"{edit_url}/lots", {"title": "Цемент", "price_weight": "90"})
    (lot_id,) = _lot_ids(client, edit_url)
    resp = post_form(client, edit_url, f"{edit_url}/publish", {})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    publish = page[page.index('<section id="publish">') :]
    assert "<strong>Lot 1, price weight, %</strong>:" in publish
    assert "<strong>Lot 1, positions</strong>: Lot 1 has no positions." in publish
    assert "lots.1.price_weight" not in page
    # The lot's own form marks its field too; the header is the saved one.
    lot_form = page[page.index(f'id="lot-{lot_id}"') : page.index('<section id="documents">')]
    assert 'class="row invalid"' in lot_form
    assert "Цемент на склад в Екатеринбурге." in _header_form(page)


def test_publication_numbers_lots_one_to_n(app, db):
    from tenders import schemas, service

    org = make_org(is_supplier=False)
    user = make_user(org)
    body = draft_body()
    assert len(body["lots"]) == 2
    body["lots"][0]["number"], body["lots"][1]["number"] = 2, 5
    body["lots"][1]["title"] = "Lot 5"
    with app.test_request_context():
        tender = service.create_draft(user, org, schemas.TenderCreate().load(body))
        assert [lot.number for lot in tender.lots] == [2, 5]
        service.publish(user, org, tender.id)
        db.session.expire_all()
        lots = db.session.execute(select(Lot).order_by(Lot.number)).scalars().all()
    assert [(lot.number, lot.title) for lot in lots] == [
        (1, body["lots"][0]["title"]),
        (2, "Lot 2"),
    ]
