"""Documents of a notice: stored once by hash, downloadable, amendments after publication."""

import hashlib
import io

from tests.e2e.api_helpers import caller, draft_body


def _upload(client, who, tid, name, content: bytes, **form):
    return client.post(
        f"/api/v1/tenders/{tid}/documents",
        headers=who.headers,
        data={"file": (io.BytesIO(content), name), **form},
        content_type="multipart/form-data",
    )


def test_documents_before_and_after_publication(app, client, db):
    owner = caller(app)
    tender = client.post("/api/v1/tenders", json=draft_body(), headers=owner.headers).get_json()
    tid = tender["id"]
    spec = "Техническое задание".encode() * 100
    resp = _upload(client, owner, tid, "ТЗ на поставку.pdf", spec)
    assert resp.status_code == 201, resp.get_json()
    doc = resp.get_json()
    assert doc["sha256"] == hashlib.sha256(spec).hexdigest() and doc["amendment_number"] == 0
    assert _upload(client, owner, tid, "virus.exe", b"MZ").status_code == 422
    assert _upload(client, owner, tid, "empty.pdf", b"").status_code == 422
    client.post(f"/api/v1/tenders/{tid}/publish", headers=owner.headers)
    download = client.get(f"/tenders/{tender['number']}/documents/{doc['id']}")
    assert download.status_code == 200 and download.data == spec
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()  # the test client leaves the file open otherwise
    # After publication a document is an amendment with a summary.
    resp = _upload(client, owner, tid, "Разъяснение.docx", b"PK-docx")
    assert resp.status_code == 422 and "summary" in resp.get_json()["error"]["fields"]
    resp = _upload(client, owner, tid, "Разъяснение.docx", b"PK-docx", summary="New drawings")
    assert resp.status_code == 201 and resp.get_json()["amendment_number"] == 1
    amendments = client.get(f"/api/v1/tenders/{tid}/amendments").get_json()
    assert amendments[0]["changes"]["documents_added"] == ["Разъяснение.docx"]


def test_draft_documents_are_private(app, client, db):
    owner = caller(app)
    tender = client.post("/api/v1/tenders", json=draft_body(), headers=owner.headers).get_json()
    doc = _upload(client, owner, tender["id"], "draft.pdf", b"secret").get_json()
    assert client.get(f"/tenders/{tender['number']}/documents/{doc['id']}").status_code == 404
    other = caller(app)
    assert _upload(client, other, tender["id"], "x.pdf", b"x").status_code == 404
