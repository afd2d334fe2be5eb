"""The customer's pages from a new draft to a published notice; the registry; questions."""

import datetime as dt
import io
import re

from sqlalchemy import select

from core import clock
from tenders.models import Question, Tender
from tests.e2e.helpers import csrf_of, login, post_form
from tests.factories import make_org, make_user


def _local(days: int) -> str:
    moment = clock.local(clock.now() + dt.timedelta(days=days), "Europe/Moscow")
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_customer_builds_and_publishes_through_the_pages(app, client, db):
    customer = make_user(make_org(name="AO Zakazchik", is_supplier=False))
    login(client, customer.email)
    resp = post_form(
        client,
        "/cabinet/tenders/new",
        "/cabinet/tenders/new",
        {
            "title": "Поставка цемента",
            "region_code": "66",
            "bid_deadline": _local(10),
            "questions_until": _local(5),
            "timezone": "Europe/Moscow",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    edit_url = resp.headers["Location"]
    tender = db.session.execute(
        select(Tender).where(Tender.title == "Поставка цемента")
    ).scalar_one()
    # Publishing too early lists every problem at once.
    resp = post_form(client, edit_url, f"{edit_url}/publish", {})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Add at least one lot" in page and "Choose at least one category" in page
    # Header with categories; a lot; a position by hand; a criterion; a CSV import.
    resp = post_form(
        client,
        edit_url,
        f"{edit_url}/header",
        {
            "title": "Поставка цемента",
            "region_code": "66",
            "bid_deadline": _local(10),
            "timezone": "Europe/Moscow",
            "categories": ["23.51"],
            "extension_window_minutes": "30",
            "extension_minutes": "30",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    resp = post_form(
        client,
        edit_url,
        f"{edit_url}/lots",
        {"title": "Цемент", "award_mode": "per_position", "price_weight": "80"},
    )
    assert resp.status_code == 302
    lot_id = re.search(r'id="lot-(\d+)"', client.get(edit_url).get_data(as_text=True)).group(1)
    resp = post_form(
        client,
        edit_url,
        f"{edit_url}/lots/{lot_id}/positions",
        {
            "number": "1",
            "name": "Цемент М500",
            "quantity": "200",
            "unit_code": "168",
            "max_unit_price": "7800",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    resp = post_form(
        client,
        edit_url,
        f"{edit_url}/lots/{lot_id}/criteria",
        {
            "name": "Отсрочка платежа",
            "kind": "choice",
            "weight": "20",
            "options_text": "нет = 0\n30 дней = 0,5\n60 дней = 1",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    csv = "№;Наименование;Количество;Ед. изм.;Лот\r\n2;Цемент М400;100;т;1\r\n".encode("cp1251")
    resp = client.post(
        f"{edit_url}/import",
        data={"csrf_token": csrf_of(client, edit_url), "file": (io.BytesIO(csv), "positions.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    resp = post_form(client, edit_url, f"{edit_url}/publish", {})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    db.session.refresh(tender)
    assert tender.status == "published"
    notice = client.get(f"/tenders/{tender.number}").get_data(as_text=True)
    assert "Цемент М400" in notice and "Отсрочка платежа" in notice and "Itemized" in notice
    assert 'class="countdown"' in notice and "MSK" in notice
    registry = client.get("/tenders?q=цемента").get_data(as_text=True)
    assert tender.number in registry
    assert "/tenders.xlsx?q=" in registry
    # The same search as an Excel workbook, read back by openpyxl.
    import openpyxl

    resp = client.get("/tenders.xlsx?q=цемента")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(resp.get_data()))["Tenders"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Number", "Title", "Customer") and len(rows) == 2
    assert rows[1][0] == tender.number and rows[1][11].endswith(f"/tenders/{tender.number}")
    assert client.get("/tenders.xlsx?per_page=abc").status_code in (400, 422)


def test_question_through_the_notice_and_answer_in_the_cabinet(app, client, db):
    customer = make_user(make_org(is_supplier=False))
    supplier = make_user(make_org(is_customer=False, name="OOO Anonim"))
    customer_client = app.test_client()
    login(customer_client, customer.email)
    resp = post_form(
        customer_client,
        "/cabinet/tenders/new",
        "/cabinet/tenders/new",
        {"title": "Ремонт кровли", "region_code": "77", "bid_deadline": _local(9)},
    )
    edit_url = resp.headers["Location"]
    tender = db.session.execute(select(Tender).where(Tender.title == "Ремонт кровли")).scalar_one()
    post_form(
        customer_client,
        edit_url,
        f"{edit_url}/header",
        {
            "title": "Ремонт кровли",
            "region_code": "77",
            "bid_deadline": _local(9),
            "categories": ["43.9"],
        },
    )
    post_form(customer_client, edit_url, f"{edit_url}/lots", {"title": "Кровля"})
    lot_id = re.search(
        r'id="lot-(\d+)"', customer_client.get(edit_url).get_data(as_text=True)
    ).group(1)
    post_form(
        customer_client,
        edit_url,
        f"{edit_url}/lots/{lot_id}/positions",
        {"number": "1", "name": "Ремонт мягкой кровли", "quantity": "1", "unit_code": "876"},
    )
    assert post_form(customer_client, edit_url, f"{edit_url}/publish", {}).status_code == 302

    login(client, supplier.email)
    notice_url = f"/tenders/{tender.number}"
    resp = post_form(client, notice_url, f"{notice_url}/questions", {"text": "?"})
    assert resp.status_code == 422  # too short, named
    resp = post_form(
        client, notice_url, f"{notice_url}/questions", {"text": "Какая площадь кровли?"}
    )
    assert resp.status_code == 302
    question = db.session.execute(
        select(Question).where(Question.tender_id == tender.id)
    ).scalar_one()
    waiting = customer_client.get("/cabinet/tenders").get_data(as_text=True)
    assert "Какая площадь кровли?" in waiting
    resp = post_form(
        customer_client,
        edit_url,
        f"{edit_url}/questions/{question.id}/answer",
        {"answer": "1200 м2"},
    )
    assert resp.status_code == 302
    public = app.test_client().get(notice_url).get_data(as_text=True)
    assert "1200 м2" in public and "OOO Anonim" not in public


def test_supplier_cannot_open_the_customer_cabinet(client, db):
    supplier = make_user(make_org(is_customer=False))
    login(client, supplier.email)
    assert client.get("/cabinet/tenders").status_code == 403
    assert client.get("/cabinet/tenders/new").status_code == 403


def test_other_customer_cannot_open_an_editor(app, client, db):
    owner = make_user(make_org(is_supplier=False))
    other = make_user(make_org(is_supplier=False))
    owner_client = app.test_client()
    login(owner_client, owner.email)
    resp = post_form(
        owner_client,
        "/cabinet/tenders/new",
        "/cabinet/tenders/new",
        {"title": "Чужой черновик", "region_code": "77"},
    )
    edit_url = resp.headers["Location"]
    login(client, other.email)
    assert client.get(edit_url).status_code == 404
    assert post_form(client, "/cabinet/tenders", f"{edit_url}/publish", {}).status_code == 404


def test_registry_page_filters_and_bad_input(client, db):
    assert client.get("/tenders?region=77&sort=deadline_asc&stage=bidding").status_code == 200
    resp = client.get("/tenders?per_page=5000&region=00")
    assert resp.status_code == 400 and "Per page: " in resp.get_data(as_text=True)
    assert client.get("/").status_code == 200
