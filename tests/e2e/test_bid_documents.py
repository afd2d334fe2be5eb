"""Documents in the organization's vault, attached to signed bid revisions."""

import io

from core.extensions import db as database
from core.transaction import commit
from tenders.models import Tender
from tests.e2e.api_helpers import published
from tests.e2e.bidding_helpers import bidder, offer, submit
from tests.e2e.helpers import csrf_of, login


def _criteria(tender: dict) -> list[dict]:
    ids = {c["name"]: c["id"] for c in tender["lots"][0]["criteria"]}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": "24"},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": "30 дней"},
    ]


def _upload(client, who, name="Устав.pdf", content=b"%PDF-1.4 charter", title="Устав"):
    return client.post(
        "/api/v1/documents",
        data={"file": (io.BytesIO(content), name), "title": title},
        headers=who.headers,
        content_type="multipart/form-data",
    )


def _close(app, tender_id: int) -> None:
    with app.app_context():
        database.session.get(Tender, tender_id).status = "closed"
        commit()


def test_documents_are_signed_with_the_revision(app, client, db):
    tender = published(app)
    b = bidder(app, client)
    charter = _upload(client, b.who).get_json()
    licence = _upload(client, b.who, "licence.png", b"\x89PNG licence", "Лицензия").get_json()
    assert charter["title"] == "Устав" and len(charter["sha256"]) == 64
    listed = client.get("/api/v1/documents", headers=b.headers).get_json()
    assert {d["id"] for d in listed} == {charter["id"], licence["id"]}

    body = {**offer({"1": "90.00"}, _criteria(tender)), "documents": [charter["id"]]}
    prepared = client.post(
        f"/api/v1/tenders/{tender['id']}/bid/prepare", json=body, headers=b.headers
    ).get_json()
    assert prepared["payload"]["documents"] == [{"name": "Устав.pdf", "sha256": charter["sha256"]}]
    first = submit(client, b, tender["id"], body)
    assert first.status_code == 201, first.get_json()
    assert [d["sha256"] for d in first.get_json()["documents"]] == [charter["sha256"]]

    # Adding a document alone is a revision that changes nothing of the offer.
    body["documents"] = [charter["id"], licence["id"]]
    second = submit(client, b, tender["id"], body).get_json()
    assert second["triggering"] is False and len(second["documents"]) == 2

    # Archived: gone from the vault and from new revisions, kept by the signed ones.
    resp = client.post(f"/api/v1/documents/{licence['id']}/archive", headers=b.headers)
    assert resp.status_code == 200
    assert [d["id"] for d in client.get("/api/v1/documents", headers=b.headers).get_json()] == [
        charter["id"]
    ]
    refused = submit(client, b, tender["id"], body)
    assert refused.status_code == 422
    assert str(licence["id"]) in refused.get_json()["error"]["fields"]["documents"][0]
    mine = client.get(f"/api/v1/tenders/{tender['id']}/bid", headers=b.headers).get_json()
    assert [len(r["documents"]) for r in mine["revisions"]] == [1, 2]


def test_who_may_read_a_bid_document(app, client, db):
    tender = published(app)
    b, other = bidder(app, client), bidder(app, client)
    charter = _upload(client, b.who, content=b"%PDF-1.4 secret charter").get_json()
    body = {**offer({"1": "90.00"}, _criteria(tender)), "documents": [charter["id"]]}
    assert submit(client, b, tender["id"], body).status_code == 201
    url = f"/api/v1/documents/{charter['id']}/content"

    own = client.get(url, headers=b.headers)
    assert own.status_code == 200 and own.data == b"%PDF-1.4 secret charter"
    own.close()  # a file response holds its request (and its savepoint) until closed
    assert client.get(url, headers=other.headers).status_code == 404
    # Another supplier cannot attach it either.
    stolen = {**offer({"1": "91.00"}, _criteria(tender)), "documents": [charter["id"]]}
    resp = client.post(
        f"/api/v1/tenders/{tender['id']}/bid/prepare", json=stolen, headers=other.headers
    )
    assert resp.status_code == 422 and "documents" in resp.get_json()["error"]["fields"]
    # The customer: not while bidding is open (it could reveal the bidder), yes after the close.
    customer = tender["customer"]
    assert client.get(url, headers=customer.headers).status_code == 404
    _close(app, tender["id"])
    with client.get(url, headers=customer.headers) as resp:
        assert resp.status_code == 200
    # Archiving someone else's document is not possible.
    resp = client.post(f"/api/v1/documents/{charter['id']}/archive", headers=other.headers)
    assert resp.status_code == 404
    assert client.get(url).status_code == 401


def test_bad_uploads_are_refused(app, client, db):
    b = bidder(app, client)
    resp = _upload(client, b.who, name="run.exe", content=b"MZ")
    assert resp.status_code == 422 and "file" in resp.get_json()["error"]["fields"]
    resp = _upload(client, b.who, name="empty.pdf", content=b"")
    assert resp.status_code == 422
    resp = client.post("/api/v1/documents", headers=b.headers, data={})
    assert resp.status_code == 422
    resp = _upload(client, b.who, title="x" * 201)
    assert resp.status_code == 422 and "title" in resp.get_json()["error"]["fields"]
    assert client.get("/api/v1/documents", headers=b.headers).get_json() == []
    tender_id = published(app)["id"]
    body = {**offer({"1": "90.00"}), "documents": ["1"]}
    resp = client.post(f"/api/v1/tenders/{tender_id}/bid/prepare", json=body, headers=b.headers)
    assert resp.status_code == 422


def test_vault_page_and_bid_form(app, client, db):
    tender = published(app)
    b = bidder(app, client)
    login(client, b.who.email)
    token = csrf_of(client, "/cabinet/documents")
    resp = client.post(
        "/cabinet/documents",
        data={"csrf_token": token, "title": "Выписка ЕГРЮЛ", "file": (io.BytesIO(b"x"), "e.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert resp.status_code == 200 and "Выписка ЕГРЮЛ" in resp.text
    bad = client.post(
        "/cabinet/documents",
        data={"csrf_token": token, "file": (io.BytesIO(b"x"), "virus.exe")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "not accepted" in bad.text
    form = client.get(f"/tenders/{tender['number']}/bid")
    assert form.status_code == 200
    assert 'class="document-input"' in form.text and "Выписка ЕГРЮЛ" in form.text
