"""Correction of published results: a new, audited version with a reason; the earlier versions
stay readable; participants are told their new result; the protocol gets its next version;
every refusal and denial."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader
from sqlalchemy import select

from audit.models import AuditEvent
from core import clock
from core.chains import tender_chain
from core.events import DomainEvent
from core.extensions import db as _db
from reports.models import SignedDocument
from results import outcome as results
from results.models import ResultSet, ResultVersion
from tenders.models import Tender
from tests.e2e.api_helpers import caller
from tests.e2e.helpers import login, post_form
from tests.e2e.results_helpers import approve_decision
from tests.e2e.test_results import _closed_tender

CORRECTION = "Жалоба участника: сертификат участника 2 оказался недействительным"
DQ_REASON = "Сертификат соответствия № 123 отозван органом по сертификации"


def _url(tid: int, tail: str = "") -> str:
    return f"/api/v1/tenders/{tid}/results{tail}"


def _correct(client, tid, headers, reason=CORRECTION, changes=None):
    body = {"reason": reason, "changes": changes if changes is not None else []}
    return client.post(_url(tid, "/corrections"), json=body, headers=headers)


def _winner(detail: dict, position: str | None):
    award = next(a for a in detail["awards"] if a["position"] == position)
    winner = next((o for o in award["offers"] if o["rank"] == 1), None)
    return winner["participant"] if winner else None


def _fields(resp) -> dict:
    return resp.get_json()["error"]["fields"]


def _published(app, client):
    tender, customer, a, b, c = _closed_tender(app, client)
    tid = tender["id"]
    # before publication a correction is refused, naming the status
    early = _correct(
        client,
        tid,
        customer.headers,
        changes=[{"action": "lift", "disqualification": 1, "reason": "x"}],
    )
    assert early.status_code == 409 and "status" in _fields(early)
    clock.advance(dt.timedelta(hours=1))
    approve_decision(client, tid, customer.headers)
    resp = client.post(_url(tid, "/publish"), headers=customer.headers)
    assert resp.status_code == 200, resp.get_json()
    return tender, customer, a, b, c, resp.get_json()["digest"]


def test_correction_publishes_a_new_version_and_keeps_the_old_one(app, client, db, mailbox):
    from core.extensions import socketio

    tender, customer, a, b, c, first_digest = _published(app, client)
    tid = tender["id"]
    detail = client.get(_url(tid), headers=b.headers).get_json()
    assert detail["version"] == 1 and [v["number"] for v in detail["versions"]] == [1]
    assert _winner(detail, "1") == 2  # participant 2 (b) wins position 1

    login(client, a.who.email)
    live = socketio.test_client(app, flask_test_client=client)
    assert live.emit("watch_tender", {"tender_id": tid}, callback=True)["ok"] is True
    live.get_received()

    clock.advance(dt.timedelta(days=1))
    resp = _correct(
        client,
        tid,
        customer.headers,
        changes=[{"action": "disqualify", "participant": 2, "lot": 1, "reason": DQ_REASON}],
    )
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert out["status"] == "results_published"
    assert out["version"]["number"] == 2 and out["version"]["reason"] == CORRECTION
    assert out["version"]["changes"] == [
        {
            "action": "disqualify",
            "disqualification": out["version"]["changes"][0]["disqualification"],
            "participant": 2,
            "lot": 1,
            "reason": DQ_REASON,
        }
    ]
    second_digest = out["version"]["digest"]
    assert second_digest != first_digest

    # the current version: position 1 goes to participant 1, participant 2 is disqualified
    detail = client.get(_url(tid), headers=b.headers).get_json()
    assert detail["version"] == 2
    assert [(v["number"], v["reason"], v["current"]) for v in detail["versions"]] == [
        (1, None, False),
        (2, CORRECTION, True),
    ]
    assert _winner(detail, "1") == 1
    p1 = next(x for x in detail["awards"] if x["position"] == "1")
    assert p1["offers"][-1]["status"] == "disqualified" and p1["offers"][-1]["reason"] == DQ_REASON
    mine = client.get(_url(tid, "/mine"), headers=b.headers).get_json()
    own = {i["award"]["position"]: i["own"] for i in mine["items"]}
    assert own["1"]["status"] == "disqualified" and own["1"]["rank"] is None

    # version 1 stays readable as it was published
    v1 = client.get(_url(tid, "/versions/1"), headers=b.headers).get_json()
    assert v1["version"]["number"] == 1 and v1["version"]["current"] is False
    assert v1["version"]["digest"] == first_digest and v1["version"]["superseded_at"]
    assert _winner(v1, "1") == 2 and v1["total"] == 3
    v2 = client.get(_url(tid, "/versions/2"), headers=b.headers).get_json()
    assert _winner(v2, "1") == 1 and v2["version"]["current"] is True
    assert client.get(_url(tid, "/versions/3"), headers=b.headers).status_code == 404
    versions = app.test_client().get(_url(tid, "/versions")).get_json()
    assert versions["current"] == 2 and len(versions["items"]) == 2
    assert versions["items"][1]["reason"] == CORRECTION
    assert versions["items"][1]["changes"] == []  # who was disqualified: participants only
    assert detail["versions"][1]["changes"][0]["reason"] == DQ_REASON
    public_results = app.test_client().get(_url(tid)).get_json()
    assert public_results["version"] == 2 and public_results["versions"][1]["changes"] == []
    public_v1 = app.test_client().get(_url(tid, "/versions/1")).get_json()
    assert public_v1["level"] == "summary" and public_v1["awards"] == []

    # audited in the tender's chain with the new digest; stored results still match it
    event = _db.session.execute(
        select(AuditEvent).where(
            AuditEvent.chain == tender_chain(tid), AuditEvent.action == "tender.results_corrected"
        )
    ).scalar_one()
    assert event.payload["digest"] == second_digest
    assert event.payload["previous_digest"] == first_digest
    assert event.payload["reason"] == CORRECTION and event.payload["version"] == 2
    actions = [
        e.action
        for e in _db.session.execute(
            select(AuditEvent).where(AuditEvent.chain == tender_chain(tid)).order_by(AuditEvent.seq)
        ).scalars()
    ]
    assert actions.index("bid.disqualified") < actions.index("tender.results_corrected")
    t = _db.session.get(Tender, tid)
    assert results.digest_matches(t) is True
    assert _db.session.get(ResultSet, tid).digest == second_digest

    # the domain event, delivered: each participant its own new result
    [domain] = _db.session.execute(
        select(DomainEvent).where(
            DomainEvent.tender_id == tid, DomainEvent.kind == "tender.results_corrected"
        )
    ).scalars()
    assert domain.payload["number"] == tender["number"]
    assert domain.payload["version"] == 2 and domain.payload["reason"] == CORRECTION
    assert domain.processed_at is not None
    mails = [m for m in mailbox.to(b.who.email) if "results corrected" in m["Subject"]]
    assert len(mails) == 1
    text = mails[0].get_body(("plain",)).get_content()
    assert "were corrected: version 2" in text and CORRECTION in text
    assert f"reason: {DQ_REASON}" in text
    a_text = (
        next(m for m in mailbox.to(a.who.email) if "results corrected" in m["Subject"])
        .get_body(("plain",))
        .get_content()
    )
    assert "won, rank 1" in a_text

    # the protocol's next version; the first one still downloadable
    docs = _db.session.execute(
        select(SignedDocument.version).where(SignedDocument.tender_id == tid)
    ).scalars()
    assert sorted(docs) == [1, 2]
    anonymous = app.test_client()
    first = anonymous.get(f"/tenders/{tender['number']}/protocol.pdf?version=1")
    assert first.status_code == 200 and first.get_data()[:5] == b"%PDF-"
    first.close()
    latest = anonymous.get(f"/tenders/{tender['number']}/protocol.pdf")
    assert latest.status_code == 200 and "-v2" in latest.headers["Content-Disposition"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(latest.get_data())).pages)
    latest.close()
    flat = " ".join(text.split())
    assert "results version 2" in flat and CORRECTION in flat
    assert "Сертификат соответствия № 123" in text

    # pushed live to the tender room
    pushed = [e for e in live.get_received() if e["name"] == "results_corrected"]
    assert len(pushed) == 1 and pushed[0]["args"][0]["version"] == 2
    live.disconnect()

    # a second correction lifts the disqualification: version 3, position 1 back to 2
    dq_id = out["version"]["changes"][0]["disqualification"]
    clock.advance(dt.timedelta(hours=2))
    resp = _correct(
        client,
        tid,
        customer.headers,
        reason="Орган по сертификации отменил отзыв сертификата",
        changes=[{"action": "lift", "disqualification": dq_id, "reason": "Отзыв отменён"}],
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["version"]["number"] == 3
    detail = client.get(_url(tid), headers=c.headers).get_json()
    assert detail["version"] == 3 and _winner(detail, "1") == 2
    assert _winner(client.get(_url(tid, "/versions/2"), headers=c.headers).get_json(), "1") == 1
    assert results.digest_matches(_db.session.get(Tender, tid)) is True
    rows = _db.session.execute(
        select(ResultVersion.number, ResultVersion.snapshot_sha256)
        .where(ResultVersion.tender_id == tid)
        .order_by(ResultVersion.number)
    ).all()
    assert [(n, sha is not None) for n, sha in rows] == [(1, True), (2, True), (3, False)]

    # public page: the current version and the earlier ones with time and reason
    page = app.test_client().get(f"/tenders/{tender['number']}/results").get_data(as_text=True)
    assert "Versions of the results" in page and CORRECTION in page
    assert "Орган по сертификации отменил отзыв сертификата" in page
    assert 'id="current-version">3<' in page
    assert DQ_REASON not in page and "Отзыв отменён" not in page
    login(client, b.who.email)
    page = client.get(f"/tenders/{tender['number']}/results").get_data(as_text=True)
    assert "Versions of the results" in page and "Отзыв отменён" in page


def test_refusals_and_denials(app, client, db):
    tender, customer, a, b, c, digest = _published(app, client)
    tid = tender["id"]
    change = [{"action": "disqualify", "participant": 2, "reason": DQ_REASON}]

    # only the tender's customer: suppliers, participants and other customers are refused
    other = caller(app)
    for headers in (a.headers, b.headers, other.headers):
        assert _correct(client, tid, headers, changes=change).status_code == 403
    assert _correct(client, tid, {}, changes=change).status_code == 401
    assert _correct(client, 999_999, customer.headers, changes=change).status_code == 404

    # the reason: required, 10 to 2000 characters
    missing = client.post(
        _url(tid, "/corrections"), json={"changes": change}, headers=customer.headers
    )
    assert missing.status_code == 422 and "reason" in _fields(missing)
    for reason in ("", "   ", "too short", "x" * 2001):
        resp = _correct(client, tid, customer.headers, reason=reason, changes=change)
        assert resp.status_code == 422 and "reason" in _fields(resp), reason

    # the changes: at least one, each valid and with its own reason
    for changes in ([], None):
        body = {"reason": CORRECTION} if changes is None else {"reason": CORRECTION, "changes": []}
        resp = client.post(_url(tid, "/corrections"), json=body, headers=customer.headers)
        assert resp.status_code == 422 and "changes" in _fields(resp)
    bad = {
        "changes.0.action": {"action": "delete", "participant": 2, "reason": "x"},
        "changes.0.participant": {"action": "disqualify", "participant": 9, "reason": "x"},
        "changes.0.reason": {"action": "disqualify", "participant": 2, "reason": " "},
        "changes.0.lot": {"action": "disqualify", "participant": 3, "lot": 2, "reason": "x"},
        "changes.0.disqualification": {"action": "lift", "disqualification": 999, "reason": "x"},
    }
    for field, item in bad.items():
        resp = _correct(client, tid, customer.headers, changes=[item])
        assert resp.status_code == 422, (field, resp.get_json())
        assert field in _fields(resp), (field, _fields(resp))
    no_who = _correct(client, tid, customer.headers, changes=[{"action": "lift", "reason": "x"}])
    assert no_who.status_code == 422 and "changes.0.disqualification" in _fields(no_who)

    # a correction that leaves everything as it was is refused (and nothing is kept of it)
    resp = _correct(client, tid, customer.headers, changes=change)
    assert resp.status_code == 201
    dq = resp.get_json()["version"]["changes"][0]["disqualification"]
    same = _correct(
        client,
        tid,
        customer.headers,
        changes=[
            {"action": "lift", "disqualification": dq, "reason": "Ошибочно"},
            {"action": "disqualify", "participant": 2, "reason": DQ_REASON},
        ],
    )
    assert same.status_code == 422 and "changes" in _fields(same)
    again = _correct(client, tid, customer.headers, changes=change)
    assert again.status_code == 422 and "changes.0.participant" in _fields(again)
    listed = client.get(_url(tid, "/versions")).get_json()
    assert listed["current"] == 2 and len(listed["items"]) == 2

    # the refused attempts left no version and no audit record behind
    assert client.get(_url(tid, "/versions/2")).get_json()["version"]["reason"] == CORRECTION
    corrected = _db.session.execute(
        select(AuditEvent.id).where(
            AuditEvent.chain == tender_chain(tid), AuditEvent.action == "tender.results_corrected"
        )
    ).all()
    assert len(corrected) == 1


def test_cabinet_correction_form(app, client, db):
    tender, customer, a, *_ = _closed_tender(app, client)
    tid = tender["id"]
    review_url = f"/cabinet/tenders/{tid}/review"
    login(client, customer.email)
    assert "Correct the results" not in client.get(review_url).get_data(as_text=True)
    approve_decision(client, tid, customer.headers)
    assert post_form(client, review_url, f"{review_url}/publish", {}).status_code == 302
    page = client.get(review_url).get_data(as_text=True)
    assert "Correct the results" in page and 'id="correction-form"' in page

    blank = post_form(
        client,
        review_url,
        f"{review_url}/correct",
        {"correction_reason": "", "dq_participant": "3", "dq_reason": DQ_REASON},
    )
    assert blank.status_code == 422
    assert "correction_reason" in blank.get_data(as_text=True)
    nothing = post_form(
        client, review_url, f"{review_url}/correct", {"correction_reason": CORRECTION}
    )
    assert nothing.status_code == 422 and "changes" in nothing.get_data(as_text=True)

    clock.advance(dt.timedelta(hours=1))
    resp = post_form(
        client,
        review_url,
        f"{review_url}/correct",
        {
            "correction_reason": CORRECTION,
            "dq_participant": "3",
            "dq_lot": "",
            "dq_reason": DQ_REASON,
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    page = client.get(review_url).get_data(as_text=True)
    assert "Versions of the results" in page and CORRECTION in page and DQ_REASON in page
    dq = _db.session.execute(
        select(ResultVersion.changes).where(
            ResultVersion.tender_id == tid, ResultVersion.number == 2
        )
    ).scalar_one()[0]["disqualification"]

    clock.advance(dt.timedelta(hours=1))
    resp = post_form(
        client,
        review_url,
        f"{review_url}/correct",
        {
            "correction_reason": "Участник 3 представил действующий сертификат",
            "lift": [str(dq)],
            f"lift_reason_{dq}": "Сертификат подтверждён",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    assert client.get(_url(tid, "/versions")).get_json()["current"] == 3

    # a supplier cannot reach the form's action
    supplier = app.test_client()
    login(supplier, a.who.email)
    denied = post_form(
        supplier,
        f"/tenders/{tender['number']}",
        f"{review_url}/correct",
        {"correction_reason": CORRECTION, "dq_participant": "1", "dq_reason": DQ_REASON},
    )
    assert denied.status_code == 403
    assert client.get(_url(tid, "/versions")).get_json()["current"] == 3


def test_concurrent_corrections_are_serialized(app):
    """Two corrections at once (real transactions, no per-test rollback): the tender lock
    orders them, so they become versions 2 and 3 and the stored results match the digest."""
    import threading

    client = app.test_client()
    try:
        tender, customer, a, b, c = _closed_tender(app, client)
        tid = tender["id"]
        clock.advance(dt.timedelta(hours=1))
        approve_decision(client, tid, customer.headers)
        assert client.post(_url(tid, "/publish"), headers=customer.headers).status_code == 200
        clock.advance(dt.timedelta(hours=1))
        changes = (
            [{"action": "disqualify", "participant": 3, "reason": DQ_REASON}],
            [{"action": "disqualify", "participant": 1, "lot": 2, "reason": DQ_REASON}],
        )
        answers: list = []

        def run(items):
            resp = _correct(app.test_client(), tid, customer.headers, changes=items)
            answers.append((resp.status_code, resp.get_json()))

        threads = [threading.Thread(target=run, args=(items,)) for items in changes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert [code for code, _ in answers] == [201, 201], answers
        assert sorted(body["version"]["number"] for _, body in answers) == [2, 3]
        with app.app_context():
            listed = client.get(_url(tid, "/versions")).get_json()
            assert [v["number"] for v in listed["items"]] == [1, 2, 3]
            assert results.digest_matches(_db.session.get(Tender, tid)) is True
            detail = client.get(_url(tid), headers=b.headers).get_json()
            lot2 = next(x for x in detail["awards"] if x["position"] is None)
            assert {o["participant"]: o["status"] for o in lot2["offers"]} == {
                1: "disqualified",
                2: "valid",
            }
    finally:
        clock.reset()
