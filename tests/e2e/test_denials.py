"""Who may not do what: every refusal answers 4xx and changes nothing."""

import pytest
from sqlalchemy import func, select

from accounts.models import ApiToken, Membership, Organization
from accounts.service import create_token, revoke_token
from bids.models import Bid, BidRevision
from core.transaction import commit
from tenders.models import Tender
from tests.e2e.api_helpers import caller, draft_body
from tests.e2e.bidding_helpers import bidder, offer, sign, submit, tender_in_window
from tests.e2e.helpers import csrf_of, login
from tests.factories import PASSWORD, make_org, make_user


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_unconfirmed_user_cannot_log_in(client, db):
    user = make_user(make_org(), email_confirmed_at=None)
    resp = login(client, user.email)
    assert resp.status_code == 403
    assert client.get("/cabinet").status_code == 302  # still anonymous


def _refused(resp, why: str) -> None:
    """A 403 'forbidden' whose message says why (which status, or which role is missing)."""
    assert resp.status_code == 403, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "forbidden" and why in error["message"], error


def _now(db, org_id: int, **fields) -> None:
    """The organization changes after the fact (e.g. its accreditation is under review again)."""
    org = db.session.get(Organization, org_id)
    for field, value in fields.items():
        setattr(org, field, value)
    commit()


def _count(db, model, where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(where)).scalar_one()


@pytest.mark.parametrize(
    ("org", "why"),
    [
        ({"accreditation_status": "pending"}, "not accredited (status: pending)"),
        ({"accreditation_status": "rejected"}, "not accredited (status: rejected)"),
        ({"is_customer": False, "is_supplier": True}, "not registered as a customer"),
    ],
    ids=["pending", "rejected", "supplier_only"],
)
def test_unaccredited_customer_cannot_draft_or_publish(app, client, db, org, why):
    # Drafted while accredited; then the organization is no longer an accredited customer.
    customer = caller(app)
    draft = client.post("/api/v1/tenders", json=draft_body(), headers=customer.headers)
    assert draft.status_code == 201, draft.get_json()
    tender_id = draft.get_json()["id"]
    _now(db, customer.org_id, **org)
    resp = client.post(f"/api/v1/tenders/{tender_id}/publish", headers=customer.headers)
    _refused(resp, why)
    db.session.expire_all()
    tender = db.session.get(Tender, tender_id)
    assert tender.status == "draft" and tender.published_at is None
    # Nor may it store a new draft.
    before = _count(db, Tender, Tender.customer_id == customer.org_id)
    _refused(client.post("/api/v1/tenders", json=draft_body(), headers=customer.headers), why)
    assert _count(db, Tender, Tender.customer_id == customer.org_id) == before


@pytest.mark.parametrize(
    ("org", "why"),
    [
        ({"accreditation_status": "pending"}, "not accredited (status: pending)"),
        ({"accreditation_status": "rejected"}, "not accredited (status: rejected)"),
        ({"is_supplier": False, "is_customer": True}, "not registered as a supplier"),
    ],
    ids=["pending", "rejected", "customer_only"],
)
def test_unaccredited_supplier_cannot_bid(app, client, db, org, why):
    tender = tender_in_window(app, client, minutes=120)
    b = bidder(app, client)  # its key is registered while accredited
    url = f"/api/v1/tenders/{tender['id']}/bid"
    body = offer({"1": "100.00"})
    # Prepared and signed while accredited, submitted once it no longer is.
    prepared = client.post(f"{url}/prepare", json=body, headers=b.headers)
    assert prepared.status_code == 200, prepared.get_json()
    signed = {
        **body,
        "key_id": b.key_id,
        "signature": sign(b.private_key, prepared.json["payload"]),
    }
    _now(db, b.who.org_id, **org)
    _refused(client.post(f"{url}/revisions", json=signed, headers=b.headers), why)
    _refused(submit(client, b, tender["id"], body), why)  # nor can it prepare a new one
    db.session.expire_all()
    assert _count(db, Bid, Bid.tender_id == tender["id"]) == 0
    bids = select(Bid.id).where(Bid.tender_id == tender["id"])
    assert _count(db, BidRevision, BidRevision.bid_id.in_(bids)) == 0


def test_someone_elses_organization(app, client, db):
    mine, theirs = make_org(), make_org(name="OOO Chuzhie")
    user = make_user(mine)
    with app.test_request_context():
        _, token = create_token(user, mine.id, "t")
        commit()
    headers = _bearer(token)
    assert client.get(f"/api/v1/organizations/{theirs.id}", headers=headers).status_code == 403
    resp = client.patch(
        f"/api/v1/organizations/{theirs.id}", json={"name": "Hacked"}, headers=headers
    )
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"
    db.session.refresh(theirs)
    assert theirs.name == "OOO Chuzhie"
    # Through the pages: switching to a foreign organization is refused.
    login(client, user.email)
    resp = client.post(
        "/switch-org", data={"org_id": theirs.id, "csrf_token": csrf_of(client, "/cabinet")}
    )
    assert resp.status_code == 403


def test_a_token_acts_for_its_own_organization_only(app, client, db):
    """The user administers two organizations; a token made for the first may not touch the
    second (a leaked integration token reaches one organization, not every one its user
    belongs to), while the first's own paths answer as before."""
    first, second = make_org(), make_org(name="OOO Vtoraya", is_supplier=True)
    user = make_user(first)
    db.session.add(Membership(user_id=user.id, organization_id=second.id, roles=["administrator"]))
    commit()
    with app.test_request_context():
        _, token = create_token(user, first.id, "t")
        commit()
    headers = _bearer(token)
    assert client.get(f"/api/v1/organizations/{first.id}", headers=headers).status_code == 200
    assert (
        client.get(f"/api/v1/organizations/{first.id}/members", headers=headers).status_code == 200
    )
    attempts = [
        client.get(f"/api/v1/organizations/{second.id}", headers=headers),
        client.patch(
            f"/api/v1/organizations/{second.id}", json={"name": "Renamed"}, headers=headers
        ),
        client.get(f"/api/v1/organizations/{second.id}/members", headers=headers),
        client.patch(
            f"/api/v1/organizations/{second.id}/members/{user.id}",
            json={"roles": ["manager"]},
            headers=headers,
        ),
        client.put(
            f"/api/v1/organizations/{second.id}/categories",
            json={"categories": ["26.20"]},
            headers=headers,
        ),
        client.get(f"/api/v1/organizations/{second.id}/dashboard", headers=headers),
    ]
    for resp in attempts:
        _refused(resp, "another organization")
    login(client, user.email)  # the browser session acts for any organization of the user
    assert client.get(f"/api/v1/organizations/{second.id}/members").status_code == 200
    db.session.refresh(second)
    assert second.name == "OOO Vtoraya"
    assert {m.roles[0] for m in second.memberships} == {"administrator"}


def test_member_who_is_not_admin_cannot_edit_or_invite(app, client, db):
    org = make_org()
    make_user(org)
    member = make_user(org, roles=["specialist"])
    login(client, member.email)
    token = csrf_of(client, "/members")
    assert (
        client.post(
            "/members/invite", data={"email": "x@example.test", "csrf_token": token}
        ).status_code
        == 403
    )
    assert (
        client.post("/cabinet", data={"name": "New name", "csrf_token": token}).status_code == 403
    )


def test_bad_and_revoked_tokens(app, client, db):
    org = make_org()
    user = make_user(org)
    with app.test_request_context():
        api_token, plaintext = create_token(user, org.id, "t")
        token_id = api_token.id
        commit()
    assert client.get("/api/v1/me", headers=_bearer(plaintext)).status_code == 200
    for bad in ("tnd_" + "x" * 43, "nonsense", plaintext + "x"):
        resp = client.get("/api/v1/me", headers=_bearer(bad))
        assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    with app.test_request_context():
        revoke_token(db.session.get(type(user), user.id), token_id)
        commit()
    assert client.get("/api/v1/me", headers=_bearer(plaintext)).status_code == 401


def test_token_stops_when_membership_ends(app, client, db):
    org = make_org()
    user = make_user(org)
    with app.test_request_context():
        _, plaintext = create_token(user, org.id, "t")
        commit()
    for m in list(user.memberships):
        db.session.delete(m)
    db.session.flush()
    assert client.get("/api/v1/me", headers=_bearer(plaintext)).status_code == 401


def test_cannot_revoke_someone_elses_token(app, client, db):
    org = make_org()
    owner, other = make_user(org), make_user(org)
    with app.test_request_context():
        token, _ = create_token(owner, org.id, "t")
        _, other_plain = create_token(other, org.id, "o")
        token_id = token.id
        commit()
    resp = client.delete(f"/api/v1/tokens/{token_id}", headers=_bearer(other_plain))
    assert resp.status_code == 404
    assert db.session.get(ApiToken, token_id).revoked_at is None


def test_missing_csrf_token_is_refused(client, db):
    user = make_user(make_org())
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 400 and "security token" in resp.get_data(as_text=True)
    login(client, user.email)
    resp = client.post("/tokens", data={"name": "no csrf"})
    assert resp.status_code == 400
    # A logged-in browser calling the API needs the X-CSRFToken header for writes.
    assert client.post("/api/v1/tokens", json={"name": "x"}).status_code == 401
    token = csrf_of(client, "/tokens")
    resp = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 201


def test_sixth_wrong_password_is_throttled(client, db):
    user = make_user(make_org())
    for attempt in range(5):
        resp = login(client, user.email, "wrong-password-1")
        assert resp.status_code == 401, attempt
    resp = login(client, user.email, "wrong-password-1")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0
    # Locked: even the right password is refused until the backoff ends.
    assert login(client, user.email).status_code == 429


def test_throttle_backs_off_and_expires(client, db):
    import datetime as dt

    from core import clock

    user = make_user(make_org())
    for _ in range(5):
        login(client, user.email, "wrong-password-1")
    clock.advance(dt.timedelta(seconds=31))
    assert login(client, user.email, "wrong-password-1").status_code == 401  # 6th: longer lock
    assert login(client, user.email).status_code == 429
    clock.advance(dt.timedelta(seconds=61))
    assert login(client, user.email).status_code == 302


def test_per_address_throttle_stops_password_spraying(app, client, db):
    org = make_org()
    users = [make_user(org) for _ in range(app.config["LOGIN_ADDRESS_THRESHOLD"] + 1)]
    for u in users[:-1]:
        assert login(client, u.email, "wrong-password-1", address="198.51.100.9").status_code == 401
    resp = login(client, users[-1].email, address="198.51.100.9")
    assert resp.status_code == 429
    assert login(client, users[-1].email, address="198.51.100.10").status_code == 302


def test_operator_pages_and_api_are_for_operators_only(app, client, db):
    org = make_org(accreditation_status="pending")
    user = make_user(make_org())
    login(client, user.email)
    assert client.get("/operator/accreditation").status_code == 403
    assert client.get("/operator/mail").status_code == 403
    token = csrf_of(client, "/cabinet")
    resp = client.post(
        f"/operator/accreditation/{org.id}", data={"decision": "accredit", "csrf_token": token}
    )
    assert resp.status_code == 403
    assert (
        db.session.execute(
            select(Organization.accreditation_status).where(Organization.id == org.id)
        ).scalar_one()
        == "pending"
    )
