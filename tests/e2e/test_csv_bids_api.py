"""CSV bids through the API: template round trips, files as Excel writes them, every error
with its line, the same revision rules as the form (signature, 30-minute rule), denials."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from core import clock
from tests.e2e.api_helpers import published
from tests.e2e.bidding_helpers import bidder, sign

POSITIONS = [
    # (lot, number, name, quantity, unit, max unit price)
    (1, "1", 'Кабель ВВГнг-LS 3х2,5 "Энергия"; бухта', "1500", "006", "95.50"),
    (1, "2", "Кабель КВВГ 7х1,5", "800", "006", None),
    (1, "3", "Муфта концевая", "2.5", "796", None),
    (2, "4", "Щит ЩРН-12", "5", "796", None),
    (2, "5", "Автомат 16А", "60", "796", "450.00"),
]


def _published(app, client, minutes: int | None = None, **policy) -> dict:
    """A published tender of POSITIONS (set up in-process: publication is not under test)."""
    lots = {}
    for lot, number, name, qty, unit, cap in POSITIONS:
        lots.setdefault(lot, []).append(
            {"number": number, "name": name, "quantity": qty, "unit_code": unit}
            | ({"max_unit_price": cap} if cap else {})
        )
    return published(
        app,
        deadline=dt.timedelta(minutes=minutes) if minutes else dt.timedelta(days=10),
        lots=[
            {"title": "Кабель", "award_mode": "per_position", "positions": lots[1]},
            {"title": "Щиты", "award_mode": "whole_lot", "positions": lots[2]},
        ],
        **policy,
    )


def _template(client, who, tid, **params) -> bytes:
    resp = client.get(
        f"/api/v1/tenders/{tid}/bid/csv/template", query_string=params, headers=who.headers
    )
    assert resp.status_code == 200, resp.get_data()[:500]
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    return resp.get_data()


def _upload(client, who, tid, data: bytes, **params):
    return client.post(
        f"/api/v1/tenders/{tid}/bid/csv",
        query_string={"filename": "prices.csv", **params},
        data=data,
        headers={**who.headers, "Content-Type": "text/csv"},
    )


def _sign_and_submit(client, b, tid, upload_id, body=None):
    body = body or {}
    prepared = client.post(
        f"/api/v1/tenders/{tid}/bid/csv/{upload_id}/prepare", json=body, headers=b.headers
    )
    assert prepared.status_code == 200, prepared.get_json()
    signature = sign(b.private_key, prepared.get_json()["payload"])
    return client.post(
        f"/api/v1/tenders/{tid}/bid/csv/{upload_id}/submit",
        json={**body, "key_id": b.key_id, "signature": signature},
        headers=b.headers,
    )


def _fill(data: bytes, codec: str, prices: dict[str, str]) -> bytes:
    """What a supplier does in Excel: fill the price column of some rows, save."""
    text = data.decode(codec)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    for row in rows[1:]:
        row[-2] = prices.get(row[2], row[-2])
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(codec)


def _my_lines(client, b, tid) -> dict[str, str]:
    """The unit prices of the bidder's latest revision, as stored."""
    from sqlalchemy import select

    from bids.models import Bid, BidLine, BidRevision
    from core.extensions import db

    mine = client.get(f"/api/v1/tenders/{tid}/bid", headers=b.headers).get_json()
    latest = mine["revisions"][-1]["payload_hash"]
    rows = db.session.execute(
        select(BidLine.position_number, BidLine.unit_price)
        .join(BidRevision, BidRevision.id == BidLine.revision_id)
        .join(Bid, Bid.id == BidRevision.bid_id)
        .where(BidRevision.payload_hash == latest, Bid.tender_id == tid)
    ).all()
    return {number: f"{price:.2f}" for number, price in rows}


@pytest.mark.parametrize("encoding,codec", [("utf-8", "utf-8-sig"), ("windows-1251", "cp1251")])
@pytest.mark.parametrize("variant", ["unit", "total"])
def test_template_round_trip(app, client, db, variant, encoding, codec):
    tender = _published(app, client)
    b = bidder(app, client)
    tid = tender["id"]
    blank = _template(client, b.who, tid, variant=variant, encoding=encoding)
    assert blank.startswith(b"\xef\xbb\xbf") == (codec == "utf-8-sig")
    header = blank.decode(codec).splitlines()[0]
    assert header.split(";")[-2] == ("Цена за единицу" if variant == "unit" else "Стоимость всего")
    assert '"Кабель ВВГнг-LS 3х2,5 ""Энергия""; бухта"' in blank.decode(codec)
    if variant == "unit":
        prices = {"1": "90,50", "3": "1 200,00", "4": "15000", "5": "400,10"}
    else:  # totals: 1500 x 90.50, 2.5 x 1200.00, 5 x 15000, 60 x 400.10
        prices = {"1": "135 750,00", "3": "3000", "4": "75000,00", "5": "24006"}
    resp = _upload(client, b.who, tid, _fill(blank, codec, prices))
    assert resp.status_code == 201, resp.get_json()
    upload = resp.get_json()
    assert upload["variant"] == variant and upload["positions"] == 4 and upload["rows"] == 5
    assert upload["total"] == "237756.00"
    preview = client.get(f"/api/v1/tenders/{tid}/bid/csv/{upload['id']}", headers=b.headers)
    summary = preview.get_json()
    assert summary["counts"]["new"] == 4 and summary["revision"] == 1
    assert [line["position"] for line in summary["lines"]] == ["1", "3", "4", "5"]
    accepted = _sign_and_submit(client, b, tid, upload["id"])
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["number"] == 1 and accepted.get_json()["total"] == "237756.00"
    assert _my_lines(client, b, tid) == {
        "1": "90.50",
        "3": "1200.00",
        "4": "15000.00",
        "5": "400.10",
    }
    # The upload is gone once submitted.
    gone = client.get(f"/api/v1/tenders/{tid}/bid/csv/{upload['id']}", headers=b.headers)
    assert gone.status_code == 404
    # Round trip: the template now holds the current prices; uploaded back, nothing changes.
    filled = _template(client, b.who, tid, variant=variant, encoding=encoding)
    again = _upload(client, b.who, tid, filled)
    assert again.status_code == 201, again.get_json()
    summary = client.get(
        f"/api/v1/tenders/{tid}/bid/csv/{again.get_json()['id']}", headers=b.headers
    ).get_json()
    assert summary["counts"]["same"] == 4 and summary["changes_prices"] is False
    second = _sign_and_submit(client, b, tid, again.get_json()["id"])
    assert second.status_code == 201 and second.get_json()["triggering"] is False


def test_excel_russian_locale_file_windows_1251(app, client, db):
    tender = _published(app, client)
    b = bidder(app, client)
    text = (
        "№ позиции;Наименование;Кол-во;Цена за ед.;Примечание\r\n"
        '1;"Кабель ВВГнг-LS 3х2,5 ""Энергия""; бухта";1\u00a0500;95,50;"поставка;\r\nпартиями"\r\n'
        "2;Кабель КВВГ 7х1,5;800;1\u00a0234,56;\r\n"
        "3;Муфта концевая;2,5;;\r\n"
        ";;;;\r\n"
        "\r\n"
    )
    resp = _upload(client, b.who, tender["id"], text.replace("\u00a0", "\xa0").encode("cp1251"))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["encoding"] == "cp1251" and resp.get_json()["positions"] == 2
    accepted = _sign_and_submit(client, b, tender["id"], resp.get_json()["id"])
    assert accepted.status_code == 201, accepted.get_json()
    assert _my_lines(client, b, tender["id"]) == {"1": "95.50", "2": "1234.56"}


def test_tab_separated_utf8_with_bom_and_english_headers(app, client, db):
    tender = _published(app, client)
    b = bidder(app, client)
    text = "\ufeffPosition\tUnit price\tNote\n5\t450.00\t\n4\t1'200.5\tIP54\n"
    resp = _upload(client, b.who, tender["id"], text.encode("utf-8"))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["delimiter"] == "\t" and resp.get_json()["positions"] == 2


def test_every_problem_with_its_line_and_nothing_stored(app, client, db):
    tender = _published(app, client)
    b = bidder(app, client)
    text = (
        "Закупка;Лот;№ позиции;Количество;Цена за единицу;Стоимость всего\n"
        "T-1999-000001;1;1;1500;90;\n"  # line 2: another tender
        ";1;2;800;abc;\n"  # 3: not a number
        ";1;3;2,5;-5;\n"  # 4: not positive
        ";1;2;800;10;\n"  # 5: duplicate
        ";1;99;1;10;\n"  # 6: unknown position
        ";2;5;60;460;\n"  # 7: above the maximum (450), lot 2 partly priced (4 empty)
        ";2;4;5;;\n"  # 8: whole_lot position left empty
        ";1;1;1000;10,123;\n"  # 9: duplicate of line 2's position? no: line 2 was refused
    )
    resp = _upload(client, b.who, tender["id"], text.encode("utf-8"))
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    assert body["error"]["code"] == "invalid" and "nothing was stored" in body["error"]["message"]
    found = {(p["line"], p["column"]): p["message"] for p in body["problems"]}
    assert "another tender" in found[(2, "Закупка")]
    assert "not a number" in found[(3, "Цена за единицу")]
    assert "greater than zero" in found[(4, "Цена за единицу")]
    assert "repeated (first on row 3)" in found[(5, "№ позиции")]
    assert "unknown position 99" in found[(6, "№ позиции")]
    assert "above the maximum unit price 450" in found[(7, "Цена за единицу")]
    assert "awarded as a whole" in found[(8, "Цена за единицу")]
    assert "quantity 1000 differs" in found[(9, "Количество")]
    assert "more than 2 decimal places" in found[(9, "Цена за единицу")]
    assert [p["line"] for p in body["problems"]] == sorted(p["line"] for p in body["problems"])
    mine = client.get(f"/api/v1/tenders/{tender['id']}/bid", headers=b.headers)
    assert mine.status_code == 404  # no bid, no revision


def test_total_not_consistent_with_the_quantity(app, client, db):
    tender = _published(app, client)
    b = bidder(app, client)
    text = "№ позиции;Стоимость всего\n2;1000,01\n"  # 1000.01 / 800 = 1.25 -> 1000.00
    resp = _upload(client, b.who, tender["id"], text.encode("utf-8"))
    assert resp.status_code == 422
    (problem,) = resp.get_json()["problems"]
    assert problem["line"] == 2 and problem["column"] == "Стоимость всего"
    assert "not consistent with the quantity 800" in problem["message"]
    assert "1000,00 and 1008,00" in problem["message"]


def test_too_large_file_is_refused_at_once(app, client, db):
    tender = _published(app, client)
    b = bidder(app, client)
    app.config["CSV_MAX_BYTES"], limit = 1000, app.config["CSV_MAX_BYTES"]
    try:
        resp = _upload(client, b.who, tender["id"], b"1;10\n" * 1000)
    finally:
        app.config["CSV_MAX_BYTES"] = limit
    assert resp.status_code == 422
    assert "larger than the limit" in resp.get_json()["error"]["message"]
    app.config["CSV_MAX_ROWS"], rows = 3, app.config["CSV_MAX_ROWS"]
    try:
        resp = _upload(client, b.who, tender["id"], b"position;price\n1;1\n2;1\n3;1\n4;1\n")
    finally:
        app.config["CSV_MAX_ROWS"] = rows
    assert resp.status_code == 422 and "more than 3 rows" in resp.get_json()["error"]["message"]


def test_csv_revision_extends_the_deadline_like_the_form(app, client, db):
    tender = _published(app, client, minutes=10)
    b = bidder(app, client)
    resp = _upload(client, b.who, tender["id"], "№;Цена\n1;90\n".encode())
    assert resp.status_code == 201, resp.get_json()
    accepted = _sign_and_submit(client, b, tender["id"], resp.get_json()["id"])
    assert accepted.status_code == 201, accepted.get_json()
    body = accepted.get_json()
    assert body["extended"] is True and body["extensions_count"] == 1
    before = dt.datetime.fromisoformat(tender["bid_deadline"])
    assert dt.datetime.fromisoformat(body["bid_deadline"]) == before + dt.timedelta(minutes=30)
    mine = client.get(f"/api/v1/tenders/{tender['id']}/bid", headers=b.headers).get_json()
    assert body["id"] == mine["revisions"][-1]["id"]


def test_bad_signature_stores_nothing_and_keeps_the_upload(app, client, db):
    tender = _published(app, client)
    b = bidder(app, client)
    upload = _upload(client, b.who, tender["id"], "№;Цена\n1;90\n".encode()).get_json()
    resp = client.post(
        f"/api/v1/tenders/{tender['id']}/bid/csv/{upload['id']}/submit",
        json={"key_id": b.key_id, "signature": "MEUCIQDz" * 8},
        headers=b.headers,
    )
    assert resp.status_code in (401, 422), resp.get_json()
    assert client.get(f"/api/v1/tenders/{tender['id']}/bid", headers=b.headers).status_code == 404
    preview = client.get(
        f"/api/v1/tenders/{tender['id']}/bid/csv/{upload['id']}", headers=b.headers
    )
    assert preview.status_code == 200


def test_denials(app, client, db):
    tender = _published(app, client, minutes=120)
    tid = tender["id"]
    b, other = bidder(app, client), bidder(app, client)
    upload = _upload(client, b.who, tid, "№;Цена\n1;90\n".encode()).get_json()
    # Another organization cannot see, prepare, submit or discard this upload.
    base = f"/api/v1/tenders/{tid}/bid/csv/{upload['id']}"
    assert client.get(base, headers=other.headers).status_code == 404
    assert client.post(base + "/prepare", json={}, headers=other.headers).status_code == 404
    signed = {"key_id": other.key_id, "signature": "A" * 88}
    assert client.post(base + "/submit", json=signed, headers=other.headers).status_code == 404
    assert client.delete(base, headers=other.headers).status_code == 404
    # The customer cannot bid on its own tender, not even by CSV.
    customer = tender["customer"]
    assert _upload(client, customer, tid, b"1;1\n").status_code == 403
    assert (
        client.get(f"/api/v1/tenders/{tid}/bid/csv/template", headers=customer.headers).status_code
        == 403
    )
    # A supplier that is not accredited.
    pending = bidder(app, client)
    from accounts.models import Organization
    from core.extensions import db as _db
    from core.transaction import commit

    with app.test_request_context():
        _db.session.get(Organization, pending.who.org_id).accreditation_status = "pending"
        commit()
    assert _upload(client, pending.who, tid, "№;Цена\n1;90\n".encode()).status_code == 403
    # Without credentials.
    assert client.post(f"/api/v1/tenders/{tid}/bid/csv", data=b"1;1\n").status_code == 401
    # Closed tender: the upload is refused, and so is the submission of an earlier upload.
    clock.freeze(dt.datetime.fromisoformat(tender["bid_deadline"]) + dt.timedelta(seconds=1))
    resp = _upload(client, other.who, tid, "№;Цена\n1;90\n".encode())
    assert resp.status_code == 409 and "Bidding closed" in resp.get_json()["error"]["message"]
    assert resp.get_json()["error"]["code"] == "bidding_closed"
    late = client.post(base + "/prepare", json={}, headers=b.headers)
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "bidding_closed"


def test_newer_upload_replaces_the_pending_one_and_discard(app, client, db):
    tender = _published(app, client)
    b = bidder(app, client)
    first = _upload(client, b.who, tender["id"], "№;Цена\n1;90\n".encode()).get_json()
    second = _upload(client, b.who, tender["id"], "№;Цена\n2;80\n".encode()).get_json()
    base = f"/api/v1/tenders/{tender['id']}/bid/csv/"
    assert client.get(base + str(first["id"]), headers=b.headers).status_code == 404
    assert client.delete(base + str(second["id"]), headers=b.headers).status_code == 204
    assert client.get(base + str(second["id"]), headers=b.headers).status_code == 404


def test_preview_pages_and_shows_changes(app, client, db):
    tender = _published(app, client)
    b = bidder(app, client)
    tid = tender["id"]
    first = _upload(client, b.who, tid, "№;Цена\n1;90\n2;80\n3;70\n".encode()).get_json()
    assert _sign_and_submit(client, b, tid, first["id"]).status_code == 201
    text = "№;Цена\n1;91\n2;80\n3;\n4;10\n5;20\n"  # 3: an empty price drops it
    second = _upload(client, b.who, tid, text.encode()).get_json()
    url = f"/api/v1/tenders/{tid}/bid/csv/{second['id']}"
    summary = client.get(url, query_string={"per_page": 2}, headers=b.headers).get_json()
    assert summary["counts"] == {
        "new": 2,
        "up": 1,
        "down": 0,
        "note": 0,
        "same": 1,
        "dropped": 1,
        "kept": 0,
    }
    assert summary["matching"] == 5 and len(summary["lines"]) == 2 and summary["revision"] == 2
    changes = client.get(url, query_string={"only": "changes"}, headers=b.headers).get_json()
    assert {(r["position"], r["change"]) for r in changes["lines"]} == {
        ("1", "up"),
        ("3", "dropped"),
        ("4", "new"),
        ("5", "new"),
    }
    assert changes["changes_prices"] is True and changes["current_revision"] == 1


def _bid_on_both_lots(app, client) -> tuple[dict, object, int]:
    tender = _published(app, client)
    b = bidder(app, client)
    tid = tender["id"]
    first = _upload(client, b.who, tid, "№;Цена\n1;90\n2;80\n3;70\n4;100\n5;400\n".encode())
    assert first.status_code == 201, first.get_json()
    assert _sign_and_submit(client, b, tid, first.get_json()["id"]).status_code == 201
    return tender, b, tid


def test_the_template_of_one_lot_changes_that_lot_only(app, client, db):
    """Issue 19.7: "upload the prices of one lot at a time" must not drop the other lots."""
    tender, b, tid = _bid_on_both_lots(app, client)
    lot2 = _template(client, b.who, tid, lot=2)
    assert [row.split(";")[2] for row in lot2.decode("utf-8-sig").splitlines()[1:]] == ["4", "5"]
    upload = _upload(client, b.who, tid, _fill(lot2, "utf-8-sig", {"4": "95", "5": "390"}))
    assert upload.status_code == 201, upload.get_json()
    url = f"/api/v1/tenders/{tid}/bid/csv/{upload.get_json()['id']}"
    summary = client.get(url, headers=b.headers).get_json()
    assert summary["covered_lots"] == [2] and summary["kept_lots"] == [1]
    assert summary["lots"] == [1, 2] and summary["offer_positions"] == 5
    assert summary["counts"]["dropped"] == 0 and summary["counts"]["kept"] == 3
    assert summary["counts"]["down"] == 2
    # 1500 x 90 + 800 x 80 + 2.5 x 70 + 5 x 95 + 60 x 390
    assert summary["offer_total"] == "223050.00" and summary["upload"]["total"] == "23875.00"
    changes = {(r["position"], r["change"]) for r in summary["lines"]}
    assert changes == {("1", "kept"), ("2", "kept"), ("3", "kept"), ("4", "down"), ("5", "down")}
    only = client.get(url, query_string={"only": "changes"}, headers=b.headers).get_json()
    assert [r["position"] for r in only["lines"]] == ["4", "5"]
    # The payload to sign is the merged full offer.
    prepared = client.post(url + "/prepare", json={}, headers=b.headers).get_json()
    assert [line["position"] for line in prepared["payload"]["lines"]] == ["1", "2", "3", "4", "5"]
    accepted = _sign_and_submit(client, b, tid, upload.get_json()["id"])
    assert accepted.status_code == 201, accepted.get_json()
    assert _my_lines(client, b, tid) == {
        "1": "90.00",
        "2": "80.00",
        "3": "70.00",
        "4": "95.00",
        "5": "390.00",
    }


def test_an_empty_price_in_a_covered_lot_drops_that_position(app, client, db):
    tender, b, tid = _bid_on_both_lots(app, client)
    lot1 = _template(client, b.who, tid, lot=1)  # pre-filled with 90, 80, 70
    upload = _upload(client, b.who, tid, _fill(lot1, "utf-8-sig", {"2": ""}))
    assert upload.status_code == 201, upload.get_json()
    url = f"/api/v1/tenders/{tid}/bid/csv/{upload.get_json()['id']}"
    summary = client.get(url, query_string={"only": "changes"}, headers=b.headers).get_json()
    assert summary["covered_lots"] == [1] and summary["kept_lots"] == [2]
    assert summary["counts"]["dropped"] == 1 and summary["counts"]["same"] == 2
    assert [(r["position"], r["change"]) for r in summary["lines"]] == [("2", "dropped")]
    assert summary["offer_positions"] == 4
    accepted = _sign_and_submit(client, b, tid, upload.get_json()["id"])
    assert accepted.status_code == 201, accepted.get_json()
    assert _my_lines(client, b, tid) == {"1": "90.00", "3": "70.00", "4": "100.00", "5": "400.00"}
    # Dropping a whole lot: every price of it empty (lot 2 is awarded as a whole).
    half = _upload(client, b.who, tid, "№;Цена\n4;\n".encode())
    assert half.status_code == 422
    assert "kept at your current price: 5" in half.get_json()["problems"][0]["message"]
    whole = _upload(client, b.who, tid, "№;Цена\n4;\n5;\n".encode())
    assert whole.status_code == 201, whole.get_json()
    assert _sign_and_submit(client, b, tid, whole.get_json()["id"]).status_code == 201
    assert _my_lines(client, b, tid) == {"1": "90.00", "3": "70.00"}


def test_openapi_lists_the_csv_endpoints(app, client, db):
    from core.api import _routes

    declared = {(r["method"], r["path"]): r for r in _routes}
    base = "/api/v1/tenders/<int:tender_id>/bid/csv"
    upload = declared[("post", base)]
    assert upload["query"] is not None and upload["response"] is not None
    assert declared[("get", base + "/template")]["query"] is not None
    submit = declared[("post", base + "/<int:upload_id>/submit")]
    assert submit["body"] is not None and submit["status"] == 201
    for key in [("get", base + "/<int:upload_id>"), ("post", base + "/<int:upload_id>/prepare")]:
        assert key in declared


def test_page_and_session_upload_with_csrf(app, client, db):
    """The page is linked from the bid form; its template form and upload work with the
    browser session (the upload needs the X-CSRFToken header like every session call)."""
    import re

    from tests.e2e.helpers import login

    tender = _published(app, client)
    b = bidder(app, client)
    login(client, b.who.email)
    form = client.get(f"/tenders/{tender['number']}/bid").get_data(as_text=True)
    assert f"/tenders/{tender['number']}/bid/csv" in form
    page = client.get(f"/tenders/{tender['number']}/bid/csv")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="upload-form"' in html and "csv-upload.js" in html
    # The page's template form sends an empty lot for "all lots".
    resp = client.get(
        f"/api/v1/tenders/{tender['id']}/bid/csv/template",
        query_string={"variant": "total", "lot": "", "encoding": "windows-1251", "lang": "en"},
    )
    assert resp.status_code == 200 and resp.headers["Content-Type"].endswith("windows-1251")
    assert resp.get_data().decode("cp1251").startswith("Tender;Lot;Position;Name;")
    url = f"/api/v1/tenders/{tender['id']}/bid/csv"
    headers = {"Content-Type": "text/csv"}
    assert client.post(url, data="№;Цена\n1;90\n".encode(), headers=headers).status_code == 401
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    resp = client.post(
        url, data="№;Цена\n1;90\n".encode(), headers={**headers, "X-CSRFToken": token}
    )
    assert resp.status_code == 201, resp.get_json()


# -- Excel workbooks (issue 23) -----------------------------------------------------------------


def test_xlsx_template_upload_and_problems_with_cells(app, client, db):
    import openpyxl

    tender = _published(app, client)
    b = bidder(app, client)
    tid = tender["id"]
    resp = client.get(
        f"/api/v1/tenders/{tid}/bid/csv/template",
        query_string={"format": "xlsx", "lot": 1},
        headers=b.who.headers,
    )
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert resp.headers["Content-Disposition"].endswith('-lot-1-unit-prices.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    sheet = book.active
    sheet["H2"], sheet["H3"], sheet["H4"] = 99, "abc", 12  # 99 > the maximum 95.50
    out = io.BytesIO()
    book.save(out)
    # Uploaded as text/csv with a .csv name: told apart by its content.
    resp = _upload(client, b.who, tid, out.getvalue())
    assert resp.status_code == 422
    found = {p["cell"]: (p["line"], p["column"]) for p in resp.get_json()["problems"]}
    assert found == {
        "Предложение!H2": (2, "Цена за единицу"),
        "Предложение!H3": (3, "Цена за единицу"),
    }
    sheet["H2"], sheet["H3"] = 90, "1 000,50"
    out = io.BytesIO()
    book.save(out)
    resp = _upload(client, b.who, tid, out.getvalue(), filename="prices.xlsx")
    assert resp.status_code == 201, resp.get_json()
    upload = resp.get_json()
    assert upload["encoding"] == "xlsx" and upload["positions"] == 3
    assert _sign_and_submit(client, b, tid, upload["id"]).status_code == 201
    assert _my_lines(client, b, tid) == {"1": "90.00", "2": "1000.50", "3": "12.00"}


def test_xls_and_macro_workbooks_are_refused_with_a_clear_message(app, client, db):
    tender = _published(app, client)
    b = bidder(app, client)
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    resp = _upload(client, b.who, tender["id"], xls)
    assert resp.status_code == 422
    assert "97-2003 workbook (.xls)" in resp.get_json()["error"]["message"]
