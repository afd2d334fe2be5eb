"""Stored files are checked when served: a damaged or missing one is refused and reported."""

import io
import uuid

import pytest

from core.extensions import db as database
from core.files import blob_path
from core.mail import OutgoingEmail
from core.transaction import commit
from tests.e2e.api_helpers import caller, draft_body
from tests.factories import make_user


@pytest.fixture()
def operator(app, db):
    with app.app_context():
        user = make_user(is_operator=True)
        commit()
        return user.email


def _tender_document(app, client) -> tuple[str, dict]:
    """A published tender with one document of unique content; (download URL, document)."""
    owner = caller(app)
    tender = client.post("/api/v1/tenders", json=draft_body(), headers=owner.headers).get_json()
    content = f"Техническое задание {uuid.uuid4()}".encode()
    doc = client.post(
        f"/api/v1/tenders/{tender['id']}/documents",
        headers=owner.headers,
        data={"file": (io.BytesIO(content), "ТЗ.pdf")},
        content_type="multipart/form-data",
    ).get_json()
    client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=owner.headers)
    return f"/tenders/{tender['number']}/documents/{doc['id']}", doc


def _vault_document(app, client):
    """A document in a supplier's vault; (download URL, document, the supplier's headers)."""
    supplier = caller(app)
    doc = client.post(
        "/api/v1/documents",
        data={
            "file": (io.BytesIO(f"charter {uuid.uuid4()}".encode()), "Устав.pdf"),
            "title": "Устав",
        },
        headers=supplier.headers,
        content_type="multipart/form-data",
    ).get_json()
    return f"/api/v1/documents/{doc['id']}/content", doc, supplier.headers


@pytest.fixture()
def damage(app):
    """Damage (or remove) a stored file; a damaged copy is removed after the test, so that
    no other test finds it in the store."""
    paths = []

    def _damage(sha: str, how: str) -> None:
        with app.test_request_context():
            path = blob_path(sha)
        if how == "missing":
            path.unlink()
        else:
            path.write_bytes(path.read_bytes()[:-1] + b"!")
            paths.append(path)

    yield _damage
    for path in paths:
        path.unlink(missing_ok=True)


def _reports(app, sha: str) -> list[str]:
    with app.app_context():
        return list(
            database.session.execute(
                database.select(OutgoingEmail.to_addr).where(
                    OutgoingEmail.kind == "file_damaged",
                    OutgoingEmail.message_id.contains(sha[:24]),
                )
            ).scalars()
        )


@pytest.mark.parametrize("how", ["damaged", "missing"])
def test_a_damaged_tender_document_is_refused_and_reported(
    app, client, operator, smtp_server, damage, how
):
    url, doc = _tender_document(app, client)
    intact = client.get(url)
    assert intact.status_code == 200 and intact.headers["ETag"] == f'"{doc["sha256"]}"'
    intact.close()
    damage(doc["sha256"], how)

    page = client.get(url)
    assert page.status_code == 503
    assert "This document is damaged" in page.get_data(as_text=True)
    assert "Nothing you sent" not in page.get_data(as_text=True)
    assert _reports(app, doc["sha256"]) == [operator]
    mail = smtp_server.to(operator)[-1]
    assert how in mail["Subject"] and doc["sha256"] in mail.get_body(("plain",)).get_content()
    # Downloading again refuses again without mailing the operator a second time today.
    assert client.get(url).status_code == 503
    assert _reports(app, doc["sha256"]) == [operator]


@pytest.mark.parametrize("how", ["damaged", "missing"])
def test_a_damaged_bid_document_is_refused_with_its_own_code(app, client, operator, damage, how):
    url, doc, headers = _vault_document(app, client)
    damage(doc["sha256"], how)
    resp = client.get(url, headers=headers)
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "document_damaged"
    assert _reports(app, doc["sha256"]) == [operator]


def test_files_verify_finds_what_is_damaged_at_rest(app, client, operator, damage):
    _, damaged = _tender_document(app, client)
    _, missing = _tender_document(app, client)
    damage(damaged["sha256"], "damaged")
    damage(missing["sha256"], "missing")
    result = app.test_cli_runner().invoke(args=["files", "verify"])
    assert result.exit_code == 1
    assert f"damaged: {damaged['sha256']}" in result.output
    assert f"missing: {missing['sha256']}" in result.output
    assert "2 stored file(s) missing or damaged" in result.output
    assert _reports(app, damaged["sha256"]) == [operator]
    assert _reports(app, missing["sha256"]) == [operator]
    # Once resolved (here: the damaged copy removed and both rows gone), all is well.
    with app.test_request_context():
        blob_path(damaged["sha256"]).unlink()
    with app.app_context():
        database.session.execute(
            database.text("DELETE FROM tender_documents WHERE sha256 IN (:a, :b)"),
            {"a": damaged["sha256"], "b": missing["sha256"]},
        )
        commit()
    result = app.test_cli_runner().invoke(args=["files", "verify"])
    assert result.exit_code == 0, result.output
    assert "Every stored file matches its SHA-256." in result.output
