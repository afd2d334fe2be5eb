"""From registration to an API call, through a real SMTP server, on the test database."""

import re

from sqlalchemy import func, select

from accounts.models import ApiToken, Organization, User
from tests.e2e.helpers import csrf_of, login, post_form
from tests.factories import make_user

REGISTRATION = {
    "org_name": "OOO Romashka",
    "inn": "5012123454",
    "kpp": "501201001",
    "ogrn": "1025000123422",
    "region_code": "50",
    "roles": ["supplier"],
    "is_sme": "1",
    "name": "Roman Romashkin",
    "email": "Roman@Romashka.example",
    "password": "Very-long-secret-7",
}


def test_register_confirm_accredit_login_token_api(app, db, mailbox):
    user_client, operator_client = app.test_client(), app.test_client()
    operator = make_user(is_operator=True)

    resp = post_form(user_client, "/register", "/register", REGISTRATION)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    email = "roman@romashka.example"
    org = db.session.execute(
        select(Organization).where(Organization.inn == "5012123454")
    ).scalar_one()
    assert org.accreditation_status == "pending" and org.roles == ["supplier"] and org.is_sme

    # Not confirmed yet: login refused.
    resp = login(user_client, email, REGISTRATION["password"])
    assert resp.status_code == 403 and "Confirm your email" in resp.get_data(as_text=True)

    link = mailbox.link(email, "/confirm/")
    assert user_client.get(link).status_code == 302
    assert db.session.execute(select(User).where(User.email == email)).scalar_one().is_confirmed

    # The operator accredits from the queue; the members are told by mail.
    assert login(operator_client, operator.email).status_code == 302
    queue = operator_client.get("/operator/accreditation").get_data(as_text=True)
    assert "OOO Romashka" in queue
    resp = post_form(
        operator_client,
        "/operator/accreditation",
        f"/operator/accreditation/{org.id}",
        {"decision": "accredit"},
    )
    assert resp.status_code == 302
    db.session.refresh(org)
    assert org.accreditation_status == "accredited"
    [decision] = mailbox.to(email)[-1:]
    assert "accredited" in decision["Subject"]

    # Login, create an API token (shown once), call the API with it.
    assert login(user_client, email, REGISTRATION["password"]).status_code == 302
    page = post_form(user_client, "/tokens", "/tokens", {"name": "1C"}).get_data(as_text=True)
    token = re.search(r'class="token-once">(tnd_[^<]+)<', page).group(1)
    assert token not in user_client.get("/tokens").get_data(as_text=True)  # shown once
    stored = db.session.execute(select(ApiToken).where(ApiToken.name == "1C")).scalar_one()
    assert stored.token_hash != token and token not in stored.token_hash

    resp = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    me = resp.get_json()
    assert me["email"] == email and me["active_organization_id"] == org.id
    assert me["memberships"][0]["organization"]["accreditation_status"] == "accredited"
    db.session.refresh(stored)
    assert stored.last_used_at is not None


def test_bad_inn_checksum_is_refused_and_nothing_stored(client, db):
    before = db.session.execute(select(func.count()).select_from(Organization)).scalar_one()
    resp = post_form(client, "/register", "/register", {**REGISTRATION, "inn": "5012123455"})
    assert resp.status_code == 422
    assert "INN checksum is wrong" in resp.get_data(as_text=True)
    after = db.session.execute(select(func.count()).select_from(Organization)).scalar_one()
    assert after == before


def test_every_problem_is_reported_at_once(client):
    resp = post_form(
        client,
        "/register",
        "/register",
        {"inn": "123", "region_code": "00", "email": "not-an-email", "password": "short"},
    )
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for message in (
        "INN must be 10 digits",
        "Choose a region",
        "Not a valid email",
        "at least 10 characters",
        "Choose customer, supplier or both",
    ):
        assert message in text, message


def _count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _registered(client, data: dict) -> str:
    """Submit the form; the answer of a successful registration (redirect and message)."""
    resp = post_form(client, "/register", "/register", data)
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'<ul class="flashes".*?</ul>', page, re.S).group(0)


def test_known_inn_answers_as_a_new_registration_and_mails_the_way_in(app, client, db, mailbox):
    first = _registered(client, REGISTRATION)
    orgs, users = _count(db, Organization), _count(db, User)
    other = {**REGISTRATION, "email": "other@romashka.example"}
    again = _registered(app.test_client(), other)
    assert again == first.replace(REGISTRATION["email"], other["email"])
    assert (_count(db, Organization), _count(db, User)) == (orgs, users)
    [mail] = mailbox.to("other@romashka.example")
    body = mail.get_body(("plain",)).get_content()
    assert "already registered" in body and "ask its administrator to invite" in body
    assert "/confirm/" not in body and REGISTRATION["org_name"] not in body


def test_known_email_answers_as_a_new_registration_and_mails_the_owner(app, client, db, mailbox):
    owner = make_user(name="Roman Owner")
    before = (_count(db, Organization), _count(db, User))
    fresh = _registered(app.test_client(), {**REGISTRATION, "email": "new@romashka.example"})
    mailbox.clear()
    known = {**REGISTRATION, "inn": "7707083893", "email": owner.email.upper()}
    answer = _registered(client, known)
    assert answer == fresh.replace("new@romashka.example", known["email"])
    assert (_count(db, Organization), _count(db, User)) == (before[0] + 1, before[1] + 1)
    [mail] = mailbox.to(owner.email)
    assert "tried to register" in mail["Subject"]
    link = mailbox.link(owner.email, "/password/reset/")
    resp = post_form(client, link, link, {"password": "Brand-new-secret-9"})
    assert resp.status_code == 302
    assert login(client, owner.email, "Brand-new-secret-9").status_code == 302


def test_confirmation_link_tampered_or_expired(app, client, db, mailbox):
    import datetime as dt

    from core import clock

    post_form(client, "/register", "/register", REGISTRATION)
    link = mailbox.link("roman@romashka.example", "/confirm/")
    assert client.get(link[:-3] + "xyz").status_code == 422
    clock.advance(dt.timedelta(hours=49))
    resp = client.get(link)
    assert resp.status_code == 422 and "expired" in resp.get_data(as_text=True)


# -- the registration API -------------------------------------------------------------------

API_REGISTRATION = {**REGISTRATION, "is_sme": True}


def _count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_api_register_confirm_and_accredit(app, client, db, mailbox):
    """Before: no API; integrators scraped the form and its CSRF token."""
    from accounts.service import create_token
    from core.transaction import commit

    resp = client.post("/api/v1/registrations", json=API_REGISTRATION)
    assert resp.status_code == 202, resp.get_json()
    assert "Check the mailbox of Roman@Romashka.example" in resp.get_json()["message"]
    org = db.session.execute(
        select(Organization).where(Organization.inn == "5012123454")
    ).scalar_one()
    assert (org.accreditation_status, org.roles, org.is_sme) == ("pending", ["supplier"], True)
    email = "roman@romashka.example"
    token = mailbox.link(email, "/confirm/").rsplit("/confirm/", 1)[1]
    resp = client.post("/api/v1/registrations/confirm", json={"token": token[:-2] + "xx"})
    assert resp.status_code == 422 and "token" in resp.get_json()["error"]["fields"]
    resp = client.post("/api/v1/registrations/confirm", json={"token": token})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["email"] == email and body["email_confirmed_at"]
    assert body["memberships"] == [
        {
            "roles": ["administrator", "manager"],
            "organization": {
                "id": org.id,
                "name": "OOO Romashka",
                "inn": "5012123454",
                "roles": ["supplier"],
                "accreditation_status": "pending",
            },
        }
    ]
    assert client.post("/api/v1/registrations/confirm", json={"token": token}).status_code == 200
    # The operator accredits through the API with an operator token; the user logs in.
    operator = make_user(is_operator=True)
    with app.test_request_context():
        _, ops = create_token(operator, None, "ops", scope="operator")
        commit()
    resp = client.post(
        f"/api/v1/operator/organizations/{org.id}/accreditation",
        headers={"Authorization": f"Bearer {ops}"},
        json={"decision": "accredit"},
    )
    assert resp.status_code == 200 and resp.get_json()["accreditation_status"] == "accredited"
    assert login(app.test_client(), email, REGISTRATION["password"]).status_code == 302


def test_api_registration_names_every_bad_field_and_stores_nothing(client, db, mailbox):
    before = (_count(db, Organization), _count(db, User))
    resp = client.post(
        "/api/v1/registrations",
        json={**API_REGISTRATION, "inn": "5012123455", "region_code": "00", "roles": ["king"]},
    )
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert "INN checksum is wrong: check the digits." in fields["inn"]
    assert {"inn", "region_code", "roles.0"} <= set(fields), fields
    resp = client.post(
        "/api/v1/registrations",
        json={"email": "not-an-email", "password": "short", "kpp": "12"},
    )
    fields = resp.get_json()["error"]["fields"]
    assert {"email", "password", "org_name", "inn", "region_code", "roles", "name"} <= set(fields)
    assert resp.status_code == 422
    resp = client.post(
        "/api/v1/registrations", json={**API_REGISTRATION, "password": "Roman-secret-77"}
    )  # contains the email's name
    assert resp.status_code == 422 and "password" in resp.get_json()["error"]["fields"]
    assert (_count(db, Organization), _count(db, User)) == before
    assert mailbox.among(["roman@romashka.example", "Roman@Romashka.example", "not-an-email"]) == []


def test_api_registration_does_not_tell_what_exists(client, db, mailbox):
    first = client.post("/api/v1/registrations", json=API_REGISTRATION)
    before = (_count(db, Organization), _count(db, User))
    mailbox.clear()
    # The same email (another INN): the same answer; the mail tells the account holder.
    again = client.post("/api/v1/registrations", json={**API_REGISTRATION, "inn": "7707083893"})
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    [mail] = mailbox.to("roman@romashka.example")
    text = mail.get_body(("plain",)).get_content()
    assert "already have an account" in text and "/login" in text
    assert "/confirm/" not in text
    # Another email, the same INN: the same answer; the mail says to ask for an invitation.
    other = {**API_REGISTRATION, "email": "olga@romashka.example"}
    resp = client.post("/api/v1/registrations", json=other)
    assert resp.status_code == 202
    assert resp.get_json()["message"] == first.get_json()["message"].replace(
        "Roman@Romashka.example", "olga@romashka.example"
    )
    text = mailbox.to("olga@romashka.example")[-1].get_body(("plain",)).get_content()
    assert "INN 5012123454" in text and "already registered" in text and "invite" in text
    assert (_count(db, Organization), _count(db, User)) == before
    # Unknown categories are refused whatever exists (the check comes first).
    for body in (API_REGISTRATION, {**API_REGISTRATION, "inn": "7707083893", "email": "x@y.test"}):
        resp = client.post("/api/v1/registrations", json={**body, "categories": ["99.99.99"]})
        assert resp.status_code == 422 and "categories" in resp.get_json()["error"]["fields"]


def test_api_registration_racing_another_is_explained_by_mail(client, db, mailbox, monkeypatch):
    """The same INN registered between the check and the insert: no 500, the same answer."""
    from accounts import service

    client.post("/api/v1/registrations", json=API_REGISTRATION)
    mailbox.clear()
    real = service._mailed_known
    answers = iter([False])  # the first check misses the racing registration
    monkeypatch.setattr(service, "_mailed_known", lambda data: next(answers, None) or real(data))
    other = {**API_REGISTRATION, "email": "olga@romashka.example"}
    resp = client.post("/api/v1/registrations", json=other)
    assert resp.status_code == 202, resp.get_json()
    text = mailbox.to("olga@romashka.example")[-1].get_body(("plain",)).get_content()
    assert "INN 5012123454" in text and "already registered" in text
    assert db.session.execute(select(User).where(User.email == other["email"])).first() is None


def test_api_confirmation_mail_again(client, db, mailbox):
    client.post("/api/v1/registrations", json=API_REGISTRATION)
    mailbox.clear()
    url = "/api/v1/registrations/confirmation-mail"
    known = client.post(url, json={"email": "roman@romashka.example"})
    unknown = client.post(url, json={"email": "nobody@romashka.example"})
    assert known.status_code == unknown.status_code == 202
    assert [
        m["To"] for m in mailbox.among(["roman@romashka.example", "nobody@romashka.example"])
    ] == ["roman@romashka.example"]
    assert client.post(url, json={"email": "nope"}).status_code == 422


def test_double_submit_answers_twice_as_a_registration(app, mailbox, monkeypatch):
    """Two submissions of the same form at once: both pass the "already known?" check before
    either stores; the second store meets the unique INN and is answered as a known one."""
    import contextlib
    import threading

    from core import clock
    from core.extensions import db as _db

    # SQLite runs one writing transaction at a time (the second waits at its first
    # statement), so there the race cannot happen: the barrier gives up and the answers
    # must be right all the same.
    postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    both_checked = threading.Barrier(2, timeout=20 if postgresql else 2)
    waited, real_now = set(), clock.now

    def now_after_the_other_checked():
        # The first clock reading of a registration comes after its checks, before its store.
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            with contextlib.suppress(threading.BrokenBarrierError):
                both_checked.wait()
        return real_now()

    clients = [app.test_client(), app.test_client()]
    tokens = [csrf_of(c, "/register") for c in clients]
    data = {**REGISTRATION, "marketing_consent": "1"}
    monkeypatch.setattr(clock, "now", now_after_the_other_checked)
    answers = [None, None]

    def submit(i):
        answers[i] = clients[i].post("/register", data={**data, "csrf_token": tokens[i]})

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    monkeypatch.setattr(clock, "now", real_now)
    if postgresql:
        assert len(waited) >= 2 and not both_checked.broken  # the race really happened
    assert [a.status_code for a in answers] == [302, 302]
    with app.app_context():
        orgs = _db.session.execute(
            select(func.count()).where(Organization.inn == REGISTRATION["inn"])
        ).scalar_one()
        _db.session.remove()
    assert orgs == 1
    subjects = sorted(m["Subject"] for m in mailbox.to("roman@romashka.example"))
    assert subjects == ["Confirm your email", "Someone tried to register with your address"]


def test_registration_keeps_the_pages_language_for_later_mails(app, db, mailbox):
    """Registered on a Russian page: users.locale is "ru", so the operator's decision (made
    on an English page) reaches the new user in Russian; an English page keeps "en"."""
    russian, english, operator_client = app.test_client(), app.test_client(), app.test_client()
    russian.set_cookie("lang", "ru")
    operator = make_user(is_operator=True)
    assert post_form(russian, "/register", "/register", REGISTRATION).status_code == 302
    user = db.session.execute(
        select(User).where(User.email == "roman@romashka.example")
    ).scalar_one()
    assert user.locale == "ru"
    [confirm] = mailbox.to(user.email)
    assert re.search("[а-яё]", confirm["Subject"].lower()), confirm["Subject"]

    other = dict(REGISTRATION, email="eve@lily.example", inn="7707083893", ogrn="1027700132195")
    other.update(kpp="770701001", org_name="OOO Lily", region_code="77")
    assert post_form(english, "/register", "/register", other).status_code == 302
    assert (
        db.session.execute(select(User.locale).where(User.email == "eve@lily.example")).scalar_one()
        == "en"
    )

    org = db.session.execute(select(Organization).where(Organization.inn == "5012123454"))
    org = org.scalar_one()
    assert login(operator_client, operator.email).status_code == 302
    post_form(
        operator_client,
        "/operator/accreditation",
        f"/operator/accreditation/{org.id}",
        {"decision": "accredit"},
    )
    [decision] = mailbox.to(user.email)[-1:]
    assert decision["Subject"] == "OOO Romashka: аккредитация получена"
