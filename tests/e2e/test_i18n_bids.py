"""The bid, CSV, vault and signing-key screens in Russian (issue 18): the pages hold no
untranslated English, and the refusals of the bidding API are said in the reader's language
with Russian numbers and moments; the codes stay English."""

from __future__ import annotations

import datetime as dt
import io
import re

from core.extensions import db as database
from core.transaction import commit
from tenders.models import Tender
from tests.e2e.api_helpers import caller, draft_body
from tests.e2e.bidding_helpers import bidder, offer, submit
from tests.e2e.helpers import login
from tests.i18n_check import untranslated_english

# The bid screens scanned for English outside the catalog ({n}: the tender's number).
# Latin words the pages show as names and codes (key algorithms, encodings, programs).
BID_PAGES = [
    "/tenders/{n}/bid",
    "/tenders/{n}/bid/csv",
    "/cabinet/documents",
    "/cabinet/keys",
    "/signature-check",
]
NAMES = {
    "UTF", "BOM", "Excel", "LibreOffice", "Windows", "HTTPS", "Chrome", "Firefox", "Edge",
    "ECDSA", "RSA", "PSS", "PEM", "SHA", "RFC", "base", "ecdsa", "openssl",
    "csv", "txt",  # file extensions
    "User", "test", "pdf",  # the test's data: user names, key labels, file names
}  # fmt: skip
_HEX = re.compile(r"\b[0-9a-f]{16,}\b")  # hashes and fingerprints


def _published(app, client) -> dict:
    customer = caller(app)
    tender = client.post("/api/v1/tenders", json=draft_body(), headers=customer.headers).get_json()
    resp = client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=customer.headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _criteria(tender: dict) -> list[dict]:
    ids = {c["name"]: c["id"] for c in tender["lots"][0]["criteria"]}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": "24"},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": "30 дней"},
    ]


def test_russian_bid_pages_hold_no_untranslated_english(app, client, db, russian):
    tender = _published(app, client)
    b = bidder(app, client, name="ООО «Поставщик»")
    client.post(
        "/api/v1/documents",
        data={"file": (io.BytesIO(b"%PDF-1.4 charter"), "Устав.pdf"), "title": "Устав"},
        headers=b.headers,
        content_type="multipart/form-data",
    )
    accepted = submit(client, b, tender["id"], offer({"1": "90.00"}, _criteria(tender)))
    assert accepted.status_code == 201, accepted.get_json()
    login(client, b.who.email)
    for path in BID_PAGES:
        page = client.get(path.format(n=tender["number"]))
        html = _HEX.sub("", page.get_data(as_text=True)).replace("platform-key.pem", "")
        assert page.status_code == 200, path
        assert untranslated_english(html, NAMES) == [], (path, untranslated_english(html, NAMES))
    form = client.get(f"/tenders/{tender['number']}/bid").get_data(as_text=True)
    for words in ("Подписать и подать", "Цена за единицу", "Итого", "Квитанция о приёме редакции"):
        assert words in form
    assert "135\u00a0000,00 ₽" in form  # 1 500 × 90,00 in the revisions table
    assert "Участник 1, редакция 1" in form
    csv_page = client.get(f"/tenders/{tender['number']}/bid/csv").get_data(as_text=True)
    assert "1. Скачайте шаблон" in csv_page and "Загрузить и проверить" in csv_page


def test_offer_problems_are_said_in_russian_with_russian_numbers(app, client, db, russian):
    tender = _published(app, client)
    b = bidder(app, client)
    resp = submit(client, b, tender["id"], offer({"1": "100.5", "9": "1"}, _criteria(tender)))
    error = resp.get_json()["error"]
    assert resp.status_code == 422 and error["code"] == "invalid"
    assert error["message"] == "В предложении 2 ошибки; ничего не сохранено."
    assert error["fields"]["lines.1.unit_price"] == [
        "Позиция 1: цена за единицу 100,5 выше НМЦ за единицу 95,50."
    ]
    assert error["fields"]["lines.9"] == ["Позиции 9 нет в этой закупке."]
    english = client.post(
        f"/api/v1/tenders/{tender['id']}/bid/prepare",
        json=offer({"1": "100.5"}, _criteria(tender)),
        headers={**b.headers, "Accept-Language": "en"},
    )
    assert english.get_json()["error"]["fields"]["lines.1.unit_price"] == [
        "Position 1: the unit price 100.5 is above the maximum unit price 95.50."
    ]


def test_bidding_closed_names_the_deadline_in_russian(app, client, db, russian):
    tender = _published(app, client)
    b = bidder(app, client)
    deadline = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
    with app.app_context():
        database.session.get(Tender, tender["id"]).bid_deadline = deadline
        commit()
    resp = submit(client, b, tender["id"], offer({"1": "90.00"}, _criteria(tender)))
    error = resp.get_json()["error"]
    assert resp.status_code == 409 and error["code"] == "bidding_closed"
    assert error["message"] == "Приём заявок завершён 15.01.2026 12:00:00 МСК."
    login(client, b.who.email)
    page = client.get(f"/tenders/{tender['number']}/bid").get_data(as_text=True)
    assert "Приём заявок завершён 15.01.2026 12:00:00 МСК." in page


def test_csv_problems_are_said_in_russian(app, client, db, russian):
    tender = _published(app, client)
    b = bidder(app, client)
    rows = "№ позиции;Цена за единицу\n1;abc\n7;10\n"
    resp = client.post(
        f"/api/v1/tenders/{tender['id']}/bid/csv?filename=prices.csv",
        data=rows.encode("utf-8"),
        headers={**b.headers, "Content-Type": "text/csv"},
    )
    body = resp.get_json()
    assert resp.status_code == 422 and body["error"]["code"] == "invalid"
    assert body["error"]["message"].startswith("В файле (строк: 2) найдены 2 ошибки;")
    problems = {(p["line"], p["column"]): p["message"] for p in body["problems"]}
    assert problems[(2, "Цена за единицу")] == "цена за единицу «abc» — не число"
    assert problems[(3, "№ позиции")] == ("неизвестная позиция 7: в закупке такой позиции нет")


def test_key_refusals_are_said_in_russian(app, client, db, russian):
    who = caller(app, customer=False, supplier=True)
    resp = client.post(
        "/api/v1/keys",
        json={"pem": "this is not a key at all, sorry", "label": "x"},
        headers=who.headers,
    )
    error = resp.get_json()["error"]
    assert resp.status_code == 422 and error["code"] == "invalid"
    assert error["message"].startswith("Это не открытый ключ и не сертификат в формате PEM")
