"""An accredited organization's identity and roles change only through the operator's review:
the cabinet and the API request, the operator accepts or rejects, the old profile stays in
force meanwhile; every step audited, members told by mail; the denials."""

from sqlalchemy import select

from accounts.models import Organization, OrganizationChange
from accounts.service import create_token
from audit.models import AuditEvent
from core.transaction import commit
from tests.e2e.api_helpers import draft_body
from tests.e2e.helpers import login, post_form
from tests.factories import make_org, make_user

PROFILE_FORM = {"region_code": "77", "kpp": "770101001", "roles": ["supplier"]}


def _headers(app, user, org_id=None, scope="organization"):
    with app.test_request_context():
        _, plaintext = create_token(user, org_id, "t", scope)
        commit()
    return {"Authorization": f"Bearer {plaintext}"}


def _supplier(app, db, **org):
    """An accredited supplier, its admin and the admin's API token headers."""
    values = {"name": "OOO Postavka", "is_customer": False, "is_supplier": True, "is_sme": False}
    o = make_org(**{**values, **org})
    admin = make_user(o)
    return o, admin, _headers(app, admin, o.id)


def _actions(db, org_id) -> list[str]:
    return list(
        db.session.execute(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "organization", AuditEvent.object_id == str(org_id))
            .order_by(AuditEvent.id)
        ).scalars()
    )


def _org(db, org_id) -> Organization:
    db.session.expire_all()
    return db.session.get(Organization, org_id)


def test_cabinet_request_waits_and_the_old_profile_stays_in_force(app, client, db, mailbox):
    org, admin, headers = _supplier(app, db)
    login(client, admin.email)
    form = {**PROFILE_FORM, "name": "OOO Postavka i Zakupka", "roles": ["customer", "supplier"]}
    resp = post_form(client, "/cabinet", "/cabinet", {**form, "ogrn": org.ogrn})
    assert resp.status_code == 302
    page = client.get("/cabinet").get_data(as_text=True)
    assert "Pending review" in page and "OOO Postavka i Zakupka" in page
    assert "customer, supplier" in page  # the requested roles beside the ones in force
    org = _org(db, org.id)
    assert (org.name, org.roles) == ("OOO Postavka", ["supplier"])
    assert org.pending_change.changes == {
        "name": "OOO Postavka i Zakupka",
        "roles": ["customer", "supplier"],
    }
    assert org.pending_change.previous == {"name": "OOO Postavka", "roles": ["supplier"]}
    assert _actions(db, org.id)[-1] == "organization.change_requested"
    # The customer role is only requested: publishing as a customer is still refused.
    resp = client.post("/api/v1/tenders", json=draft_body(), headers=headers)
    assert (
        resp.status_code == 403
        and "not registered as a customer" in resp.get_json()["error"]["message"]
    )
    # Submitting the form again (it shows the requested values) keeps the request as it is.
    resp = post_form(client, "/cabinet", "/cabinet", {**form, "ogrn": org.ogrn})
    assert resp.status_code == 302
    assert _org(db, org.id).pending_change.changes["name"] == "OOO Postavka i Zakupka"
    # A member sees it pending but cannot withdraw it; an admin can.
    member_client = app.test_client()
    login(member_client, make_user(org, roles=["specialist"]).email)
    page = member_client.get("/cabinet").get_data(as_text=True)
    assert "Pending review" in page and "Withdraw the request" not in page
    withdraw = "/cabinet/pending-change/withdraw"
    assert post_form(member_client, "/cabinet", withdraw, {}).status_code == 403
    assert _org(db, org.id).pending_change is not None
    assert post_form(client, "/cabinet", withdraw, {}).status_code == 302
    assert _org(db, org.id).pending_change is None
    assert "Pending review" not in client.get("/cabinet").get_data(as_text=True)


def test_operator_accepts_in_the_queue_and_the_change_takes_effect(app, db, mailbox):
    org, admin, headers = _supplier(app, db)
    member = make_user(org, roles=["specialist"])
    operator = make_user(is_operator=True)
    admin_client, operator_client = app.test_client(), app.test_client()
    login(admin_client, admin.email)
    form = {**PROFILE_FORM, "name": "OOO Novaya", "roles": ["customer", "supplier"]}
    post_form(admin_client, "/cabinet", "/cabinet", form)
    change = _org(db, org.id).pending_change

    login(operator_client, operator.email)
    queue = operator_client.get("/operator/accreditation").get_data(as_text=True)
    assert "OOO Postavka" in queue and "OOO Novaya" in queue and admin.email in queue
    resp = post_form(
        operator_client,
        "/operator/accreditation",
        f"/operator/changes/{change.id}",
        {"decision": "accept"},
    )
    assert resp.status_code == 302
    org = _org(db, org.id)
    assert (org.name, org.roles, org.pending_change) == (
        "OOO Novaya",
        ["customer", "supplier"],
        None,
    )
    assert org.accreditation_status == "accredited"
    assert _actions(db, org.id)[-1] == "organization.change_accepted"
    for user in (admin, member):
        [mail] = mailbox.to(user.email)
        assert "profile change accepted" in mail["Subject"]
        assert "OOO Postavka -> OOO Novaya" in mail.get_body(("plain",)).get_content()
    resp = admin_client.post("/api/v1/tenders", json=draft_body(), headers=headers)
    assert resp.status_code == 201, resp.get_json()


def test_operator_rejects_with_a_reason_and_nothing_changes(app, db, mailbox):
    org, admin, _ = _supplier(app, db)
    operator = make_user(is_operator=True)
    admin_client, operator_client = app.test_client(), app.test_client()
    login(admin_client, admin.email)
    post_form(admin_client, "/cabinet", "/cabinet", {**PROFILE_FORM, "name": "OOO Drugaya"})
    change = _org(db, org.id).pending_change
    login(operator_client, operator.email)
    url = f"/operator/changes/{change.id}"
    resp = post_form(operator_client, "/operator/accreditation", url, {"decision": "reject"})
    assert resp.status_code == 422 and "Give a reason" in resp.get_data(as_text=True)
    assert _org(db, org.id).pending_change is not None  # nothing decided
    resp = post_form(
        operator_client,
        "/operator/accreditation",
        url,
        {"decision": "reject", "reason": "The registry extract shows another name"},
    )
    assert resp.status_code == 302
    org = _org(db, org.id)
    assert (org.name, org.pending_change) == ("OOO Postavka", None)
    assert db.session.get(OrganizationChange, change.id).status == "rejected"
    assert _actions(db, org.id)[-1] == "organization.change_rejected"
    [mail] = mailbox.to(admin.email)
    assert "The registry extract shows another name" in mail.get_body(("plain",)).get_content()
    # Decided once: a second decision is refused.
    resp = post_form(operator_client, "/operator/accreditation", url, {"decision": "accept"})
    assert resp.status_code == 409 and _org(db, org.id).name == "OOO Postavka"


def test_narrowing_applies_at_once_and_widening_waits(app, client, db):
    org, _, headers = _supplier(app, db, is_customer=True, is_sme=True)
    url = f"/api/v1/organizations/{org.id}"
    resp = client.patch(url, headers=headers, json={"roles": ["supplier"], "is_sme": False})
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["roles"], body["is_sme"], body["pending_change"]) == (["supplier"], False, None)
    assert _actions(db, org.id)[-1] == "organization.updated"
    resp = client.patch(url, headers=headers, json={"is_sme": True, "region_code": "78"})
    body = resp.get_json()
    assert (body["is_sme"], body["region_code"]) == (False, "77")
    assert body["pending_change"]["status"] == "pending"
    assert body["pending_change"]["diff"] == [
        {"field": "region_code", "old": "77", "new": "78"},
        {"field": "is_sme", "old": False, "new": True},
    ]


def test_api_request_withdraw_and_operator_decision(app, client, db, mailbox):
    org, admin, headers = _supplier(app, db)
    operator = make_user(is_operator=True)
    ops = _headers(app, operator, scope="operator")
    url = f"/api/v1/organizations/{org.id}"
    client.patch(url, headers=headers, json={"name": "OOO Pervoe Imya"})
    # A later edit replaces what it names; setting a field back drops it from the request.
    client.patch(url, headers=headers, json={"kpp": "770102001"})
    body = client.patch(url, headers=headers, json={"name": "OOO Postavka"}).get_json()
    assert [d["field"] for d in body["pending_change"]["diff"]] == ["kpp"]
    assert client.get(url, headers=headers).get_json()["pending_change"]["diff"] == [
        {"field": "kpp", "old": "770101001", "new": "770102001"}
    ]
    assert client.delete(f"{url}/pending-change", headers=headers).status_code == 204
    assert client.get(url, headers=headers).get_json()["pending_change"] is None
    assert client.delete(f"{url}/pending-change", headers=headers).status_code == 404
    assert _actions(db, org.id)[-1] == "organization.change_withdrawn"

    client.patch(url, headers=headers, json={"roles": ["customer", "supplier"]})
    queue = client.get("/api/v1/operator/change-requests", headers=ops).get_json()
    [item] = [c for c in queue if c["organization_id"] == org.id]
    assert item["diff"] == [
        {"field": "roles", "old": ["supplier"], "new": ["customer", "supplier"]}
    ]
    assert item["requested_by"] == admin.email and item["organization_inn"] == org.inn
    decide = f"/api/v1/operator/change-requests/{item['id']}/decision"
    resp = client.post(decide, headers=ops, json={"decision": "reject"})
    assert resp.status_code == 422 and "reason" in resp.get_json()["error"]["fields"]
    resp = client.post(decide, headers=ops, json={"decision": "accept"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "accepted"
    assert client.get(url, headers=headers).get_json()["roles"] == ["customer", "supplier"]
    assert client.post(decide, headers=ops, json={"decision": "accept"}).status_code == 409
    assert "profile change accepted" in mailbox.to(admin.email)[-1]["Subject"]


def test_change_requests_denials(app, client, db):
    org, admin, headers = _supplier(app, db)
    member = make_user(org, roles=["specialist"])
    member_headers = _headers(app, member, org.id)
    stranger_org, _, stranger_headers = _supplier(app, db)
    url = f"/api/v1/organizations/{org.id}"
    # Only the organization's admins request and withdraw.
    assert client.patch(url, headers=member_headers, json={"name": "OOO X1"}).status_code == 403
    assert client.patch(url, headers=stranger_headers, json={"name": "OOO X2"}).status_code == 403
    assert client.patch(url, headers=headers, json={"name": "OOO Zapros"}).status_code == 200
    assert client.delete(f"{url}/pending-change", headers=member_headers).status_code == 403
    change_id = _org(db, org.id).pending_change.id
    # Only an operator decides, and only with an operator token or its own session.
    decide = f"/api/v1/operator/change-requests/{change_id}/decision"
    operator = make_user(stranger_org, is_operator=True)  # also a member somewhere
    operator_org_headers = _headers(app, operator, stranger_org.id)
    for who in (headers, member_headers, operator_org_headers):
        assert client.get("/api/v1/operator/change-requests", headers=who).status_code == 403
        assert client.post(decide, headers=who, json={"decision": "accept"}).status_code == 403
    admin_client = app.test_client()
    login(admin_client, admin.email)
    resp = post_form(admin_client, "/cabinet", f"/operator/changes/{change_id}", {})
    assert resp.status_code == 403
    assert (
        client.post(
            "/api/v1/operator/change-requests/999999/decision",
            headers=_headers(app, operator, scope="operator"),
            json={"decision": "accept"},
        ).status_code
        == 404
    )
    org = _org(db, org.id)
    assert (org.name, org.pending_change.status) == ("OOO Postavka", "pending")


def test_invalid_request_changes_nothing(app, client, db):
    org, _, headers = _supplier(app, db)
    url = f"/api/v1/organizations/{org.id}"
    resp = client.patch(url, headers=headers, json={"name": "OOO Y", "ogrn": "1027700132196"})
    assert resp.status_code == 422 and "ogrn" in resp.get_json()["error"]["fields"]
    assert _org(db, org.id).pending_change is None
