"""The JSON API: schemas in and out, one error format, the generated OpenAPI document."""

from accounts.service import create_token
from core.transaction import commit
from tests.factories import make_org, make_user


def _client_with_token(app, db, org=None, **user):
    org = org or make_org()
    u = make_user(org, **user)
    with app.test_request_context():
        _, plaintext = create_token(u, org.id, "t")
        commit()
    return org, u, {"Authorization": f"Bearer {plaintext}"}


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
    assert {"conflict", "bidding_closed", "tender_not_open", "bid_changed"} == _codes(submit["409"])
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
    org, _, headers = _client_with_token(app, db)
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
    _, _, headers = _client_with_token(app, db, is_operator=True)
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
