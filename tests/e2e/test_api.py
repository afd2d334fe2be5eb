"""The JSON API: schemas in and out, one error format, the generated OpenAPI document."""

import re

from accounts.service import create_token
from core.transaction import commit
from tests.e2e.helpers import login, post_form
from tests.factories import make_org, make_user


def _client_with_token(app, db, org=None, **user):
    org = org or make_org()
    u = make_user(org, **user)
    with app.test_request_context():
        _, plaintext = create_token(u, org.id, "t")
        commit()
    return org, u, {"Authorization": f"Bearer {plaintext}"}


def _operator_with_token(app, db, **user):
    """An operator and the headers of its operator token (it acts as the platform operator)."""
    u = make_user(is_operator=True, **user)
    with app.test_request_context():
        _, plaintext = create_token(u, None, "ops", scope="operator")
        commit()
    return u, {"Authorization": f"Bearer {plaintext}"}


def test_openapi_document_is_generated_from_the_schemas(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {
        "/api/v1/me",
        "/api/v1/tokens",
        "/api/v1/organizations/{org_id}",
        "/api/v1/operator/organizations/{org_id}/accreditation",
    } <= set(spec["paths"])
    patch = spec["paths"]["/api/v1/organizations/{org_id}"]["patch"]
    body = patch["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("OrganizationUpdate")
    schemas = spec["components"]["schemas"]
    assert "region_code" in schemas["OrganizationUpdate"]["properties"]
    assert schemas["Error"]["properties"]["error"]
    assert patch["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "Error"
    )


def _codes(response: dict) -> set[str]:
    return set(response["content"]["application/json"]["examples"])


def test_every_operation_documents_its_error_answers(client):
    """401/403/404/409/422 where they apply, each with the error schema and its codes."""
    spec = client.get("/api/v1/openapi.json").get_json()
    operations = [
        (path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()
    ]
    assert len(operations) > 50
    for path, method, op in operations:
        responses, where = op["responses"], f"{method} {path}"
        assert {"404", "422"} <= set(responses), where
        if op.get("security"):
            assert "401" in responses, where
        if op.get("security") == [{"bearer": []}]:
            assert "403" in responses, where
            if method != "get":
                assert "conflict" in _codes(responses["409"]), where
        for status, response in responses.items():
            if int(status) >= 400:
                media = response["content"]["application/json"]
                assert media["schema"]["$ref"].endswith("Error"), where
                for code, example in media["examples"].items():
                    assert example["value"]["error"]["code"] == code, where
    submit = spec["paths"]["/api/v1/tenders/{tender_id}/bid/revisions"]["post"]["responses"]
    assert {
        "conflict",
        "bidding_closed",
        "tender_not_open",
        "bid_changed",
        "approval_required",
    } == _codes(submit["409"])
    assert "bidding_closed: The bid deadline has passed" in submit["409"]["description"]


def test_undocumented_answers_are_found():
    """The run's check (tests/conftest.py): an answer the document does not list is named."""
    from core.api import build_spec
    from tests.api_coverage import undocumented

    spec = build_spec()
    seen = {
        ("/api/v1/tenders/{tender_id}/bid/revisions", "post"): {
            (201, None),
            (409, "bidding_closed"),
        },
        ("/api/v1/tenders/{tender_id}/bid", "get"): {(409, "bid_changed")},
        ("/api/v1/tenders/{tender_id}/bid/withdraw", "post"): {(429, "too_many_attempts")},
    }
    assert undocumented(seen, spec) == [
        "GET /api/v1/tenders/{tender_id}/bid: status 409 (bid_changed)",
        "POST /api/v1/tenders/{tender_id}/bid/withdraw: status 429 (too_many_attempts)",
    ]


def test_regions_are_public(client):
    regions = client.get("/api/v1/regions").get_json()
    assert len(regions) == 89
    assert {"code": "77", "name": "Москва", "name_en": "Moscow"} in regions


def test_admin_edits_own_organization(app, client, db):
    # Before accreditation the profile changes at once (test_organization_changes: after).
    org, _, headers = _client_with_token(app, db, org=make_org(accreditation_status="pending"))
    resp = client.patch(
        f"/api/v1/organizations/{org.id}",
        headers=headers,
        json={"name": "OOO Novoe Imya", "region_code": "78", "is_sme": False},
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["name"] == "OOO Novoe Imya" and body["region_name"] == "Санкт-Петербург"
    assert body["inn"] == org.inn


def test_invalid_fields_are_named_and_nothing_changes(app, client, db):
    org, _, headers = _client_with_token(app, db)
    resp = client.patch(
        f"/api/v1/organizations/{org.id}",
        headers=headers,
        json={"name": "X", "region_code": "00", "kpp": "12", "roles": ["king"]},
    )
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "invalid"
    assert {"name", "region_code", "roles.0"} <= set(error["fields"]), error
    db.session.refresh(org)
    assert org.region_code == "77"


def test_body_must_be_json_object(app, client, db):
    org, _, headers = _client_with_token(app, db)
    for kwargs in (
        {"data": "name=x"},
        {"json": ["a list"]},
        {"data": "{broken", "content_type": "application/json"},
    ):
        resp = client.patch(f"/api/v1/organizations/{org.id}", headers=headers, **kwargs)
        assert resp.status_code == 422, kwargs
        assert resp.get_json()["error"]["message"]


def test_unknown_api_path_and_method_use_the_error_format(app, client, db):
    _, _, headers = _client_with_token(app, db)
    resp = client.get("/api/v1/nothing-here", headers=headers)
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    resp = client.put("/api/v1/me", headers=headers)
    assert resp.status_code == 405 and "error" in resp.get_json()


def test_token_lifecycle_through_the_api(app, client, db):
    _, _, headers = _client_with_token(app, db)
    resp = client.post("/api/v1/tokens", headers=headers, json={"name": "SAP"})
    assert resp.status_code == 201
    created = resp.get_json()
    assert created["token"].startswith("tnd_")
    listed = client.get("/api/v1/tokens", headers=headers).get_json()
    assert all("token" not in t and "token_hash" not in t for t in listed)
    new_headers = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/me", headers=new_headers).status_code == 200
    assert (
        client.delete(f"/api/v1/tokens/{created['details']['id']}", headers=headers).status_code
        == 204
    )
    assert client.get("/api/v1/me", headers=new_headers).status_code == 401
    assert client.post("/api/v1/tokens", headers=headers, json={"name": ""}).status_code == 422


def test_operator_decides_through_the_api(app, client, db, mailbox):
    pending = make_org(accreditation_status="pending")
    member = make_user(pending)
    _, headers = _operator_with_token(app, db)
    queue = client.get("/api/v1/operator/accreditation-queue", headers=headers).get_json()
    assert pending.id in [o["id"] for o in queue]
    url = f"/api/v1/operator/organizations/{pending.id}/accreditation"
    resp = client.post(url, headers=headers, json={"decision": "reject"})
    assert resp.status_code == 422 and "reason" in resp.get_json()["error"]["fields"]
    resp = client.post(
        url, headers=headers, json={"decision": "reject", "reason": "Registry extract is missing"}
    )
    assert resp.status_code == 200
    assert resp.get_json()["accreditation_status"] == "rejected"
    [mail] = mailbox.to(member.email)
    assert "Registry extract is missing" in mail.get_body(("plain",)).get_content()
    assert client.post(url, headers=headers, json={"decision": "maybe"}).status_code == 422


def test_non_operator_cannot_use_operator_api(app, client, db):
    pending = make_org(accreditation_status="pending")
    _, _, headers = _client_with_token(app, db)
    assert client.get("/api/v1/operator/accreditation-queue", headers=headers).status_code == 403
    resp = client.post(
        f"/api/v1/operator/organizations/{pending.id}/accreditation",
        headers=headers,
        json={"decision": "accredit"},
    )
    assert resp.status_code == 403


def test_profile_edit_keeps_identifiers_consistent(app, client, db):
    org, _, headers = _client_with_token(app, db)
    resp = client.patch(f"/api/v1/organizations/{org.id}", headers=headers, json={"kpp": ""})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"]["kpp"] == ["KPP is required for an organization."]
    resp = client.patch(
        f"/api/v1/organizations/{org.id}", headers=headers, json={"ogrn": "1027700132196"}
    )
    assert resp.status_code == 422 and "checksum" in resp.get_json()["error"]["fields"]["ogrn"][0]


def test_operator_outside_any_organization_creates_an_operator_token(app, db):
    """Before: "You are not a member of any organization" on the page and in the API."""
    operator = make_user(is_operator=True)
    pending = make_org(accreditation_status="pending")
    page_client, api = app.test_client(), app.test_client()
    assert login(page_client, operator.email).status_code == 302
    form = page_client.get("/tokens")
    assert form.status_code == 200 and "Platform operator" in form.get_data(as_text=True)
    page = post_form(page_client, "/tokens", "/tokens", {"name": "Ops", "scope": "operator"})
    assert page.status_code == 200, page.get_data(as_text=True)
    token = re.search(r'class="token-once">(tnd_[^<]+)<', page.get_data(as_text=True)).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    me = api.get("/api/v1/me", headers=headers).get_json()
    assert (me["token_scope"], me["active_organization_id"]) == ("operator", None)
    queue = api.get("/api/v1/operator/accreditation-queue", headers=headers).get_json()
    assert pending.id in [o["id"] for o in queue]
    # The operator token mints another through the API (scope "operator" by default).
    resp = api.post("/api/v1/tokens", headers=headers, json={"name": "Ops 2"})
    assert resp.status_code == 201, resp.get_json()
    details = resp.get_json()["details"]
    assert (details["scope"], details["organization_id"]) == ("operator", None)
    # ... but cannot act for an organization it does not belong to.
    resp = api.post("/api/v1/tokens", headers=headers, json={"name": "X", "scope": "organization"})
    assert resp.status_code == 403


def test_operator_tokens_denials(app, client, db):
    org = make_org()
    pending = make_org(accreditation_status="pending")
    _, _, member_headers = _client_with_token(app, db, org=org)
    # A non-operator cannot mint an operator token, by the API or by the page.
    resp = client.post(
        "/api/v1/tokens", headers=member_headers, json={"name": "X", "scope": "operator"}
    )
    assert resp.status_code == 403
    user = make_user(org)
    login(client, user.email)
    assert "Platform operator" not in client.get("/tokens").get_data(as_text=True)
    page = post_form(client, "/tokens", "/tokens", {"name": "X", "scope": "operator"})
    assert page.status_code == 403 and "token-once" not in page.get_data(as_text=True)
    # An operator's organization token acts for the organization, never as operator, and
    # cannot mint an operator token either.
    _, operator, org_headers = _client_with_token(app, db, org=org, is_operator=True)
    queue_url = "/api/v1/operator/accreditation-queue"
    assert client.get(queue_url, headers=org_headers).status_code == 403
    resp = client.post(
        f"/api/v1/operator/organizations/{pending.id}/accreditation",
        headers=org_headers,
        json={"decision": "accredit"},
    )
    assert resp.status_code == 403
    resp = client.post(
        "/api/v1/tokens", headers=org_headers, json={"name": "Y", "scope": "operator"}
    )
    assert resp.status_code == 403
    db.session.refresh(pending)
    assert pending.accreditation_status == "pending"


def test_operator_token_stops_when_the_flag_is_removed(app, client, db):
    operator, headers = _operator_with_token(app, db)
    queue_url = "/api/v1/operator/accreditation-queue"
    assert client.get(queue_url, headers=headers).status_code == 200
    operator.is_operator = False
    commit()
    resp = client.get(queue_url, headers=headers)
    assert (
        resp.status_code == 401
        and "no longer a platform operator" in resp.get_json()["error"]["message"]
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    operator.is_operator, operator.disabled = True, True
    commit()
    assert client.get(queue_url, headers=headers).status_code == 401


def test_registration_and_review_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    register = paths["/api/v1/registrations"]["post"]
    assert "security" not in register and "202" in register["responses"]
    assert register["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "Registration"
    )
    assert "422" in register["responses"]
    assert "post" in paths["/api/v1/registrations/confirm"]
    decide = paths["/api/v1/operator/change-requests/{change_id}/decision"]["post"]
    assert decide["security"] == [{"bearer": []}] and "403" in decide["responses"]
    assert "get" in paths["/api/v1/operator/change-requests"]
    assert "delete" in paths["/api/v1/organizations/{org_id}/pending-change"]
