"""Messages made outside the templates, in the reader's language (issue 18, docs/i18n.md):
the API's field messages and refusal, the workbook refusals and the accreditation push."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError

from accounts import jobs as account_jobs
from accounts.schemas import RegionField
from core import live
from core.api import flatten_messages, translate
from positions.xlsx_rules import WorkbookRefused, open_sheet
from tests.e2e.test_registration_flow import API_REGISTRATION
from tests.factories import make_org, make_user

RU = {"Accept-Language": "ru"}


def test_api_refusal_in_russian(client):
    body = {**API_REGISTRATION, "region_code": "00"}
    resp = client.post("/api/v1/registrations", json=body, headers=RU)
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "validation_failed" or error["code"]  # stays English
    assert error["message"] == "В запросе есть неверно заполненные поля."
    english = client.post("/api/v1/registrations", json=body, headers={"Accept-Language": "en"})
    assert english.get_json()["error"]["message"] == "The request has invalid fields."


def test_unknown_region_in_russian(app):
    class Form(Schema):
        region = RegionField()

    with pytest.raises(ValidationError) as invalid:
        Form().load({"region": "Мсква"})
    with app.test_request_context(headers=RU):
        [message] = flatten_messages(invalid.value.messages)["region"]
    assert message == (
        "Неизвестный регион «Мсква»: введите его название (Москва) или двузначный код (77)."
    )


@pytest.mark.parametrize(
    ("data", "russian"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Это книга Excel 97-2003 (.xls)"),
        (b"PK\x03\x04broken", "Файл — повреждённый ZIP-архив"),
    ],
)
def test_workbook_refusals_in_russian(app, data, russian):
    with pytest.raises(WorkbookRefused) as refused:
        open_sheet(data)
    message = refused.value.args[0]
    assert not str(message).startswith(russian)  # English in the code
    with app.test_request_context(headers=RU):
        assert translate(message).startswith(russian)


def test_accreditation_push_in_each_members_language(app, db, monkeypatch):
    sent = []
    monkeypatch.setattr(live, "emit_now", lambda event, data, room: sent.append(data))
    org = make_org(name="ООО «Ромашка»", accreditation_status="accredited")
    make_user(org, locale="ru")
    make_user(org, locale="en")
    with app.app_context():  # as a job runs: an app context, no request
        assert account_jobs.push_accreditation(org.id) == 2
    assert {p["message"] for p in sent} == {
        "Организация ООО «Ромашка» аккредитована.",
        "ООО «Ромашка» is now accredited.",
    }
