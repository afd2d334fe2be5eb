"""Choosing the language (docs/i18n.md): the user's setting, the switch's cookie,
Accept-Language, then Russian; unknown values fall back without an error."""

from __future__ import annotations

import re

import pytest

from accounts.models import User
from tests.e2e.helpers import csrf_of, login
from tests.factories import make_org, make_user
from tests.i18n_check import untranslated_english


def html_lang(resp) -> str:
    return re.search(r'<html lang="([^"]*)"', resp.get_data(as_text=True)).group(1)


def test_russian_by_default(client, russian):
    page = client.get("/")
    assert page.status_code == 200 and html_lang(page) == "ru"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("en-US,en;q=0.9", "en"),
        ("de-DE, fr;q=0.8, en;q=0.5", "en"),
        ("de-DE", "ru"),
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        (";;;q=abc,,,=;q=", "ru"),  # malformed: ignored, no error
        ("x" * 300, "ru"),
    ],
)
def test_accept_language_then_russian(client, russian, header, lang):
    page = client.get("/", headers={"Accept-Language": header})
    assert page.status_code == 200 and html_lang(page) == lang


def test_the_switch_keeps_an_anonymous_visitors_choice_in_a_cookie(client, russian):
    token = csrf_of(client, "/")
    resp = client.post("/language", data={"lang": "en", "csrf_token": token})
    assert resp.status_code == 302 and "lang=en" in resp.headers["Set-Cookie"]
    assert html_lang(client.get("/", headers={"Accept-Language": "ru"})) == "en"
    resp = client.post("/language", data={"lang": "klingon", "csrf_token": token})
    assert resp.status_code == 302 and html_lang(client.get("/")) == "ru"


def test_a_cookie_of_an_unknown_language_is_ignored(client, russian):
    client.set_cookie("lang", "zz")
    assert html_lang(client.get("/", headers={"Accept-Language": "en"})) == "en"


def test_the_switch_needs_the_csrf_token(client, russian):
    assert client.post("/language", data={"lang": "en"}).status_code == 400


def test_a_users_choice_is_stored_and_wins_over_the_browser(app, client, db, russian):
    user = make_user(make_org())
    db.session.commit()
    login(client, user.email)
    token = csrf_of(client, "/")
    client.post("/language", data={"lang": "en", "csrf_token": token})
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"
    client.delete_cookie("lang")
    assert html_lang(client.get("/", headers={"Accept-Language": "ru"})) == "en"


def test_api_messages_follow_the_language_and_codes_stay(client, russian):
    ru = client.get("/api/v1/no-such-thing").get_json()["error"]
    en = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"}).get_json()
    assert ru["code"] == en["error"]["code"] == "not_found"
    assert ru["message"] != en["error"]["message"]
    assert re.search("[а-яА-Я]", ru["message"])


# The Russian pages scanned for English outside the catalog: add an area once translated.
MAIN_PAGES = [
    "/",
    "/login",
    "/register",
    "/password/forgot",
    "/confirm",
    "/no-such-page",
    "/tenders",
]


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_russian_pages_hold_no_untranslated_english(client, russian, path):
    page = client.get(path)
    assert page.status_code in (200, 404)
    assert untranslated_english(page.get_data(as_text=True)) == []


def test_flash_of_the_login_wall_is_in_the_visitors_language(client, russian):
    resp = client.get("/cabinet", follow_redirects=True)
    assert "Войдите, чтобы открыть эту страницу." in resp.get_data(as_text=True)
    resp = client.get("/cabinet", follow_redirects=True, headers={"Accept-Language": "en"})
    assert "Log in to see this page." in resp.get_data(as_text=True)


def test_form_errors_in_russian(client, russian):
    token = csrf_of(client, "/login")
    page = client.post("/login", data={"csrf_token": token, "email": "", "password": ""})
    assert page.status_code == 422
    assert "Длина должна быть от 3 до 254 символов." in page.get_data(as_text=True)
    assert untranslated_english(page.get_data(as_text=True)) == []


CABINET_PAGES = [
    "/",
    "/cabinet",
    "/members",
    "/tokens",
    "/password/reset/not-a-token",
    "/cabinet/organizations/new",
]


def test_russian_account_pages_hold_no_untranslated_english(client, db, russian):
    # Russian user data: the scan looks for English words
    org = make_org(name="ООО «Ромашка»")
    admin = make_user(org, email="admin@example.ru", name="Анна")
    make_user(org, roles=["specialist"], email="member@example.ru", name="Борис")
    pending = make_org(name="ООО «Новичок»", accreditation_status="pending")
    make_user(pending, email="new@example.ru", name="Нина")
    operator = make_user(None, email="operator@example.ru", name="Ольга", is_operator=True)
    db.session.commit()
    login(client, admin.email)
    for path in CABINET_PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert untranslated_english(page.get_data(as_text=True)) == [], path
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    login(client, operator.email)
    page = client.get("/operator/accreditation")
    assert page.status_code == 200
    assert untranslated_english(page.get_data(as_text=True)) == []


def test_russian_notification_pages_hold_no_untranslated_english(app, client, db, russian):
    """The inbox, subscriptions, «Торги для меня», the unsubscribe page, undelivered mail."""
    from core.events import record_event
    from core.transaction import commit
    from notifications import delivery, subscriptions
    from tenders import service as tenders
    from tenders.schemas import TenderCreate
    from tests.e2e.api_helpers import draft_body

    with app.app_context():
        customer = make_org(name="ООО «Заказчик»", is_supplier=False)
        buyer = make_user(customer, email="buyer@example.ru", name="Анна")
        supplier = make_org(name="ООО «Поставщик»", is_customer=False, declared_categories=["27"])
        reader = make_user(supplier, email="reader@example.ru", name="Борис")
        make_user(None, email="operator@example.ru", name="Ольга", is_operator=True)
        sub = subscriptions.create(
            reader,
            {"name": "Кабель", "categories": ["27"], "regions": ["66"], "keywords": ["кабель"]},
        )
        commit()
        tender = tenders.create_draft(buyer, customer, TenderCreate().load(draft_body()))
        tenders.publish(buyer, customer, tender.id)
        subscriptions.follow(reader, tender.id)
        commit()
        record_event("tender.extended", tender.id, {"number": tender.number, "extensions": 1})
        commit()
        reader_id, sub_id, number = reader.id, sub.id, tender.number
        tokens = [
            delivery.unsubscribe_token(reader_id, scope)
            for scope in (f"subscription:{sub_id}", "alerts", f"tender:{tender.id}")
        ]
    pages = [
        "/cabinet/notifications",
        "/cabinet/notifications?unread=1",
        "/cabinet/subscriptions",
        "/cabinet/subscriptions/new",
        f"/cabinet/subscriptions/{sub_id}",
        "/cabinet/for-me",
        "/cabinet/for-me?add_region=Москва&drop_category=27.4",
    ]
    login(client, "reader@example.ru")
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        text = page.get_data(as_text=True)
        assert untranslated_english(text) == [], path
    assert "Торги для меня" in client.get("/cabinet/for-me").get_data(as_text=True)
    assert number in client.get("/cabinet/notifications").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    for token in [*tokens, "not-a-token"]:
        page = client.get(f"/unsubscribe/{token}")
        assert page.status_code in (200, 400)
        assert untranslated_english(page.get_data(as_text=True)) == [], token
    page = client.post(f"/unsubscribe/{tokens[0]}", data={"List-Unsubscribe": "One-Click"})
    assert "Письма о новых закупках по подписке «Кабель» отключены." in page.get_data(as_text=True)
    login(client, "operator@example.ru")
    page = client.get("/operator/mail")
    assert page.status_code == 200
    assert untranslated_english(page.get_data(as_text=True)) == []
