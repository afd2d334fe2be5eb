"""The results area in Russian (issue 18): the customer's review and comparison, its flash
messages and refusals, the published results for the public and the participants, scanned
for English left outside the catalog; money, percent and moments in Russian formats."""

from __future__ import annotations

import datetime as dt

from core import clock
from tests.e2e.helpers import csrf_of, login, post_form
from tests.e2e.results_helpers import approve_decision
from tests.e2e.test_protocol_and_ocds import _auction
from tests.i18n_check import untranslated_english

# Codes a Russian page keeps (the hash's name, the CSV files' encodings) and the factory's
# user names ("User 123") in the header's greeting.
CODES = {"SHA", "UTF", "Windows", "User"}
NBSP = "\u00a0"


def _text(page) -> str:
    return page.get_data(as_text=True).replace(NBSP, " ")


def _scan(page) -> list[str]:
    return untranslated_english(page.get_data(as_text=True), CODES)


def test_results_pages_in_russian(app, client, db, russian):
    from tenders import jobs

    auction = _auction(app, client)
    tender, customer = auction["tender"], auction["customer"]
    review = f"/cabinet/tenders/{tender['id']}/review"
    results = f"/tenders/{tender['number']}/results"
    # Before publication: the API refuses in Russian, its code stays English.
    error = client.get(f"/api/v1/tenders/{tender['id']}/results").get_json()["error"]
    assert error == {**error, "code": "not_found"}
    assert error["message"] == "Итоги этой закупки не опубликованы."

    clock.freeze(dt.datetime.fromisoformat(tender["bid_deadline"]) + dt.timedelta(seconds=1))
    with app.app_context():
        assert jobs.close_at_deadline(tender["id"]) == "closed"
    login(client, customer.email)
    page = client.get(review)
    assert page.status_code == 200
    text = _text(page)
    for expected in (
        f"Рассмотрение предложений: {tender['number']}",
        "Экономия от начальной (максимальной) цены",
        "НМЦ за единицу",
        "Победитель",
        "Отклонить заявку",
        "Опубликовать итоги",
        " ₽",
        " МСК",
        "95,50",  # a maximum unit price, decimal comma
    ):
        assert expected in text, expected
    assert _scan(page) == []

    # A refusal and the flash messages in Russian.
    refused = post_form(client, review, f"{review}/disqualify", {"participant": "9", "reason": "x"})
    assert refused.status_code == 422
    assert "У участника 9 нет действующей заявки" in _text(refused)
    assert _scan(refused) == []
    done = post_form(
        client, review, f"{review}/disqualify", {"participant": "2", "reason": "Нет сертификата"}
    )
    assert done.status_code == 302
    page = client.get(review)
    assert "Заявка участника 2 отклонена; места пересчитаны." in _text(page)
    assert "Отклонённые заявки" in _text(page) and _scan(page) == []
    clock.advance(dt.timedelta(hours=1))
    approve_decision(client, tender["id"], customer.headers)
    assert post_form(client, review, f"{review}/publish", {}).status_code == 302
    page = client.get(review)
    text = _text(page)
    assert "Итоги опубликованы; участники уведомлены." in text
    for expected in ("Редакции итогов", "Изменение итогов", "Итоги опубликованы"):
        assert expected in text, expected
    assert _scan(page) == []
    again = client.post(f"/api/v1/tenders/{tender['id']}/results/publish", headers=customer.headers)
    assert again.status_code == 409
    assert again.get_json()["error"]["message"] == (
        f"Итоги закупки {tender['number']} уже опубликованы."
    )
    short = client.post(
        f"{review}/correct",
        data={"csrf_token": csrf_of(client, review), "correction_reason": "коротко"},
    )
    assert short.status_code == 422 and "Длина должна быть от 10 до 2000 символов." in _text(short)
    assert _scan(short) == []

    # The published results: the public summary, then a participant's own and every offer.
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    page = client.get(results)
    assert page.status_code == 200
    assert f"Итоги: {tender['number']}" in _text(page) and _scan(page) == []
    login(client, auction["alfa"].who.email)
    page = client.get(results)
    text = _text(page)
    for expected in ("Ваши результаты", "Итоги по позициям", "Место", "Итоговый балл", "ИНН"):
        assert expected in text, expected
    assert _scan(page) == []
