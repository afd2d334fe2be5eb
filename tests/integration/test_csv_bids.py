"""CSV bids against the real database: a valid file becomes a revision through bids.service
(audited with the file's hash), an invalid one stores nothing, uploads belong to their
organization, and the template holds the current revision."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from audit.models import AuditEvent
from bids import csv_service
from bids.csv_models import BidCsvUpload
from bids.models import Bid, BidLine, BidRevision
from core.chains import tender_chain
from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.extensions import db
from signatures import canonical
from tests.factories import make_supplier, published_tender


@pytest.fixture()
def tender(ctx):
    lots = [
        {
            "title": "Подшипники",
            "award_mode": "per_position",
            "positions": [
                {
                    "number": str(i),
                    "name": f"Подшипник {6200 + i}",
                    "quantity": str(i),
                    "unit_code": "796",
                }
                for i in range(1, 201)
            ],
        },
        {
            "title": "Комплект",
            "award_mode": "whole_lot",
            "positions": [
                {"number": "201", "name": "Корпус", "quantity": "2", "unit_code": "796"},
                {"number": "202", "name": "Крышка", "quantity": "2", "unit_code": "796"},
            ],
        },
    ]
    return published_tender(questions_until=None, lots=lots, commit=False)


def _sign(private, payload: dict) -> str:
    return base64.b64encode(
        private.sign(canonical.canonicalize(payload), ec.ECDSA(hashes.SHA256()))
    ).decode()


def _file(prices: dict[str, str], codec: str = "cp1251") -> bytes:
    rows = "".join(f"{n};Подшипник;{p}\r\n" for n, p in prices.items())
    return ("№ позиции;Наименование;Цена за единицу\r\n" + rows).encode(codec)


def _submit(user, org, key, private, tender, upload):
    prepared = csv_service.prepare(user, org, tender.id, upload.id)
    return csv_service.submit(
        user, org, tender.id, upload.id, key.id, _sign(private, prepared["payload"])
    )


def test_valid_file_becomes_an_audited_revision(tender):
    user, org, key, private = make_supplier()
    prices = {str(i): f"{i},50" for i in range(1, 201)}
    upload = csv_service.upload(user, org, tender.id, _file(prices), filename="цены.csv")
    assert upload.positions == 200 and upload.encoding == "cp1251"
    revision = _submit(user, org, key, private, tender, upload)
    assert revision.number == 1 and revision.triggering
    stored = db.session.execute(
        select(BidLine.position_number, BidLine.unit_price).where(
            BidLine.revision_id == revision.id
        )
    ).all()
    assert len(stored) == 200 and dict(stored)["7"] == pytest.approx(7.5)
    assert db.session.get(BidCsvUpload, upload.id) is None  # forgotten once submitted
    event = db.session.execute(
        select(AuditEvent).where(
            AuditEvent.action == "bid.csv_submitted", AuditEvent.chain == tender_chain(tender.id)
        )
    ).scalar_one()
    assert event.payload["sha256"] == upload.sha256 and event.payload["file"] == "цены.csv"
    assert event.payload["revision"] == 1 and event.payload["rows"] == 200
    assert event.payload["lots"] == [1]


def test_a_lot_file_merges_with_the_current_revision_and_old_uploads_do_not(tender):
    """Issue 19.7 in the services: the file of lot 2 keeps lot 1's 200 lines; an upload kept
    before the change (its lines a JSON list) is still the whole offer it was."""
    import json

    user, org, key, private = make_supplier()
    prices = {str(i): "10" for i in range(1, 201)} | {"201": "5", "202": "6"}
    _submit(
        user, org, key, private, tender, csv_service.upload(user, org, tender.id, _file(prices))
    )
    lot2 = csv_service.upload(user, org, tender.id, _file({"201": "7", "202": "8"}))
    preview = csv_service.preview(user, org, tender.id, lot2.id, only="changes")
    assert preview["covered_lots"] == [2] and preview["kept_lots"] == [1]
    assert preview["counts"]["kept"] == 200 and preview["counts"]["up"] == 2
    assert preview["offer_positions"] == 202 and len(preview["lines"]) == 2
    revision = _submit(user, org, key, private, tender, lot2)
    stored = dict(
        db.session.execute(
            select(BidLine.position_number, BidLine.unit_price).where(
                BidLine.revision_id == revision.id
            )
        ).all()
    )
    assert len(stored) == 202 and stored["1"] == 10 and stored["201"] == 7

    old = csv_service.upload(user, org, tender.id, _file({"201": "9", "202": "9"}))
    old.lines = json.dumps([["201", "9.00", "", 2], ["202", "9.00", "", 2]])
    db.session.flush()
    preview = csv_service.preview(user, org, tender.id, old.id)
    assert preview["counts"]["dropped"] == 200 and preview["offer_positions"] == 2
    prepared = csv_service.prepare(user, org, tender.id, old.id)
    assert [line["position"] for line in prepared["payload"]["lines"]] == ["201", "202"]


def test_invalid_file_stores_nothing(tender):
    user, org, *_ = make_supplier()
    with pytest.raises(csv_service.CsvInvalid) as refused:
        csv_service.upload(user, org, tender.id, _file({"1": "abc", "201": "10", "999": "1"}))
    lines = sorted((p.line, p.message.split(":")[0][:25]) for p in refused.value.problems)
    assert [line for line, _ in lines] == [2, 3, 4]
    assert db.session.execute(select(func.count()).select_from(BidCsvUpload)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(Bid)).scalar_one() == 0


def test_template_holds_the_current_revision_and_round_trips(tender):
    user, org, key, private = make_supplier()
    first = csv_service.upload(user, org, tender.id, _file({"3": "10", "201": "5", "202": "6"}))
    _submit(user, org, key, private, tender, first)
    data, filename = csv_service.template(
        user, org, tender.id, variant="total", encoding="windows-1251"
    )
    assert filename == f"{tender.number}-total-prices.csv"
    text = data.decode("cp1251")
    assert f"{tender.number};1;3;Подшипник 6203;шт;3;30,00;" in text
    assert f"{tender.number};2;201;Корпус;шт;2;10,00;" in text
    again = csv_service.upload(user, org, tender.id, data)
    preview = csv_service.preview(user, org, tender.id, again.id)
    assert preview["counts"]["same"] == 3 and not preview["changes_prices"]
    assert _submit(user, org, key, private, tender, again).triggering is False


def test_criteria_of_the_current_revision_are_kept(ctx):
    created = published_tender(commit=False)
    user, supplier, key, private = make_supplier()
    ids = {c.name: c.id for c in created.lots[0].criteria}
    values = [
        {"lot": 1, "criterion": ids["Гарантия"], "value": "24"},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": "30 дней"},
    ]
    upload = csv_service.upload(user, supplier, created.id, _file({"1": "90"}))
    with pytest.raises(Invalid) as missing:  # required criteria are checked like the form's
        csv_service.prepare(user, supplier, created.id, upload.id)
    assert any(k.startswith("criteria.1.") for k in missing.value.fields)
    prepared = csv_service.prepare(user, supplier, created.id, upload.id, values)
    csv_service.submit(
        user, supplier, created.id, upload.id, key.id, _sign(private, prepared["payload"]), values
    )
    second = csv_service.upload(user, supplier, created.id, _file({"1": "89"}))
    prepared = csv_service.prepare(user, supplier, created.id, second.id)  # values kept
    assert {c["value"] for c in prepared["payload"]["criteria"]} == {"24", "30 дней"}


def test_uploads_belong_to_their_organization(tender):
    user, org, *_ = make_supplier()
    other_user, other_org, other_key, _ = make_supplier()
    upload = csv_service.upload(user, org, tender.id, _file({"1": "1"}))
    with pytest.raises(NotFound):
        csv_service.preview(other_user, other_org, tender.id, upload.id)
    with pytest.raises(NotFound):
        csv_service.submit(other_user, other_org, tender.id, upload.id, other_key.id, "AAAA" * 20)
    with pytest.raises(Forbidden):  # a member of no organization given acts for nobody
        csv_service.preview(other_user, org, tender.id, upload.id)
    customer_org = db.session.get(type(org), tender.customer_id)
    with pytest.raises(Forbidden):
        csv_service.upload(user, customer_org, tender.id, _file({"1": "1"}))


def test_closed_tender_refuses_uploads(tender):
    from core import clock

    user, org, *_ = make_supplier()
    clock.freeze(tender.bid_deadline)
    with pytest.raises(Conflict, match="Bidding closed"):
        csv_service.upload(user, org, tender.id, _file({"1": "1"}))


def test_revision_count(tender):
    user, org, key, private = make_supplier()
    for price in ("10", "11"):
        upload = csv_service.upload(user, org, tender.id, _file({"5": price}))
        _submit(user, org, key, private, tender, upload)
    count = db.session.execute(select(func.count()).select_from(BidRevision)).scalar_one()
    assert count == 2


# -- Excel workbooks (issue 23) -----------------------------------------------------------------


def test_xlsx_template_filled_by_openpyxl_becomes_an_audited_revision(tender):
    import hashlib
    import io

    import openpyxl

    user, org, key, private = make_supplier()
    data, filename = csv_service.template(user, org, tender.id, lot=2, file_format="xlsx")
    assert filename == f"{tender.number}-lot-2-unit-prices.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["Предложение"]
    assert sheet["G1"].value == "Цена за единицу"  # no maximum price column in this tender
    sheet["G2"], sheet["G3"] = 1500.5, "2 000,25"
    out = io.BytesIO()
    book.save(out)
    upload = csv_service.upload(user, org, tender.id, out.getvalue(), filename="цены.xlsx")
    assert (upload.encoding, upload.delimiter, upload.positions) == ("xlsx", "", 2)
    assert upload.sha256 == hashlib.sha256(out.getvalue()).hexdigest()
    revision = _submit(user, org, key, private, tender, upload)
    stored = dict(
        db.session.execute(
            select(BidLine.position_number, BidLine.unit_price).where(
                BidLine.revision_id == revision.id
            )
        ).all()
    )
    assert stored == {"201": pytest.approx(1500.5), "202": pytest.approx(2000.25)}
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "bid.csv_submitted")
    ).scalar_one()
    assert event.payload["sha256"] == upload.sha256 and event.payload["encoding"] == "xlsx"
    # The template now holds these prices and uploads back unchanged.
    again, _ = csv_service.template(user, org, tender.id, file_format="xlsx")
    kept = csv_service.upload(user, org, tender.id, again)
    preview = csv_service.preview(user, org, tender.id, kept.id)
    assert preview["counts"]["same"] == 2 and not preview["changes_prices"]


def test_invalid_workbook_names_its_cells_and_stores_nothing(tender):
    import io

    import openpyxl

    user, org, *_ = make_supplier()
    book = openpyxl.Workbook()
    book.active.title = "Лист1"
    for row in (["№ позиции", "Цена за единицу"], ["1", "abc"], ["999", 5]):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(csv_service.CsvInvalid) as refused:
        csv_service.upload(user, org, tender.id, out.getvalue())
    assert sorted(p.cell for p in refused.value.problems) == ["Лист1!A3", "Лист1!B2"]
    assert db.session.execute(select(func.count()).select_from(BidCsvUpload)).scalar_one() == 0
