"""The tenders area in Russian (issue 18): the notice reads as an извещение, the registry,
the customer's cabinet and the draft editor hold no English, and the editor's refusals
(publication problems, CSV import problems) come in Russian with Russian labels."""

from __future__ import annotations

import io

from core.transaction import commit
from tenders import schemas, service
from tests.e2e.api_helpers import draft_body
from tests.e2e.helpers import csrf_of, login
from tests.factories import make_org, make_user
from tests.i18n_check import untranslated_english

NBSP = "\u00a0"
# Codes a Russian page shows as they are: currencies of the picker, encodings of the import,
# offsets of the time zones (UTC+5), and Excel by its name.
CODES = {"USD", "EUR", "CNY", "UTF", "Windows", "UTC", "Excel"}


def _customer(app):
    with app.test_request_context():
        org = make_org(name="АО «Заказчик»", is_supplier=False)
        user = make_user(org, email="zakazchik@example.ru", name="Анна")
        published = service.create_draft(user, org, schemas.TenderCreate().load(draft_body()))
        service.publish(user, org, published.id)
        draft = service.create_draft(user, org, schemas.TenderCreate().load(draft_body()))
        empty = service.create_draft(user, org, {"title": "Черновик", "categories": []})
        ids = published.number, published.id, draft.id, empty.id, user.email
        commit()
    return ids


def test_the_notice_reads_as_a_russian_notice(app, client, db, russian):
    number, *_ = _customer(app)
    page = client.get(f"/tenders/{number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for words in (
        "Извещение о проведении запроса предложений",
        "Заказчик",
        "ИНН",
        "Срок окончания подачи заявок",
        "Попозиционная закупка",
        "попозиционная закупка",
        "Автопродление",
        "Лоты",
        "Позиции",
        "НМЦ за единицу",
        "Критерии оценки",
        "Разъяснения",
        "Свердловская область",
        f"239{NBSP}250,00 ₽",  # 1500 x 95,50 + 800 x 120
        "95,50",
        " МСК",
        "приём заявок",
    ):
        assert words in html, words
    assert untranslated_english(html, CODES) == []


def test_the_registry_in_russian(app, client, db, russian):
    _customer(app)
    page = client.get("/tenders?stage=bidding")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Реестр закупок" in html and "Приём заявок" in html
    assert "Найдена 1 закупка" in html
    assert untranslated_english(html, CODES) == []
    bad = client.get("/tenders?per_page=5000").get_data(as_text=True)
    assert "На странице: Допустимо от 1 до 100." in bad and untranslated_english(bad, CODES) == []


def test_the_cabinet_and_the_editor_in_russian(app, client, db, russian):
    _, published_id, draft_id, empty_id, email = _customer(app)
    login(client, email)
    for path in (
        "/cabinet/tenders",
        "/cabinet/tenders/new",
        f"/cabinet/tenders/{draft_id}",
        f"/cabinet/tenders/{empty_id}",
        f"/cabinet/tenders/{published_id}",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert untranslated_english(page.get_data(as_text=True), CODES) == [], path


def test_publication_problems_in_russian_with_russian_labels(app, client, db, russian):
    _, _, _, empty_id, email = _customer(app)
    login(client, email)
    edit = f"/cabinet/tenders/{empty_id}"
    resp = client.post(f"{edit}/publish", data={"csrf_token": csrf_of(client, edit)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Закупку пока нельзя опубликовать: 3 ошибки." in html
    assert "<strong>Лоты</strong>: Добавьте хотя бы один лот с позициями." in html
    assert "Укажите срок окончания подачи заявок." in html
    assert untranslated_english(html, CODES) == []


def test_csv_import_problems_in_russian(app, client, db, russian):
    _, _, draft_id, _, email = _customer(app)
    login(client, email)
    edit = f"/cabinet/tenders/{draft_id}"
    csv = "№;Наименование;Кол-во;Ед. изм.\n10;Цемент;много;т\n11;;5;т\n".encode()
    resp = client.post(
        f"{edit}/import",
        data={"csrf_token": csrf_of(client, edit), "file": (io.BytesIO(csv), "p.csv")},
        content_type="multipart/form-data",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "В файле 2 ошибки; ничего не загружено." in html
    assert "<strong>Строка 2, Кол-во</strong>: количество: «много» — не число" in html
    assert "<strong>Строка 3, Наименование</strong>: не заполнено: наименование" in html
    assert untranslated_english(html, CODES) == []
    workbook = client.post(
        f"{edit}/import",
        data={"csrf_token": csrf_of(client, edit), "file": (io.BytesIO(b"PK\x03\x04x"), "p.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Файл — повреждённый ZIP-архив, а не книга Excel" in workbook


def test_the_api_answers_csv_problems_in_the_callers_language(app, client, db, russian):
    _, _, draft_id, _, email = _customer(app)
    login(client, email)
    token = csrf_of(client, "/")
    url = f"/api/v1/tenders/{draft_id}/positions/import"
    body = "№;Наименование;Кол-во;Ед. изм.\n10;Цемент;0;т\n".encode()
    headers = {"X-CSRFToken": token, "Content-Type": "text/csv"}
    ru = client.post(url, data=body, headers=headers).get_json()["error"]
    en = client.post(url, data=body, headers={**headers, "Accept-Language": "en"}).get_json()
    assert ru["code"] == en["error"]["code"] == "invalid"
    assert list(ru["fields"]) == list(en["error"]["fields"]) == ["row 2, Кол-во"]
    assert ru["fields"]["row 2, Кол-во"] == [
        "количество: значение должно быть больше нуля, указано «0»"
    ]
    assert en["error"]["fields"]["row 2, Кол-во"] == ["quantity must be greater than zero, not '0'"]
