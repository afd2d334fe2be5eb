"""Roles inside an organization (issue 20): who may prepare, sign and see what, through the
API and the pages; every refusal answers 4xx and changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from accounts.models import Membership, Organization
from audit.models import AuditEvent
from bids.models import Bid
from core import clock
from core.transaction import commit
from tenders.models import Tender
from tests.e2e.api_helpers import Caller, caller, draft_body
from tests.e2e.bidding_helpers import Bidder, bidder, offer, submit, tender_in_window
from tests.e2e.helpers import csrf_of, login
from tests.factories import make_user


def member(app, of: Caller, roles, key: bool = False) -> Caller | Bidder:
    """Another member of `of`'s organization with these roles and its own token (and, with
    key, a registered signing key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from accounts.service import create_token
    from core.extensions import db
    from signatures.service import register_key

    with app.test_request_context():
        user = make_user(db.session.get(Organization, of.org_id), roles=list(roles))
        _, token = create_token(user, of.org_id, "test")
        who = Caller(of.org_id, user.id, user.email, {"Authorization": f"Bearer {token}"})
        if not key:
            commit()
            return who
        private = ec.generate_private_key(ec.SECP256R1())
        pem = (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        key_id = register_key(user, pem, "test").id
        commit()
    return Bidder(who, key_id, private)


def _refused(resp, status: int = 403, why: str = "") -> None:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    assert why in resp.get_json()["error"]["message"], resp.get_json()


def _audited(db, action: str) -> int:
    return db.session.execute(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    ).scalar_one()


@pytest.fixture
def customer_team(app):
    """A customer with its founder (administrator + manager), two specialists, an observer
    and a pure administrator."""
    boss = caller(app)
    return {
        "manager": boss,
        "alice": member(app, boss, ["specialist"]),
        "bob": member(app, boss, ["specialist"]),
        "observer": member(app, boss, ["observer"]),
        "admin": member(app, boss, ["administrator"]),
    }


def _draft(client, who: Caller) -> int:
    resp = client.post("/api/v1/tenders", json=draft_body(), headers=who.headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_a_specialist_prepares_its_own_tenders_only(app, client, db, customer_team):
    alice, bob, boss = customer_team["alice"], customer_team["bob"], customer_team["manager"]
    tender_id = _draft(client, alice)
    assert db.session.get(Tender, tender_id).responsible_id == alice.user_id
    # Bob does not see Alice's draft, nor may he change, publish or cancel it.
    _refused(client.get(f"/api/v1/tenders/{tender_id}", headers=bob.headers), 404)
    patch = client.patch(
        f"/api/v1/tenders/{tender_id}", json={"title": "Bob's"}, headers=bob.headers
    )
    _refused(patch, why="responsible")
    _refused(client.post(f"/api/v1/tenders/{tender_id}/publish", headers=bob.headers))
    cancel = client.post(
        f"/api/v1/tenders/{tender_id}/cancel", json={"reason": "not needed"}, headers=bob.headers
    )
    _refused(cancel)
    db.session.expire_all()
    assert db.session.get(Tender, tender_id).title == draft_body()["title"]
    assert db.session.get(Tender, tender_id).status == "draft"
    # Her own list has it; Bob's has not, and he may not list everything.
    mine = client.get("/api/v1/cabinet/tenders?scope=mine", headers=alice.headers).get_json()
    assert [t["id"] for t in mine] == [tender_id]
    assert client.get("/api/v1/cabinet/tenders", headers=bob.headers).get_json() == []
    _refused(client.get("/api/v1/cabinet/tenders?scope=all", headers=bob.headers))
    # The manager sees and changes every tender, and lists all of them by responsible person.
    patch = client.patch(
        f"/api/v1/tenders/{tender_id}", json={"title": "By the manager"}, headers=boss.headers
    )
    assert patch.status_code == 200, patch.get_json()
    listed = client.get(
        f"/api/v1/cabinet/tenders?scope=all&responsible={alice.user_id}", headers=boss.headers
    ).get_json()
    assert [(t["id"], t["responsible_id"]) for t in listed] == [(tender_id, alice.user_id)]
    none = f"/api/v1/cabinet/tenders?scope=all&responsible={bob.user_id}"
    assert client.get(none, headers=boss.headers).get_json() == []
    _refused(client.get("/api/v1/cabinet/tenders?scope=nobody", headers=boss.headers), 422)


def test_a_manager_reassigns_a_tender_and_the_rights_follow(app, client, db, customer_team):
    alice, bob, boss = customer_team["alice"], customer_team["bob"], customer_team["manager"]
    tender_id = _draft(client, alice)
    url = f"/api/v1/tenders/{tender_id}/responsible"
    # Only a manager reassigns; only to a member who prepares tenders.
    _refused(client.put(url, json={"user_id": bob.user_id}, headers=alice.headers))
    _refused(
        client.put(url, json={"user_id": bob.user_id}, headers=customer_team["observer"].headers)
    )
    bad = client.put(url, json={"user_id": customer_team["observer"].user_id}, headers=boss.headers)
    _refused(bad, 422)
    stranger = caller(app)
    _refused(client.put(url, json={"user_id": stranger.user_id}, headers=boss.headers), 422)
    _refused(client.put(url, json={"user_id": "x"}, headers=boss.headers), 422)
    _refused(client.put(url, json={"user_id": bob.user_id}, headers=stranger.headers), 404)
    before = _audited(db, "tender.responsible_changed")
    resp = client.put(url, json={"user_id": bob.user_id}, headers=boss.headers)
    assert resp.status_code == 200 and resp.get_json()["responsible_id"] == bob.user_id
    assert _audited(db, "tender.responsible_changed") == before + 1
    # Bob changes it now; Alice (its author) still sees it but changes it no more.
    patch = {"title": "Bob's now"}
    assert (
        client.patch(f"/api/v1/tenders/{tender_id}", json=patch, headers=bob.headers).status_code
        == 200
    )
    _refused(client.patch(f"/api/v1/tenders/{tender_id}", json=patch, headers=alice.headers))
    assert client.get(f"/api/v1/tenders/{tender_id}", headers=alice.headers).status_code == 200


def test_an_observer_sees_everything_and_changes_nothing(app, client, db, customer_team):
    observer, boss = customer_team["observer"], customer_team["manager"]
    tender_id = _draft(client, customer_team["alice"])
    h = observer.headers
    assert client.get(f"/api/v1/tenders/{tender_id}", headers=h).status_code == 200
    listed = client.get("/api/v1/cabinet/tenders", headers=h).get_json()
    assert tender_id in [t["id"] for t in listed]
    before = db.session.execute(select(func.count()).select_from(Tender)).scalar_one()
    _refused(client.post("/api/v1/tenders", json=draft_body(), headers=h), why="manager")
    lot = {"title": "x", "award_mode": "per_position"}
    for method, path, body in [
        ("patch", "", {"title": "x"}),
        ("post", "/lots", lot),
        ("post", "/publish", None),
        ("post", "/cancel", {"reason": "because"}),
        ("post", "/copy", None),
        ("put", "/responsible", {"user_id": boss.user_id}),
    ]:
        call = getattr(client, method)
        resp = call(f"/api/v1/tenders/{tender_id}{path}", json=body, headers=h)
        _refused(resp)
    assert db.session.execute(select(func.count()).select_from(Tender)).scalar_one() == before
    db.session.expire_all()
    assert db.session.get(Tender, tender_id).status == "draft"
    # The manager publishes it; the observer may not amend it, cancel it or answer questions.
    published = client.post(f"/api/v1/tenders/{tender_id}/publish", headers=boss.headers)
    assert published.status_code == 200, published.get_json()
    amend = {"summary": "later", "bid_deadline": (clock.now() + dt.timedelta(days=20)).isoformat()}
    _refused(client.post(f"/api/v1/tenders/{tender_id}/amendments", json=amend, headers=h))


def test_a_pure_administrator_manages_members_but_prepares_nothing(app, client, db, customer_team):
    admin, alice = customer_team["admin"], customer_team["alice"]
    _refused(client.post("/api/v1/tenders", json=draft_body(), headers=admin.headers))
    org = admin.org_id
    # Members and roles: an administrator changes them; nobody else.
    listed = client.get(f"/api/v1/organizations/{org}/members", headers=alice.headers)
    assert listed.status_code == 200
    assert {m["user_id"]: m["roles"] for m in listed.get_json()}[alice.user_id] == ["specialist"]
    url = f"/api/v1/organizations/{org}/members/{alice.user_id}"
    for who in ("alice", "manager", "observer"):
        resp = client.patch(url, json={"roles": ["manager"]}, headers=customer_team[who].headers)
        if who == "manager":  # the founder is an administrator too
            assert resp.status_code == 200
            client.patch(url, json={"roles": ["specialist"]}, headers=admin.headers)
        else:
            _refused(resp, why="administrator")
    _refused(client.patch(url, json={"roles": []}, headers=admin.headers), 422)
    _refused(client.patch(url, json={"roles": ["boss"]}, headers=admin.headers), 422)
    _refused(client.patch(url, json={}, headers=admin.headers), 422)
    before = _audited(db, "organization.member_roles_changed")
    resp = client.patch(url, json={"roles": ["observer", "specialist"]}, headers=admin.headers)
    assert resp.status_code == 200 and resp.get_json()["roles"] == ["observer", "specialist"]
    assert _audited(db, "organization.member_roles_changed") == before + 1
    # Another organization's administrator has nothing to say here.
    stranger = caller(app)
    _refused(client.patch(url, json={"roles": ["manager"]}, headers=stranger.headers))
    _refused(client.get(f"/api/v1/organizations/{org}/members", headers=stranger.headers))
    # Anonymous: 401.
    assert client.patch(url, json={"roles": ["manager"]}).status_code == 401


def test_the_last_administrator_keeps_the_role(app, client, db):
    boss = caller(app)
    url = f"/api/v1/organizations/{boss.org_id}/members/{boss.user_id}"
    resp = client.patch(url, json={"roles": ["manager"]}, headers=boss.headers)
    _refused(resp, 409, "last administrator")
    db.session.expire_all()
    m = db.session.execute(
        select(Membership).where(Membership.user_id == boss.user_id)
    ).scalar_one()
    assert m.roles == ["administrator", "manager"]
    # With a second administrator, the first may step down.
    member(app, boss, ["administrator"])
    assert client.patch(url, json={"roles": ["manager"]}, headers=boss.headers).status_code == 200
    # And has no right to administer any more, at once (the same token).
    _refused(client.patch(url, json={"roles": ["administrator"]}, headers=boss.headers))


def test_a_role_change_applies_to_the_next_call(app, client, db, customer_team):
    """The token reads the member's roles afresh on every call."""
    alice, admin = customer_team["alice"], customer_team["admin"]
    tender_id = _draft(client, alice)
    url = f"/api/v1/organizations/{alice.org_id}/members/{alice.user_id}"
    assert client.patch(url, json={"roles": ["observer"]}, headers=admin.headers).status_code == 200
    patch = {"title": "still mine?"}
    _refused(client.patch(f"/api/v1/tenders/{tender_id}", json=patch, headers=alice.headers))
    remove = client.delete(url, headers=admin.headers)
    assert remove.status_code == 204
    assert client.get("/api/v1/cabinet/tenders", headers=alice.headers).status_code == 401


def test_bids_follow_their_responsible_person(app, client, db):
    tender = tender_in_window(app, client, minutes=180)
    manager = bidder(app, client)  # the founder: administrator and manager
    s1 = member(app, manager.who, ["specialist"], key=True)
    s2 = member(app, manager.who, ["specialist"], key=True)
    observer = member(app, manager.who, ["observer"], key=True)
    tid = tender["id"]
    resp = submit(client, s1, tid, offer({"1": "100.00"}))
    assert resp.status_code == 201, resp.get_json()
    bid = db.session.execute(select(Bid).where(Bid.tender_id == tid)).scalar_one()
    assert bid.responsible_id == s1.who.user_id
    # Another specialist neither sees nor signs it; an observer sees it and signs nothing.
    _refused(client.get(f"/api/v1/tenders/{tid}/bid", headers=s2.headers), why="responsible")
    _refused(submit(client, s2, tid, offer({"1": "90.00"})), why="responsible")
    _refused(client.post(f"/api/v1/tenders/{tid}/bid/withdraw", headers=s2.headers))
    mine = client.get(f"/api/v1/tenders/{tid}/bid", headers=observer.headers)
    assert mine.status_code == 200 and mine.get_json()["responsible_id"] == s1.who.user_id
    _refused(submit(client, observer, tid, offer({"1": "90.00"})), why="sign")
    _refused(client.post(f"/api/v1/tenders/{tid}/bid/withdraw", headers=observer.headers))
    offers = client.get(f"/api/v1/tenders/{tid}/offers", headers=s2.headers).get_json()
    assert offers["level"] == "count"  # what the bid lets the organization see: not Bob's
    # The manager reassigns it to the second specialist (audited); the rights follow.
    url = f"/api/v1/tenders/{tid}/bid/responsible"
    _refused(client.put(url, json={"user_id": s2.who.user_id}, headers=s1.headers))
    _refused(client.put(url, json={"user_id": observer.who.user_id}, headers=manager.headers), 422)
    before = _audited(db, "bid.responsible_changed")
    resp = client.put(url, json={"user_id": s2.who.user_id}, headers=manager.headers)
    assert resp.status_code == 200 and resp.get_json()["responsible_id"] == s2.who.user_id
    assert _audited(db, "bid.responsible_changed") == before + 1
    assert submit(client, s2, tid, offer({"1": "90.00"})).status_code == 201
    _refused(submit(client, s1, tid, offer({"1": "80.00"})), why="responsible")
    assert submit(client, manager, tid, offer({"1": "85.00"})).status_code == 201
    db.session.expire_all()
    assert db.session.get(Bid, bid.id).revision_count == 3
    # Another organization has no bid here; anonymous callers are refused.
    other = bidder(app, client)
    _refused(client.put(url, json={"user_id": other.who.user_id}, headers=other.headers), 404)
    assert client.get(f"/api/v1/tenders/{tid}/bid").status_code == 401


def test_a_first_bid_is_in_the_charge_of_who_submitted_it(app, client, db):
    """Both accept paths (PostgreSQL's one call, the locked path) store the submitter."""
    tender = tender_in_window(app, client, minutes=180)
    supplier = bidder(app, client)
    specialist = member(app, supplier.who, ["specialist"], key=True)
    assert submit(client, specialist, tender["id"], offer({"1": "77.00"})).status_code == 201
    bid = db.session.execute(select(Bid).where(Bid.tender_id == tender["id"])).scalar_one()
    assert bid.responsible_id == specialist.who.user_id


# -- pages --------------------------------------------------------------------------------------


def _session(client, who: Caller) -> None:
    assert login(client, who.email).status_code == 302


def test_the_members_page_changes_roles_with_checkboxes(app, client, db, customer_team):
    admin, alice = customer_team["admin"], customer_team["alice"]
    _session(client, admin)
    token = csrf_of(client, "/members")
    page = client.get("/members").get_data(as_text=True)
    assert f'action="/members/{alice.user_id}/roles"' in page
    url = f"/members/{alice.user_id}/roles"
    resp = client.post(url, data={"csrf_token": token})
    assert resp.status_code == 422 and "Choose at least one role." in resp.get_data(as_text=True)
    resp = client.post(url, data={"csrf_token": token, "roles": ["manager", "specialist"]})
    assert resp.status_code == 302
    db.session.expire_all()
    m = db.session.execute(
        select(Membership).where(Membership.user_id == alice.user_id)
    ).scalar_one()
    assert m.roles == ["manager", "specialist"]
    own = client.post(
        f"/members/{admin.user_id}/roles", data={"csrf_token": token, "roles": ["observer"]}
    )
    assert own.status_code == 302  # the founder is still an administrator: admin steps down
    # A specialist may not change anyone's roles.
    client.post("/logout", data={"csrf_token": token})
    _session(client, customer_team["bob"])
    token = csrf_of(client, "/members")
    assert "member-roles" not in client.get("/members").get_data(as_text=True)
    refused = client.post(url, data={"csrf_token": token, "roles": ["observer"]})
    assert refused.status_code == 403


def test_cabinet_lists_mine_and_all_by_responsible(app, client, db, customer_team):
    alice, boss = customer_team["alice"], customer_team["manager"]
    alices = _draft(client, alice)
    bosses = _draft(client, boss)
    _session(client, alice)
    page = client.get("/cabinet/tenders").get_data(as_text=True)
    assert f"/cabinet/tenders/{alices}" in page and f"/cabinet/tenders/{bosses}" not in page
    assert client.get("/cabinet/tenders?scope=all").status_code == 403
    assert client.get(f"/cabinet/tenders/{bosses}").status_code == 403
    token = csrf_of(client, "/cabinet/tenders")
    client.post("/logout", data={"csrf_token": token})
    _session(client, customer_team["observer"])
    page = client.get("/cabinet/tenders").get_data(as_text=True)
    assert f"/cabinet/tenders/{alices}" in page and f"/cabinet/tenders/{bosses}" in page
    page = client.get(f"/cabinet/tenders?scope=all&responsible={alice.user_id}")
    text = page.get_data(as_text=True)
    assert f"/cabinet/tenders/{alices}" in text and f"/cabinet/tenders/{bosses}" not in text
    edit = client.get(f"/cabinet/tenders/{alices}").get_data(as_text=True)
    assert "responsible-name" in edit and "/publish" not in edit  # read only
    token = csrf_of(client, f"/cabinet/tenders/{alices}")
    resp = client.post(f"/cabinet/tenders/{alices}/publish", data={"csrf_token": token})
    assert resp.status_code == 403
    assert client.get("/cabinet/tenders?responsible=abc").status_code == 422


def test_a_user_registers_another_organization_without_a_second_email(app, client, db):
    from tests.factories import valid_inn10

    boss = caller(app)
    _session(client, boss)
    token = csrf_of(client, "/cabinet/organizations/new")
    inn = valid_inn10(990_000 + boss.org_id)
    form = {
        "csrf_token": token,
        "org_name": "ООО Вторая компания",
        "inn": inn,
        "kpp": "770101001",
        "region_code": "77",
        "roles": ["supplier"],
    }
    bad = client.post("/cabinet/organizations/new", data={**form, "inn": "123"})
    assert bad.status_code == 422
    resp = client.post("/cabinet/organizations/new", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    org = db.session.execute(select(Organization).where(Organization.inn == inn)).scalar_one()
    assert org.accreditation_status == "pending" and org.is_supplier and not org.is_customer
    m = db.session.execute(
        select(Membership).where(Membership.organization_id == org.id)
    ).scalar_one()
    assert m.user_id == boss.user_id and m.roles == ["administrator", "manager"]
    assert _audited(db, "organization.registered") >= 1
    # It acts for the new one now and switches back as before.
    assert "ООО Вторая компания" in client.get("/cabinet").get_data(as_text=True)
    switched = client.post("/switch-org", data={"csrf_token": token, "org_id": boss.org_id})
    assert switched.status_code == 302
    # The same INN again: refused, nothing stored.
    again = client.post("/cabinet/organizations/new", data=form)
    assert again.status_code == 409
    count = select(func.count()).select_from(Organization).where(Organization.inn == inn)
    assert db.session.execute(count).scalar_one() == 1
    # Through the API too; anonymous callers are refused.
    body = {
        "org_name": "ООО Третья",
        "inn": valid_inn10(991_000 + boss.org_id),
        "kpp": "770101001",
        "region_code": "77",
    }
    api = client.post(
        "/api/v1/organizations", json={**body, "roles": ["customer"]}, headers=boss.headers
    )
    assert api.status_code == 201, api.get_json()
    assert api.get_json()["accreditation_status"] == "pending"
    assert client.post("/api/v1/organizations", json=body).status_code in (401, 422)


def test_another_organization_is_refused_everywhere(app, client, db, customer_team):
    tender_id = _draft(client, customer_team["alice"])
    stranger = caller(app)
    _refused(client.get(f"/api/v1/tenders/{tender_id}", headers=stranger.headers), 404)
    patch = client.patch(
        f"/api/v1/tenders/{tender_id}", json={"title": "x"}, headers=stranger.headers
    )
    _refused(patch, 404)
    listed = client.get("/api/v1/cabinet/tenders", headers=stranger.headers).get_json()
    assert tender_id not in [t["id"] for t in listed]


def test_results_need_the_right_to_prepare_on_that_tender(app, client, db, customer_team):
    from tenders import jobs

    alice, boss = customer_team["alice"], customer_team["manager"]
    observer, bob = customer_team["observer"], customer_team["bob"]
    tender = tender_in_window(app, client, minutes=60, customer=boss)
    tid = tender["id"]
    reassign = client.put(
        f"/api/v1/tenders/{tid}/responsible", json={"user_id": alice.user_id}, headers=boss.headers
    )
    assert reassign.status_code == 200
    supplier = bidder(app, client)
    assert submit(client, supplier, tid, offer({"1": "100.00"})).status_code == 201
    clock.freeze(clock.now() + dt.timedelta(hours=2))
    with app.app_context():
        assert jobs.close_at_deadline(tid) == "closed"
    body = {"participant": 1, "lot": None, "reason": "documents are missing"}
    for who in (observer, bob, customer_team["admin"]):
        _refused(
            client.post(f"/api/v1/tenders/{tid}/disqualifications", json=body, headers=who.headers)
        )
        _refused(client.post(f"/api/v1/tenders/{tid}/results/publish", headers=who.headers))
    # The observer sees the comparison, the other specialist does not.
    assert (
        client.get(f"/api/v1/tenders/{tid}/evaluation", headers=observer.headers).status_code == 200
    )
    _refused(client.get(f"/api/v1/tenders/{tid}/evaluation", headers=bob.headers))
    db.session.expire_all()
    assert db.session.get(Tender, tid).status == "closed"
    resp = client.post(f"/api/v1/tenders/{tid}/disqualifications", json=body, headers=alice.headers)
    assert resp.status_code == 201, resp.get_json()
