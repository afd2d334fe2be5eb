"""Competitors' parameters in the offers table: shown exactly where their prices are
(anonymous while bidding), scored after the close, named once results are published, and
pushed live like a price change (issue 22)."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from tests.e2e.api_helpers import published
from tests.e2e.bidding_helpers import bid, bidder
from tests.e2e.helpers import login
from tests.e2e.results_helpers import approve_decision


def _criteria(tender, warranty, deferral="нет"):
    ids = {c["name"]: c["id"] for c in tender["lots"][0]["criteria"]}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": warranty},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": deferral},
    ]


def _offers(client, tender, headers=None):
    resp = client.get(f"/api/v1/tenders/{tender['id']}/offers", headers=headers or {})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _two_bids(app, client, visibility, **overrides):
    tender = published(app, visibility=visibility, **overrides)
    a, b = bidder(app, client, name="OOO Alfa"), bidder(app, client, name="OOO Beta")
    bid(app, a, tender["id"], {"1": "90.00", "3": "500"}, _criteria(tender, "24"))
    bid(app, b, tender["id"], {"1": "85.00", "3": "450"}, _criteria(tender, "36", "30 дней"))
    return tender, a, b


def test_values_beside_the_prices_anonymous_while_bidding(app, client, db):
    tender, a, b = _two_bids(app, client, "open_after_own_bid")
    view = _offers(client, tender, a.headers)
    assert [c["label"] for c in view["columns"]] == ["Participant 1", "Participant 2"]
    (block,) = view["criteria"]  # lot 2 has no criteria
    assert block["lot"] == 1 and block["scores"] is None and block["score_kind"] is None
    rows = {r["name"]: r for r in block["rows"]}
    assert rows["Гарантия"]["values"] == ["24", "36"] and rows["Гарантия"]["required"] is True
    assert rows["Отсрочка платежа"]["values"] == ["нет", "30 дней"]
    assert rows["Гарантия"]["points"] is None
    assert "OOO" not in str(view)
    # The customer sees them during bidding too, anonymous.
    customer_view = _offers(client, tender, tender["customer"].headers)
    assert customer_view["criteria"][0]["rows"][0]["values"] == ["24", "36"]
    assert "OOO" not in str(customer_view)


@pytest.mark.parametrize("visibility", ["rank_only", "sealed"])
def test_no_values_where_no_prices_are_shown(app, client, db, visibility):
    tender, a, _b = _two_bids(app, client, visibility)
    assert "criteria" not in _offers(client, tender, a.headers)
    assert "36" not in str(_offers(client, tender, a.headers))


def test_nothing_before_ones_own_bid_nor_for_the_public(app, client, db):
    tender, _a, _b = _two_bids(app, client, "open_after_own_bid")
    late = bidder(app, client)
    for headers in (late.headers, {}):
        view = _offers(client, tender, headers)
        assert view["level"] == "count" and "criteria" not in view


def test_scores_after_the_close_then_names_with_the_results(app, client, db):
    tender, a, b = _two_bids(app, client, "open_after_own_bid", deadline=dt.timedelta(hours=2))
    clock.freeze(clock.now() + dt.timedelta(hours=2, seconds=1))
    from tenders import jobs

    with app.app_context():
        assert jobs.close_at_deadline(tender["id"]) == "closed"
    view = _offers(client, tender, a.headers)
    assert view["level"] == "offers"  # anonymous until the results are published
    block = view["criteria"][0]
    assert block["score_kind"] == "criteria_points"
    rows = {r["name"]: r for r in block["rows"]}
    # Warranty 20 %: 24/36 and 36/36 of it; deferral 10 %: option 0 and 1.
    assert [round(float(p), 4) for p in rows["Гарантия"]["points"]] == [13.3333, 20.0]
    assert [float(p) for p in rows["Отсрочка платежа"]["points"]] == [0.0, 10.0]
    assert [round(float(s), 4) for s in block["scores"]] == [13.3333, 30.0]
    assert "OOO" not in str(view)
    clock.advance(dt.timedelta(hours=1))
    approve_decision(client, tender["id"], tender["customer"].headers)
    resp = client.post(
        f"/api/v1/tenders/{tender['id']}/results/publish", headers=tender["customer"].headers
    )
    assert resp.status_code == 200, resp.get_json()
    view = _offers(client, tender, a.headers)
    assert view["level"] == "results"
    assert [c["label"] for c in view["columns"]] == ["OOO Alfa", "OOO Beta"]
    assert view["criteria"][0]["rows"][0]["values"] == ["24", "36"]
    assert view["criteria"][0]["scores"] is not None
    clock.reset()


def test_the_notice_shows_the_parameters(app, client, db):
    tender, a, _b = _two_bids(app, client, "open_after_own_bid")
    login(client, a.who.email)
    html = client.get(f"/tenders/{tender['number']}").get_data(as_text=True)
    assert "criteria-offers" in html and "30 дней" in html and "Lot 1: parameters" in html
    fragment = client.get(f"/tenders/{tender['number']}/offers").get_data(as_text=True)
    assert "30 дней" in fragment  # the live refresh renders them too


def test_a_criterion_only_change_is_pushed_to_the_offers_watchers(app, client, db, monkeypatch):
    from bids import offers

    pushed: list = []
    monkeypatch.setattr(offers, "push_changes", lambda *args: pushed.append(args))
    tender, a, _b = _two_bids(app, client, "open_after_own_bid")
    pushed.clear()
    bid(app, a, tender["id"], {"1": "90.00", "3": "500"}, _criteria(tender, "48"))
    assert len(pushed) == 1 and pushed[0][0] == tender["id"]
    assert pushed[0][3] == {}  # no price changed: the watchers refetch the table
    rows = {r["name"]: r for r in _offers(client, tender, a.headers)["criteria"][0]["rows"]}
    assert rows["Гарантия"]["values"] == ["48", "36"]
