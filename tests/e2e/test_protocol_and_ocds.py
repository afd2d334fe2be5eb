"""The signed results protocol, bid receipt PDFs and the OCDS export, through HTTP, from bidding
to published results (with an extension, a withdrawn and a disqualified bid)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pypdf import PdfReader
from sqlalchemy import select

from audit.models import AuditEvent
from core import clock
from core.chains import tender_chain
from tests.e2e.api_helpers import caller, draft_body
from tests.e2e.bidding_helpers import bid, bidder
from tests.e2e.helpers import login
from tests.e2e.results_helpers import close_and_publish
from tests.ocds_schema import problems


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _criteria(tender: dict, warranty: str) -> list[dict]:
    ids = {c["name"]: c["id"] for c in tender["lots"][0]["criteria"]}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": warranty},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": "30 дней"},
    ]


@pytest.fixture()
def auction(app, client, db):
    """A published two-lot tender closing in 10 minutes (inside the extension window) with
    three bidders: Alfa on everything, Beta on lot 1, Gamma bids and withdraws."""
    return _auction(app, client)


def _auction(app, client, language: str | None = None) -> dict:
    customer = caller(app, name="ПАО «Энергосбыт»")
    body = draft_body(
        bid_deadline=(clock.now() + dt.timedelta(minutes=10)).isoformat(), questions_until=None
    )
    created = client.post("/api/v1/tenders", json=body, headers=customer.headers).get_json()
    # The tender's documents are written in the language its customer publishes it in.
    headers = {**customer.headers, **({"Accept-Language": language} if language else {})}
    resp = client.post(f"/api/v1/tenders/{created['id']}/publish", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    tender = resp.get_json()
    alfa = bidder(app, client, name="ООО «Альфа»")
    beta = bidder(app, client, name="АО «Бета»")
    gamma = bidder(app, client, name="ООО «Гамма»")
    for who, prices, warranty in (
        (alfa, {"1": "90.00", "2": "100.00", "3": "950.50"}, "36"),
        (beta, {"1": "85.00"}, "24"),
        (gamma, {"1": "94.00"}, "12"),
    ):
        bid(app, who, tender["id"], prices, _criteria(tender, warranty))
    resp = client.post(f"/api/v1/tenders/{tender['id']}/bid/withdraw", headers=gamma.headers)
    assert resp.status_code == 200, resp.get_json()
    tender = client.get(f"/api/v1/tenders/{tender['id']}").get_json()
    return {
        "tender": tender,
        "customer": customer,
        "alfa": alfa,
        "beta": beta,
        "gamma": gamma,
    }


def _ocds(client, tender_id: int) -> tuple[dict, str]:
    resp = client.get(f"/api/v1/tenders/{tender_id}/ocds")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    package = resp.get_json()
    assert problems(package) == []
    return package, resp.get_data(as_text=True)


def test_ocds_discloses_by_stage(app, client, auction):
    tender = auction["tender"]
    package, text = _ocds(client, tender["id"])
    release = package["releases"][0]
    assert release["ocid"] == f"ocds-000000-{tender['number']}"
    # OCDS counts the parties who submit a bid: Gamma submitted, then withdrew (the notice
    # counts the 2 standing bids).
    assert release["tender"]["numberOfTenderers"] == 3
    assert release["tender"]["tenderPeriod"]["endDate"] == (
        dt.datetime.fromisoformat(tender["bid_deadline"]).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert "bids" not in release and "awards" not in release
    for secret in ("Альфа", "Бета", "Гамма", "135000", "127500"):
        assert secret not in text

    clock.freeze(dt.datetime.fromisoformat(tender["bid_deadline"]))  # closed by the deadline
    package, text = _ocds(client, tender["id"])
    details = package["releases"][0]["bids"]["details"]
    assert sorted(d["status"] for d in details) == ["pending", "pending", "pending", "withdrawn"]
    for secret in ("Альфа", "Бета", "Гамма", "135000", "127500"):
        assert secret not in text
    assert client.get(f"/api/v1/tenders/{tender['id']}/protocol").status_code == 404

    close_and_publish(app, client, auction, disqualify=("beta", 1, "Нет сертификата"))
    package, text = _ocds(client, tender["id"])
    release = package["releases"][0]
    assert release["tag"] == ["award"] and release["tender"]["status"] == "complete"
    statuses = {
        (d["tenderers"][0]["name"], d["relatedLots"][0]): d["status"]
        for d in release["bids"]["details"]
    }
    assert statuses == {
        ("ООО «Альфа»", "1"): "valid",
        ("ООО «Альфа»", "2"): "valid",
        ("АО «Бета»", "1"): "disqualified",
        ("ООО «Гамма»", "1"): "withdrawn",
    }
    awards = {a["id"].removeprefix(f"{tender['number']}-"): a for a in release["awards"]}
    assert set(awards) == {"L1-P1", "L1-P2", "L2"}
    winner = awards["L1-P1"]
    assert winner["suppliers"][0]["name"] == "ООО «Альфа»"
    assert winner["value"] == {"amount": 135000, "currency": "RUB"}
    assert '"amount": 135000.00' in text or '"amount": 135000' in text
    assert winner["relatedLots"] == ["1"] and len(winner["relatedBids"]) == 1
    assert awards["L2"]["value"]["amount"] == 38020  # 40 x 950.50
    assert awards["L1-P2"]["suppliers"][0]["name"] == "ООО «Альфа»"
    tenderers = [t["name"] for t in release["tender"]["tenderers"]]
    assert tenderers == ["ООО «Альфа»", "АО «Бета»", "ООО «Гамма»"]
    assert release["tender"]["numberOfTenderers"] == 3
    roles = {p["name"]: p["roles"] for p in release["parties"]}
    assert roles["ООО «Гамма»"] == ["tenderer"] and roles["АО «Бета»"] == ["tenderer"]
    assert all("amendments" not in a for a in release["awards"])


def test_ocds_after_a_results_correction(app, client, auction):
    tender, customer = auction["tender"], auction["customer"]
    close_and_publish(app, client, auction, disqualify=("beta", 1, "Нет сертификата"))
    first, _ = _ocds(client, tender["id"])
    first_id = first["releases"][0]["id"]
    alfa = client.get(f"/api/v1/tenders/{tender['id']}/bid", headers=auction["alfa"].headers)
    reason = "Жалоба: сертификат на муфты участника недействителен"
    change = {
        "action": "disqualify",
        "participant": alfa.get_json()["participant_number"],
        "lot": 2,
        "reason": "Сертификат на муфты отозван",
    }
    clock.advance(dt.timedelta(hours=2))
    resp = client.post(
        f"/api/v1/tenders/{tender['id']}/results/corrections",
        json={"reason": reason, "changes": [change]},
        headers=customer.headers,
    )
    assert resp.status_code == 201, resp.get_json()
    package, _ = _ocds(client, tender["id"])
    release = package["releases"][0]
    assert release["tag"] == ["awardUpdate"] and release["id"] != first_id
    awards = {a["id"].removeprefix(f"{tender['number']}-"): a for a in release["awards"]}
    (amendment,) = awards["L2"]["amendments"]
    assert amendment["id"] == "results-v2" and amendment["rationale"] == reason
    assert amendment["date"] == release["date"] == awards["L2"]["date"]
    assert "disqualified for lot 2: Сертификат на муфты отозван" in amendment["description"]
    assert (amendment["amendsReleaseID"], amendment["releaseID"]) == (first_id, release["id"])
    assert awards["L2"]["status"] == "unsuccessful"  # Alfa was the only bidder for lot 2
    for untouched in ("L1-P1", "L1-P2"):  # lot 1 was not corrected
        assert "amendments" not in awards[untouched]
        assert awards[untouched]["date"] == first["releases"][0]["date"]


def test_signed_protocol_and_audit(app, client, auction):
    tender = auction["tender"]
    close_and_publish(app, client, auction, disqualify=("beta", 1, "Нет сертификата"))
    resp = client.get(f"/tenders/{tender['number']}/protocol.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    content = resp.data
    resp.close()  # the test client leaves the file open otherwise
    text = _pdf_text(content)
    for expected in (
        tender["number"],
        "ПАО «Энергосбыт»",
        "ООО «Альфа»",
        "АО «Бета»",
        "ООО «Гамма»",
        "withdrew its bid",
        "Нет сертификата",
        "Extension 1",  # the first bids came inside the window
        "Кабель ВВГнг-LS 3x2.5",
        "MSK",
    ):
        assert expected in text, expected

    sig = client.get(f"/tenders/{tender['number']}/protocol.pdf.sig")
    assert sig.status_code == 200
    detached = json.loads(sig.data)
    digest = hashlib.sha256(content).hexdigest()
    assert detached["payload"]["sha256"] == digest == detached["sha256"]
    verified = client.post(
        "/api/v1/receipts/verify",
        json={"payload": detached["payload"], "signature": detached["signature"]},
    )
    assert verified.status_code == 200, verified.get_json()
    # What openssl would check: the platform key's signature over the canonical bytes.
    public = serialization.load_pem_public_key(client.get("/platform-key.pem").data)
    signed = base64.b64decode(detached["canonical_b64"])
    public.verify(base64.b64decode(detached["signature"]), signed, ec.ECDSA(hashes.SHA256()))
    assert json.loads(signed) == detached["payload"]
    forged = dict(detached["payload"], sha256="0" * 64)
    refused = client.post(
        "/api/v1/receipts/verify", json={"payload": forged, "signature": detached["signature"]}
    )
    assert refused.status_code == 422

    with app.app_context():
        from core.extensions import db

        events = (
            db.session.execute(
                select(AuditEvent).where(
                    AuditEvent.chain == tender_chain(tender["id"]),
                    AuditEvent.action == "tender.protocol_signed",
                )
            )
            .scalars()
            .all()
        )
        assert [e.payload["sha256"] for e in events] == [digest]
        from audit.service import verify_all

        assert verify_all()[1] == []

    meta = client.get(f"/api/v1/tenders/{tender['id']}/protocol").get_json()
    assert meta["sha256"] == digest and meta["version"] == 1
    notice = client.get(f"/tenders/{tender['number']}").get_data(as_text=True)
    assert f"/tenders/{tender['number']}/protocol.pdf" in notice
    assert "protocol.pdf.sig" in notice and f"/api/v1/tenders/{tender['id']}/ocds" in notice

    # Running the job again produces nothing new.
    from reports import jobs

    with app.app_context():
        assert jobs.generate_protocol(tender["id"]) == digest
        assert jobs.sweep_protocols() == 0


def test_receipt_pdf_only_for_the_bidder(app, client, auction):
    tender, alfa = auction["tender"], auction["alfa"]
    url = f"/api/v1/tenders/{tender['id']}/bid/revisions/1/receipt.pdf"
    resp = client.get(url, headers=alfa.headers)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Cache-Control"] == "private, no-store"
    text = _pdf_text(resp.data).replace("\n", "")
    mine = client.get(f"/api/v1/tenders/{tender['id']}/bid", headers=alfa.headers).get_json()
    revision_hash = mine["revisions"][0]["payload_hash"]
    for expected in (
        "ООО «Альфа»",
        "ПАО «Энергосбыт»",
        "Муфта концевая",
        revision_hash,
        "Гарантия",
    ):
        assert expected in text, expected

    # Beta gets its own receipt at the same address, never Alfa's.
    beta = client.get(url, headers=auction["beta"].headers)
    assert beta.status_code == 200
    assert "АО «Бета»" in _pdf_text(beta.data) and "Альфа" not in _pdf_text(beta.data)
    # Nobody else has a bid here; no such revision; not logged in.
    outsider = bidder(app, client)
    assert client.get(url, headers=outsider.headers).status_code == 404
    assert client.get(url, headers=auction["customer"].headers).status_code == 404
    other = f"/api/v1/tenders/{tender['id']}/bid/revisions/2/receipt.pdf"
    assert client.get(other, headers=alfa.headers).status_code == 404
    assert client.get(url).status_code == 401
    page = f"/tenders/{tender['number']}/bid/revisions/1/receipt.pdf"
    assert client.get(page).status_code == 302  # to the login page


def test_pages_link_the_documents(app, client, auction):
    tender, alfa = auction["tender"], auction["alfa"]
    login(client, alfa.who.email)
    form = client.get(f"/tenders/{tender['number']}/bid").get_data(as_text=True)
    link = f"/tenders/{tender['number']}/bid/revisions/1/receipt.pdf"
    assert link in form
    resp = client.get(link)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "ООО «Альфа»" in _pdf_text(resp.data)
    missing = client.get(f"/tenders/{tender['number']}/bid/revisions/7/receipt.pdf")
    assert missing.status_code == 404

    close_and_publish(app, client, auction)
    login(client, auction["customer"].email)
    cabinet = client.get(f"/cabinet/tenders/{tender['id']}").get_data(as_text=True)
    assert f"/tenders/{tender['number']}/protocol.pdf" in cabinet
    # A receipt is the bidder's own: the customer has none to download.
    assert client.get(link).status_code == 404


def test_protocol_versions_and_tampering(app, client, auction):
    from core.errors import Conflict
    from core.extensions import db
    from core.files import blob_path
    from reports import jobs, service
    from results.models import ResultSet
    from tenders.models import Tender

    tender = auction["tender"]
    with app.app_context():
        assert service.generate_protocol(tender["id"]) is None  # nothing published yet
    close_and_publish(app, client, auction)
    with app.test_request_context():
        row = db.session.get(Tender, tender["id"])
        first = service.latest_protocol(row)
        content = blob_path(first.sha256).read_bytes()
        service.verify_protocol(first, content)
        with pytest.raises(Conflict):
            service.verify_protocol(first, content + b"%")
        # Results published again (a corrected publication): the next version, the first kept.
        db.session.get(ResultSet, tender["id"]).published_at = clock.now() + dt.timedelta(days=1)
        db.session.commit()
        jobs.generate_protocol(tender["id"])
        second = service.latest_protocol(row)
        assert (first.version, second.version) == (1, 2)
        actions = db.session.execute(
            select(AuditEvent.payload).where(
                AuditEvent.chain == tender_chain(tender["id"]),
                AuditEvent.action == "tender.protocol_signed",
            )
        ).scalars()
        assert [p["version"] for p in actions] == [1, 2]
    old = client.get(f"/tenders/{tender['number']}/protocol.pdf?version=1")
    assert old.status_code == 200 and old.data == content
    old.close()
    assert client.get(f"/tenders/{tender['number']}/protocol.pdf?version=9").status_code == 404
    assert client.get(f"/tenders/{tender['number']}/protocol.pdf?version=x").status_code == 404


def test_sweeper_produces_a_missing_protocol(app, client, auction):
    from core.extensions import db
    from reports import jobs
    from reports.models import SignedDocument

    close_and_publish(app, client, auction)
    tender_id = auction["tender"]["id"]
    with app.app_context():
        # As if the job had been lost (Redis down when the results were published).
        db.session.execute(db.delete(SignedDocument).where(SignedDocument.tender_id == tender_id))
        db.session.commit()
        assert jobs.sweep_protocols() == 1  # queued; eager in tests, so produced at once
        assert jobs.sweep_protocols() == 0
    assert client.get(f"/api/v1/tenders/{tender_id}/protocol").get_json()["version"] == 1


def test_drafts_are_not_exported(app, client, db):
    customer = caller(app)
    draft = client.post("/api/v1/tenders", json=draft_body(), headers=customer.headers).get_json()
    assert client.get(f"/api/v1/tenders/{draft['id']}/ocds").status_code == 404
    resp = client.get(f"/api/v1/tenders/{draft['id']}/ocds", headers=customer.headers)
    assert resp.status_code == 404
    assert client.get(f"/tenders/{draft['number']}/protocol.pdf").status_code == 404
    assert client.get("/api/v1/tenders/999999/ocds").status_code == 404


def test_documents_in_the_tenders_language(app, client, db):
    """A tender published in Russian: its protocol and every receipt are in Russian (words,
    money with ₽, moments in МСК), whatever the language of whoever downloads them; a tender
    published in English (the suite's default) keeps English documents."""
    from tenders.models import Tender

    auction = _auction(app, client, language="ru")
    tender = auction["tender"]
    assert db.session.get(Tender, tender["id"]).language == "ru"
    url = f"/api/v1/tenders/{tender['id']}/bid/revisions/1/receipt.pdf"
    english = {**auction["alfa"].headers, "Accept-Language": "en"}
    slip = " ".join(_pdf_text(client.get(url, headers=english).data).replace("\u00a0", " ").split())
    for expected in (
        "Квитанция о приёме заявки — закупка",
        "Поставщик",
        "ООО «Альфа» (ИНН",
        "МСК",
        "Подписи",
        " ₽",
        "Сумма, ₽",
    ):
        assert expected in slip, expected
    assert "Bid receipt" not in slip and "Supplier" not in slip

    close_and_publish(app, client, auction, disqualify=("beta", 1, "Нет сертификата"))
    resp = client.get(
        f"/tenders/{tender['number']}/protocol.pdf", headers={"Accept-Language": "en"}
    )
    text = " ".join(_pdf_text(resp.data).replace("\u00a0", " ").split())
    resp.close()
    for expected in (
        f"Протокол подведения итогов — закупка {tender['number']}",
        "Заказчик",
        "Ход процедуры",
        "Продление 1",
        "Итоги по позициям",
        "Победитель",
        "Рейтинг предложений",
        "Место",
        "Отклонённые заявки",
        "Нет сертификата",
        "заявка отозвана",
        "экономия",
        "МСК",
        "Стр. 1",
    ):
        assert expected in text, expected
    for english_word in ("Results protocol", "Winner", "Participant", "MSK", "Page 1"):
        assert english_word not in text, english_word

    english_tender = _auction(app, client)["tender"]
    assert db.session.get(Tender, english_tender["id"]).language == "en"
