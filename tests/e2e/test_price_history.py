"""Price history (issue 22): GET /api/v1/tenders/<id>/price-history and its sections on the
notice and the review page; who sees which lines per visibility mode, bad queries, empty
tenders, extensions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import clock, jobs
from tests.e2e.api_helpers import caller, published
from tests.e2e.bidding_helpers import bid, bidder, tender_in_window
from tests.e2e.helpers import login
from tests.e2e.results_helpers import close_and_publish


def _criteria(tender, warranty: str = "24") -> list[dict]:
    ids = {c["name"]: c["id"] for c in tender["lots"][0]["criteria"]}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": warranty},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": "нет"},
    ]


def _history(client, tender_id: int, headers=None, **query):
    resp = client.get(
        f"/api/v1/tenders/{tender_id}/price-history", query_string=query, headers=headers or {}
    )
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _values(series: dict) -> list[str | None]:
    return [p["value"] for p in series["points"]]


def _auction(app, client, visibility: str = "open_after_own_bid"):
    """Two bidders who revise their prices: a (90 -> 84 on position 1), b (85)."""
    tender = published(app, visibility=visibility)
    a = bidder(app, client, name="ООО Альфа")
    b = bidder(app, client, name="ООО Бета")
    bid(app, a, tender["id"], {"1": "90.00", "2": "110", "3": "1000"}, _criteria(tender))
    clock.advance(dt.timedelta(minutes=5))
    bid(app, b, tender["id"], {"1": "85.00", "3": "1100"}, _criteria(tender))
    clock.advance(dt.timedelta(minutes=5))
    bid(app, a, tender["id"], {"1": "84.00", "2": "110", "3": "950"}, _criteria(tender))
    return tender, a, b


def test_open_after_own_bid_best_and_own_only(app, client, db):
    tender, a, b = _auction(app, client)
    late = bidder(app, client)
    # Before its own bid, and for the public: only the extensions (none here).
    for headers in (late.headers, None):
        view = _history(client, tender["id"], headers, position="1")
        assert view["level"] == "none" and view["series"] == [] and view["extensions"] == []
    view = _history(client, tender["id"], a.headers, position="1")
    assert view["level"] == "own" and view["measure"] == "unit_price" and view["lot"] == 1
    best, own = view["series"]
    assert (best["role"], own["role"]) == ("best", "own")
    assert _values(best) == ["90.00", "85.00", "84.00"]
    assert _values(own) == ["90.00", "84.00"]
    assert "ООО Бета" not in str(view) and "Participant" not in str(view)
    # b never priced position 2: its own line there is empty, the best is a's.
    view = _history(client, tender["id"], b.headers, position="2")
    assert [s["role"] for s in view["series"]] == ["best", "own"]
    assert _values(view["series"][0]) == ["110.00"] and view["series"][1]["points"] == []


def test_customer_sees_every_line_anonymous_then_named_after_the_close(app, client, db):
    tender, a, b = _auction(app, client)
    customer = tender["customer"].headers
    view = _history(client, tender["id"], customer, position="1")
    assert view["level"] == "everyone"
    assert [s["label"] for s in view["series"]] == ["Best price", "Participant 1", "Participant 2"]
    assert "ООО" not in str(view)
    assert _values(view["series"][1]) == ["90.00", "84.00"]
    clock.advance(dt.timedelta(days=11))
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") >= 1
    view = _history(client, tender["id"], customer, position="1")
    assert view["level"] == "named"
    assert [s["label"] for s in view["series"]][1:] == ["ООО Альфа", "ООО Бета"]
    # A supplier keeps its view after the close (as the offers table does).
    assert _history(client, tender["id"], b.headers, position="1")["level"] == "own"


def test_rank_only_gives_best_and_own(app, client, db):
    tender, a, _ = _auction(app, client, "rank_only")
    view = _history(client, tender["id"], a.headers, position="1")
    assert view["level"] == "own" and [s["key"] for s in view["series"]] == ["best", "own"]


@pytest.mark.parametrize("who", ["supplier", "customer", "public"])
def test_sealed_shows_nothing_before_the_deadline(app, client, db, who):
    tender, a, _ = _auction(app, client, "sealed")
    headers = {"supplier": a.headers, "customer": tender["customer"].headers, "public": None}
    view = _history(client, tender["id"], headers[who], position="1")
    assert view["level"] == "none" and view["series"] == []
    # The notice says why and shows no number of the offers.
    page = client.get(f"/tenders/{tender['number']}", headers=headers[who] or {}).get_data(True)
    assert 'id="price-history-hidden"' in page and "84,00" not in page and "84.00" not in page


def test_after_publication_public_sees_nothing_participants_their_own(app, client, db):
    tender, a, b = _auction(app, client)
    close_and_publish(app, client, {"tender": tender, "customer": tender["customer"]})
    assert _history(client, tender["id"], position="1")["level"] == "none"
    outsider = caller(app, customer=False, supplier=True)
    assert _history(client, tender["id"], outsider.headers, position="1")["level"] == "none"
    assert _history(client, tender["id"], b.headers, position="1")["level"] == "own"
    view = _history(client, tender["id"], tender["customer"].headers, position="1")
    assert view["level"] == "named" and "ООО Альфа" in str(view)


def test_lot_totals(app, client, db):
    tender, a, b = _auction(app, client)
    customer = tender["customer"].headers
    # Lot 2 is awarded whole (one position of 40): each offer's total.
    view = _history(client, tender["id"], customer, lot="2")
    assert view["kind"] == "whole_lot" and view["measure"] == "total" and view["position"] is None
    assert _values(view["series"][0]) == ["40000.00", "38000.00"]
    # Lot 1 itemized: the lot at the best price of each position (1500 x p1 + 800 x p2).
    view = _history(client, tender["id"], customer, lot="1")
    assert view["kind"] == "per_position_lot"
    assert _values(view["series"][0]) == ["223000.00", "215500.00", "214000.00"]
    # Without lot or position: the first lot.
    assert _history(client, tender["id"], customer)["lot"] == 1


def test_no_bids_is_an_empty_chart(app, client, db):
    tender = published(app)
    view = _history(client, tender["id"], tender["customer"].headers, position="1")
    assert view["level"] == "everyone"
    assert view["series"] == [{"key": "best", "label": "Best price", "role": "best", "points": []}]
    page = client.get(f"/tenders/{tender['number']}")
    assert page.status_code == 200 and 'id="price-history"' in page.get_data(True)


def test_the_page_reads_only_the_first_position_of_an_itemized_lot(app, client, db):
    """The notice's default chart names the first position of lot 1: one row read, not every
    position of the lot (a 10,000-position notice page took ~3x longer, bench/tenders_search)."""
    from sqlalchemy import event

    from core.extensions import db as _db
    from positions.models import Position
    from reports import price_history
    from tenders.models import Tender

    tender = published(app)
    loaded = []
    with app.app_context():
        lots = _db.session.get(Tender, tender["id"]).lots
        assert lots[0].award_mode == "per_position" and len(lots[0].positions) > 1
        _db.session.expunge_all()
        tender_row = _db.session.get(Tender, tender["id"])

        def on_load(target, context):
            loaded.append(target.number)

        event.listen(Position, "load", on_load)
        try:
            sc = price_history.default_scope(tender_row)
        finally:
            event.remove(Position, "load", on_load)
    assert sc.position.number == "1" and loaded == ["1"]


def test_extensions_are_marked(app, client, db):
    tender = tender_in_window(app, client, minutes=10)
    a, b = bidder(app, client), bidder(app, client)
    bid(app, a, tender["id"], {"1": "100"})  # 10 minutes before the deadline: +30
    clock.advance(dt.timedelta(minutes=15))  # 25 minutes before the new one: +30 again
    bid(app, b, tender["id"], {"1": "99"})
    view = _history(client, tender["id"], a.headers, position="1")
    assert len(view["extensions"]) == 2
    first = view["extensions"][0]
    assert dt.datetime.fromisoformat(first["deadline"]) - dt.datetime.fromisoformat(
        first["previous"]
    ) == dt.timedelta(minutes=30)
    assert view["extensions"][0]["at"] == view["series"][0]["points"][0]["at"]
    # Public: no prices, but the extensions (the notice shows the moved deadline anyway).
    public = _history(client, tender["id"], position="1")
    assert public["series"] == [] and len(public["extensions"]) == 2


def test_withdrawal_drops_the_line(app, client, db):
    tender, a, b = _auction(app, client)
    clock.advance(dt.timedelta(minutes=1))
    resp = client.post(f"/api/v1/tenders/{tender['id']}/bid/withdraw", headers=a.headers)
    assert resp.status_code in (200, 204), resp.get_json()
    view = _history(client, tender["id"], tender["customer"].headers, position="1")
    best, p1, _p2 = view["series"]
    assert _values(best) == ["90.00", "85.00", "84.00", "85.00"]
    assert _values(p1) == ["90.00", "84.00", None]
    # It comes back with the very offer it withdrew: its line and the best return.
    clock.advance(dt.timedelta(minutes=1))
    bid(app, a, tender["id"], {"1": "84.00", "2": "110", "3": "950"}, _criteria(tender))
    view = _history(client, tender["id"], tender["customer"].headers, position="1")
    best, p1, _p2 = view["series"]
    assert _values(best) == ["90.00", "85.00", "84.00", "85.00", "84.00"]
    assert _values(p1) == ["90.00", "84.00", None, "84.00"]
    # The lot's total: the return offers the whole revision again, unchanged lines too.
    lot = _history(client, tender["id"], tender["customer"].headers, lot="1")
    best, p1, _p2 = lot["series"]
    assert _values(best) == ["223000.00", "215500.00", "214000.00", "127500.00", "214000.00"]
    assert _values(p1) == ["223000.00", "214000.00", None, "214000.00"]  # 84 x 1500 + 110 x 800


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"lot": "9"}, 404, "lot"),
        ({"position": "77"}, 404, "position"),
        ({"lot": "2", "position": "1"}, 422, "position"),
        ({"lot": "abc"}, 422, "lot"),
        ({"lot": "0"}, 422, "lot"),
        ({"position": "x" * 21}, 422, "position"),
    ],
)
def test_bad_queries_name_the_field(app, client, db, query, status, field):
    tender = published(app)
    resp = client.get(f"/api/v1/tenders/{tender['id']}/price-history", query_string=query)
    assert resp.status_code == status, resp.get_json()
    assert field in resp.get_json()["error"]["fields"]


def test_unknown_tender_and_drafts_are_not_found(app, client, db):
    assert client.get("/api/v1/tenders/999999/price-history").status_code == 404
    from tests.e2e.api_helpers import draft_body

    customer = caller(app)
    draft = client.post("/api/v1/tenders", json=draft_body(), headers=customer.headers)
    assert draft.status_code == 201, draft.get_json()
    tid = draft.get_json()["id"]
    assert client.get(f"/api/v1/tenders/{tid}/price-history").status_code == 404


def test_notice_and_review_sections(app, client, db):
    tender, a, b = _auction(app, client)
    # The notice, for a bidder: its own line, no competitor's name, the table of numbers.
    page = client.get(
        f"/tenders/{tender['number']}?history_position=1", headers=a.headers
    ).get_data(True)
    assert 'id="price-history-table"' in page and "ООО Бета" not in page
    # A bad choice on the page is said there, not a 500.
    resp = client.get(f"/tenders/{tender['number']}?history_lot=9")
    assert resp.status_code == 200 and "Lot 9 does not exist" in resp.get_data(True)
    clock.advance(dt.timedelta(days=11))
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") >= 1
    from accounts.models import User
    from core.extensions import db as _db

    with app.app_context():
        email = _db.session.get(User, tender["customer"].user_id).email
    login(client, email)
    page = client.get(f"/cabinet/tenders/{tender['id']}/review?history_position=1")
    assert page.status_code == 200
    text = page.get_data(True)
    assert 'id="price-history"' in text and "ООО Альфа" in text and "84.00" in text


def test_openapi_describes_it(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/tenders/{tender_id}/price-history"]["get"]
    assert {"404", "422"} <= set(op["responses"])


def test_protocol_draws_each_lot(app, client, db):
    """The results protocol has a "Price history" section with a chart per lot."""
    import io

    from pypdf import PdfReader

    from reports import protocol, service
    from reports.results import published_results
    from tenders.models import Tender

    tender, a, b = _auction(app, client)
    close_and_publish(app, client, {"tender": tender, "customer": tender["customer"]})
    with app.test_request_context():
        t = db.session.get(Tender, tender["id"])
        charts = service.price_charts(t)
        assert [c.lot_number for c in charts] == [1, 2]
        lot1 = charts[0]
        assert [line.label for line in lot1.lines] == ["Best price", "ООО Альфа", "ООО Бета"]
        assert lot1.lines[0].values[-1] == Decimal("214000.00")  # 1500 x 84 + 800 x 110
        content = protocol.render(service.protocol_data(t, published_results(t), clock.now()))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "Price history" in text and "Lot 2 «Муфты»" in text


def test_members_see_the_history_as_their_roles_allow(app, client, db):
    """A customer's specialist not in charge of the tender sees it as the public does; a
    supplier's specialist not in charge of the bid sees no own line; managers see theirs."""
    from tests.e2e.test_roles import member

    tender, a, b = _auction(app, client)
    outsider = member(app, tender["customer"], ["specialist"])
    observer = member(app, tender["customer"], ["observer"])
    assert _history(client, tender["id"], outsider.headers, position="1")["level"] == "none"
    assert _history(client, tender["id"], observer.headers, position="1")["level"] == "everyone"
    colleague = member(app, b.who, ["specialist"])
    assert _history(client, tender["id"], colleague.headers, position="1")["level"] == "none"
