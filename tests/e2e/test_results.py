"""Review, disqualification and publication of results through the API and the pages: who
sees what before and after publication, and every denial."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from audit.models import AuditEvent
from core import clock, jobs
from core.chains import tender_chain
from core.events import DomainEvent
from core.extensions import db as _db
from results import outcome as results
from results.models import Award, AwardOffer
from tenders.models import Tender
from tests.e2e.api_helpers import caller, published
from tests.e2e.bidding_helpers import bid, bidder
from tests.e2e.helpers import login, post_form
from tests.e2e.results_helpers import approve_decision

REASON = 'Нет сертификата соответствия, "ТР ТС 004/2011" \\ п. 4.2;\nсм. протокол'


def _criteria(tender, warranty: str, deferral: str) -> list[dict]:
    ids = {c["name"]: c["id"] for c in tender["lots"][0]["criteria"]}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": warranty},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": deferral},
    ]


def _closed_tender(app, client):
    """A tender (lot 1 per position with criteria, lot 2 whole lot) with three bids, closed."""
    customer = caller(app, name="ПАО Заказчик")
    tender = published(app, customer)
    del tender["customer"]
    a = bidder(app, client, name="ООО Альфа")
    b = bidder(app, client, name="=cmd|' /C calc'!A0")  # a formula in a name: CSV must defuse it
    c = bidder(app, client, name="ООО Вега")
    plans = [
        (a, {"1": "90.00", "2": "110", "3": "1000"}, ("24", "30 дней")),
        (b, {"1": "85.00", "3": "1100"}, ("36", "нет")),
        (c, {"2": "100"}, ("12", "нет")),
    ]
    for who, prices, (warranty, deferral) in plans:
        bid(app, who, tender["id"], prices, _criteria(tender, warranty, deferral))
    clock.advance(dt.timedelta(days=11))
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") >= 1
    return tender, customer, a, b, c


def _award_ids(tender_id: int) -> dict:
    rows = _db.session.execute(
        select(Award.lot_number, Award.position_number, Award.id).where(
            Award.tender_id == tender_id
        )
    ).all()
    return {(lot, position): award_id for lot, position, award_id in rows}


def _evaluation(client, tender, headers, **query):
    return client.get(
        f"/api/v1/tenders/{tender['id']}/evaluation", query_string=query, headers=headers
    )


def _row(data, position):
    return next(r for r in data["rows"] if r["position"] == position)


def test_review_disqualify_publish_and_visibility(app, client, db):
    tender, customer, a, b, c = _closed_tender(app, client)
    tid = tender["id"]

    # before publication: nothing for suppliers or the public
    for headers in ({}, a.headers, b.headers):
        assert client.get(f"/api/v1/tenders/{tid}/results", headers=headers).status_code == 404
    assert client.get(f"/api/v1/tenders/{tid}/results/mine", headers=a.headers).status_code == 404
    assert client.get(f"/tenders/{tender['number']}/results").status_code == 404

    # the customer's comparison: names revealed, scores with breakdown, ranks, savings
    resp = _evaluation(client, tender, customer.headers)
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()
    assert [p["name"] for p in data["participants"]] == [
        "ООО Альфа",
        "=cmd|' /C calc'!A0",
        "ООО Вега",
    ]
    p1 = _row(data, "1")
    # A: price 70 x 85 / 90 = 66.111111 + warranty 20 x 24 / 36 = 13.333333 + deferral 10
    scores = {o["participant"]: o["score"] for o in p1["offers"]}
    assert scores == {1: "89.444444", 2: "90.000000"}
    assert p1["winner"] == 2 and p1["price"] == "85.00"
    assert p1["savings"] == "15750.00"  # (95.50 - 85.00) x 1500
    assert p1["savings_percent"] == "10.99"
    lot2 = next(r for r in data["rows"] if r["award_mode"] == "whole_lot")
    assert lot2["winner"] == 1 and lot2["price"] == "40000.00"  # 1000 x 40
    assert data["awarded"] == 3 and data["unsuccessful"] == 0

    # filters
    only_c = _evaluation(client, tender, customer.headers, participant=3).get_json()
    assert [r["position"] for r in only_c["rows"]] == ["2"]
    won_by_a = _evaluation(client, tender, customer.headers, participant=1, winner="true")
    assert [r["lot"] for r in won_by_a.get_json()["rows"]] == [1, 2]
    assert _evaluation(client, tender, customer.headers, status="bogus").status_code == 422

    # denials: suppliers and other customers neither review nor disqualify nor publish
    other = caller(app)
    for headers in (a.headers, other.headers):
        assert _evaluation(client, tender, headers).status_code == 403
        resp = client.post(
            f"/api/v1/tenders/{tid}/disqualifications",
            json={"participant": 2, "reason": "x"},
            headers=headers,
        )
        assert resp.status_code == 403
        assert (
            client.post(f"/api/v1/tenders/{tid}/results/publish", headers=headers).status_code
            == 403
        )

    # disqualification: validated, audited, recomputed
    bad = client.post(
        f"/api/v1/tenders/{tid}/disqualifications",
        json={"participant": 9, "reason": "x"},
        headers=customer.headers,
    )
    assert bad.status_code == 422 and "participant" in bad.get_json()["error"]["fields"]
    blank = client.post(
        f"/api/v1/tenders/{tid}/disqualifications",
        json={"participant": 2, "reason": "   "},
        headers=customer.headers,
    )
    assert blank.status_code == 422
    before = _award_ids(tid)
    resp = client.post(
        f"/api/v1/tenders/{tid}/disqualifications",
        json={"participant": 2, "lot": 1, "reason": REASON},
        headers=customer.headers,
    )
    assert resp.status_code == 201, resp.get_json()
    after = _award_ids(tid)
    # only the awards participant 2 takes part in within lot 1 (position 1) were recomputed
    assert after[(1, "2")] == before[(1, "2")] and after[(2, None)] == before[(2, None)]
    assert after[(1, "1")] != before[(1, "1")]
    again = client.post(
        f"/api/v1/tenders/{tid}/disqualifications",
        json={"participant": 2, "lot": 1, "reason": "twice"},
        headers=customer.headers,
    )
    assert again.status_code == 409
    data = _evaluation(client, tender, customer.headers).get_json()
    p1 = _row(data, "1")
    assert p1["winner"] == 1
    dq = next(o for o in p1["offers"] if o["participant"] == 2)
    assert dq["status"] == "disqualified" and dq["rank"] is None
    assert dq["reason"] == REASON  # commas, quotes, a backslash and a line break survive
    assert _row(data, "1")["offers"][0]["score"] == "100.000000"  # alone: best of everything
    lot2 = next(r for r in data["rows"] if r["award_mode"] == "whole_lot")
    assert {o["participant"]: o["status"] for o in lot2["offers"]} == {1: "valid", 2: "valid"}

    # CSV export in the cabinet: formula-safe
    login(client, customer.email)
    csv = client.get(f"/cabinet/tenders/{tid}/review.csv")
    assert csv.status_code == 200 and csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    cp1251 = client.get(f"/cabinet/tenders/{tid}/review.csv?encoding=windows-1251")
    assert cp1251.headers["Content-Type"] == "text/csv; charset=windows-1251"  # one charset
    assert "Нет сертификата соответствия" in cp1251.get_data().decode("windows-1251")
    text = csv.get_data().decode("utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in text and "Нет сертификата соответствия" in text
    # numbers in the bid templates' dialect: a decimal comma, as Russian Excel reads them
    assert ";90,00;135000,00;" in text and "90.00" not in text
    _check_comparison_workbook(client, tid)
    page = client.get(f"/cabinet/tenders/{tid}/review?participant=1")
    assert page.status_code == 200 and "ООО Альфа" in page.get_data(as_text=True)

    # publication: final, audited, events for notifications
    approve_decision(client, tid, customer.headers)
    resp = client.post(f"/api/v1/tenders/{tid}/results/publish", headers=customer.headers)
    assert resp.status_code == 200, resp.get_json()
    digest = resp.get_json()["digest"]
    assert (
        client.post(f"/api/v1/tenders/{tid}/results/publish", headers=customer.headers).status_code
        == 409
    )
    late = client.post(
        f"/api/v1/tenders/{tid}/disqualifications",
        json={"participant": 1, "reason": "too late"},
        headers=customer.headers,
    )
    assert late.status_code == 409
    published = _db.session.execute(
        select(AuditEvent).where(
            AuditEvent.chain == tender_chain(tid), AuditEvent.action == "tender.results_published"
        )
    ).scalar_one()
    assert published.payload["digest"] == digest
    t = _db.session.get(Tender, tid)
    assert results.digest_matches(t) is True
    offer_row = _db.session.execute(
        select(AwardOffer).join(Award).where(Award.tender_id == tid).limit(1)
    ).scalar_one()
    offer_row.total += 1  # tampering with the stored results is detected
    _db.session.flush()
    assert results.digest_matches(t) is False
    offer_row.total -= 1
    _db.session.flush()
    kinds = [
        e.kind
        for e in _db.session.execute(
            select(DomainEvent).where(DomainEvent.tender_id == tid)
        ).scalars()
    ]
    assert {"tender.closed", "bid.disqualified", "tender.results_published"} <= set(kinds)

    # after publication: the public sees a summary, participants every award with names
    public = app.test_client().get(f"/api/v1/tenders/{tid}/results").get_json()
    assert public["level"] == "summary" and public["awards"] == []
    assert public["summary"]["awarded"] == 3
    assert {w["name"] for w in public["summary"]["winners"]} == {"ООО Альфа"}
    detail = client.get(f"/api/v1/tenders/{tid}/results", headers=b.headers).get_json()
    assert detail["level"] == "detail" and detail["total"] == 3
    first = detail["awards"][0]
    assert first["offers"][0]["organization"] == "ООО Альфа"
    assert first["offers"][-1]["status"] == "disqualified"
    mine = client.get(f"/api/v1/tenders/{tid}/results/mine", headers=c.headers).get_json()
    assert [(i["award"]["position"], i["won"], i["own"]["rank"]) for i in mine["items"]] == [
        ("2", False, 2)
    ]
    outsider = bidder(app, client)
    assert (
        client.get(f"/api/v1/tenders/{tid}/results", headers=outsider.headers).get_json()["level"]
        == "summary"
    )
    _check_results_workbooks(app, client, tender["number"])


def test_pages_after_publication(app, client, db):
    tender, customer, a, *_ = _closed_tender(app, client)
    login(client, customer.email)
    notice = client.get(f"/tenders/{tender['number']}").get_data(as_text=True)
    assert "Review offers and publish the results" in notice
    review_url = f"/cabinet/tenders/{tender['id']}/review"
    resp = post_form(
        client,
        review_url,
        f"{review_url}/disqualify",
        {"participant": "3", "lot": "", "reason": "Недостоверные сведения"},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    blank = post_form(
        client, review_url, f"{review_url}/disqualify", {"participant": "1", "reason": ""}
    )
    assert blank.status_code == 422
    cp1251 = client.get(f"{review_url}.csv?encoding=windows-1251")
    assert cp1251.status_code == 200 and "ООО Альфа" in cp1251.get_data().decode("cp1251")
    assert client.get(f"{review_url}.csv?encoding=koi8-r").status_code == 422
    filtered = client.get(f"{review_url}?lot=2&per_page=20").get_data(as_text=True)
    assert "Муфта концевая" in filtered and "Кабель КВВГ 7x1.5" not in filtered
    assert client.get(f"{review_url}?per_page=100000").status_code == 422
    refused = post_form(client, review_url, f"{review_url}/publish", {})
    assert refused.status_code == 409
    assert "after the commission&#39;s decision" in refused.get_data(as_text=True)
    # the commission (the customer's one manager) decides through the review page's forms
    for action, form in (("decision", {}), ("vote", {"vote": "for"}), ("close-vote", {})):
        resp = post_form(client, review_url, f"{review_url}/{action}", form)
        assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    assert 'id="decision-status">approved' in client.get(review_url).get_data(as_text=True)
    resp = post_form(client, review_url, f"{review_url}/publish", {})
    assert resp.status_code == 302
    page = client.get(review_url).get_data(as_text=True)
    assert "Published" in page and "Недостоверные сведения" in page

    anonymous = app.test_client()
    notice = anonymous.get(f"/tenders/{tender['number']}").get_data(as_text=True)
    assert "Awarded value" in notice and "ООО Альфа" in notice
    summary_page = anonymous.get(f"/tenders/{tender['number']}/results").get_data(as_text=True)
    assert "Results per position" not in summary_page  # the public sees the summary only


def test_unsuccessful_when_no_bid(app, client, db):
    customer = caller(app)
    tender = published(app, customer)
    clock.advance(dt.timedelta(days=11))
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") >= 1
    assert client.get(f"/api/v1/tenders/{tender['id']}").get_json()["status"] == "unsuccessful"
    resp = client.post(f"/api/v1/tenders/{tender['id']}/results/publish", headers=customer.headers)
    assert resp.status_code == 409


def test_review_before_the_close_is_refused(app, client, db):
    customer = caller(app)
    tender = published(app, customer)
    assert _evaluation(client, tender, customer.headers).status_code == 409
    resp = client.post(f"/api/v1/tenders/{tender['id']}/results/publish", headers=customer.headers)
    assert resp.status_code == 409


def test_close_is_pushed_live_to_the_tender_room(app, client, db):
    from core.extensions import socketio

    customer = caller(app)
    tender = published(app, customer)
    watcher = bidder(app, client)
    login(client, watcher.who.email)
    live = socketio.test_client(app, flask_test_client=client)
    assert live.is_connected()
    state = live.emit("watch_tender", {"tender_id": tender["id"]}, callback=True)
    assert state["ok"] is True
    live.get_received()
    clock.advance(dt.timedelta(days=11))
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") >= 1
    events = [e for e in live.get_received() if e["name"] == "tender_closed"]
    assert len(events) == 1
    (payload,) = events[0]["args"]
    assert payload["tender_id"] == tender["id"] and payload["status"] == "unsuccessful"
    assert payload["participants"] == 0
    live.disconnect()


def _check_comparison_workbook(client, tid: int) -> None:
    """The .xlsx export read back by openpyxl (a second library): positions x participants
    with the best offer highlighted, the CSV's rows with numbers as numbers, formula-safe."""
    import io

    import openpyxl

    resp = client.get(f"/cabinet/tenders/{tid}/review.xlsx")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    assert book.sheetnames == ["Comparison", "Offers"]
    matrix = book["Comparison"]
    assert [c.value for c in matrix[3]][:9] == [
        "Lot",
        "Position",
        "Name",
        "Quantity",
        "Max unit price",
        "unit price",
        "total",
        "score",
        "rank",
    ]
    assert str(matrix["F2"].value).startswith("No. 1: ")
    first = [c.value for c in matrix[4]]
    assert first[:2] == [1, "1"] and first[5] == 90 and first[6] == 135000 and first[8] == 1
    assert matrix["F4"].fill.fgColor.rgb.endswith("C6EFCE")  # the best offer, highlighted
    offers = book["Offers"]
    header = [c.value for c in offers[1]]
    rows = [dict(zip(header, r)) for r in offers.iter_rows(min_row=2, values_only=True)]
    assert any(r["Unit price"] == 90 and r["Total"] == 135000 for r in rows)
    hostile = [
        c for row in offers.iter_rows(min_row=2) for c in row if str(c.value).startswith("=cmd")
    ]
    assert hostile and all(c.data_type == "s" and c.quotePrefix for c in hostile)


def _check_results_workbooks(app, client, number: str) -> None:
    """The published results as .xlsx: a summary for everyone; awards and offers for the
    customer (logged in on ``client``), as on the page."""
    import io

    import openpyxl

    anonymous = app.test_client().get(f"/tenders/{number}/results.xlsx")
    assert anonymous.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(anonymous.get_data()))
    assert book.sheetnames == ["Summary"]
    figures = {
        r[0]: r[1] for r in book["Summary"].iter_rows(min_row=3, max_row=8, values_only=True)
    }
    assert figures["Awarded"] == 3
    detail = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/tenders/{number}/results.xlsx").get_data())
    )
    assert detail.sheetnames == ["Summary", "Awards", "Offers"]
    awards = list(detail["Awards"].iter_rows(min_row=2, values_only=True))
    assert len(awards) == 3 and awards[0][6].endswith("ООО Альфа")
    statuses = [r[6] for r in detail["Offers"].iter_rows(min_row=2, values_only=True)]
    assert "disqualified" in statuses
