"""Issue 19.4 and 19.11: the notice's offers once results are published (names as the
results allow, disqualified offers greyed with the reason, winners highlighted, each
participant's own price and reason) and the bid form's best price and own rank per position,
each as the tender's visibility allows; every denial tested before and after publication."""

from __future__ import annotations

import pytest

from tests.e2e.api_helpers import caller, draft_body
from tests.e2e.bidding_helpers import bidder, offer, submit
from tests.e2e.helpers import login
from tests.e2e.results_helpers import close_and_publish

REASON = "No certificate of conformity (section 4.2)"


def _criteria(tender):
    ids = {c["name"]: c["id"] for c in tender["lots"][0]["criteria"]}
    return [
        {"lot": 1, "criterion": ids["Гарантия"], "value": "24"},
        {"lot": 1, "criterion": ids["Отсрочка платежа"], "value": "нет"},
    ]


def _auction(app, client, visibility: str) -> dict:
    """Alfa offers 90.00 and Beta 85.00 on position 1; Outsider has no bid."""
    customer = caller(app, name="PAO Customer")
    tender = client.post(
        "/api/v1/tenders", json=draft_body(visibility=visibility), headers=customer.headers
    ).get_json()
    client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=customer.headers)
    tender = client.get(f"/api/v1/tenders/{tender['id']}").get_json()
    alfa = bidder(app, client, name="OOO Alfa")
    beta = bidder(app, client, name="OOO Beta")
    outsider = bidder(app, client, name="OOO Outsider")
    for who, price in ((alfa, "90.00"), (beta, "85.00")):
        resp = submit(client, who, tender["id"], offer({"1": price}, _criteria(tender)))
        assert resp.status_code == 201, resp.get_json()
    return {"tender": tender, "customer": customer, "alfa": alfa, "beta": beta, "out": outsider}


def _get(client, path: str, headers=None) -> dict:
    resp = client.get(path, headers=headers or {})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _standing(client, auction, who: str) -> dict:
    tid = auction["tender"]["id"]
    return _get(client, f"/api/v1/tenders/{tid}/bid/standing?positions=1,2", auction[who].headers)


def _offers(client, auction, who: str | None) -> dict:
    headers = auction[who].headers if who else None
    return _get(client, f"/api/v1/tenders/{auction['tender']['id']}/offers", headers)


VISIBLE = {"open_after_own_bid": "offers", "rank_only": "rank", "sealed": "count"}


@pytest.mark.parametrize("visibility", list(VISIBLE))
def test_standing_and_published_offers_per_mode(app, client, db, visibility):
    auction = _auction(app, client, visibility)
    tid, number = auction["tender"]["id"], auction["tender"]["number"]

    # -- while bidding: the bid form's best price and own rank, as the mode allows --------
    view = _standing(client, auction, "alfa")
    assert view["level"] == VISIBLE[visibility] and view["participants"] == 2
    if visibility == "sealed":
        assert view["positions"] == [] and "85.00" not in str(view)
    else:
        assert view["positions"] == [
            {"position": "1", "best_price": "85.00", "own_price": "90.00", "own_rank": 2},
            {"position": "2", "best_price": None, "own_price": None, "own_rank": None},
        ]
    beta = _standing(client, auction, "beta")
    if visibility != "sealed":
        assert beta["positions"][0]["own_rank"] == 1
    # No bid of its own: the number of bids only, whatever the mode.
    view = _standing(client, auction, "out")
    assert view == {"level": "count", "participants": 2, "positions": []}
    # Anonymous callers are refused; the page shows the same as the API.
    assert client.get(f"/api/v1/tenders/{tid}/bid/standing?positions=1").status_code == 401
    login(client, auction["alfa"].who.email)
    page = client.get(f"/tenders/{number}/bid").get_data(as_text=True)
    assert f'data-standing="{VISIBLE[visibility]}"' in page
    if visibility == "sealed":
        assert 'id="best-1"' not in page and "85.00" not in page
    else:
        assert 'id="best-1" data-label="Best price">85.00<' in page
        assert 'id="rank-1" data-label="Your rank">2<' in page
    login(client, auction["out"].who.email)
    page = client.get(f"/tenders/{number}/bid").get_data(as_text=True)
    assert 'id="best-1"' not in page and "85.00" not in page and "90.00" not in page
    client.post("/logout")

    # -- closed, results not published: suppliers keep their bidding view ----------------

    published = close_and_publish(app, client, auction, disqualify=("beta", 1, REASON))
    assert published["status"] == "results_published"

    # -- after publication: the results decide -----------------------------------------
    for who in ("alfa", "beta", "customer"):
        view = _offers(client, auction, who)
        assert view["level"] == "results", who
        assert [c["label"] for c in view["columns"]] == ["OOO Alfa", "OOO Beta"]
        row = view["rows"][0]
        alfa, beta = row["cells"]
        assert (alfa["price"], alfa["status"], alfa["rank"]) == ("90.00", "winner", 1)
        assert (beta["price"], beta["status"], beta["rank"]) == ("85.00", "disqualified", None)
        assert beta["reason"] == REASON and alfa["reason"] is None
        # The best price is the winner's, not the disqualified lower one.
        assert row["best_price"] == "90.00" and row["winner"] == 1
    assert [c["own"] for c in _offers(client, auction, "beta")["columns"]] == [False, True]
    # Not a participant, or anonymous: the number of participants, no offer, no name.
    for who in ("out", None):
        view = _offers(client, auction, who)
        assert view["level"] == "count" and view["rows"] == [] and view["columns"] == []
        assert "85.00" not in str(view) and "OOO Beta" not in str(view)
        assert "only the customer and the participants" in view["note"]
    # The bid form has nothing more to say: the notice shows the results.
    assert _standing(client, auction, "alfa") == {
        "level": "results",
        "participants": 2,
        "positions": [],
    }

    # -- the notice page ---------------------------------------------------------------
    login(client, auction["beta"].who.email)
    page = client.get(f"/tenders/{number}").get_data(as_text=True)
    assert "Participant 1" not in page and "OOO Alfa" in page
    assert 'class="num offer-dq" data-participant="2"><s>85.00</s>' in page
    assert f"disqualified: {REASON}" in page
    assert 'class="num best offer-winner" data-participant="1">90.00' in page
    # "Your results": its own price and why it was disqualified.
    own = page[page.index('id="own-results"') :]
    assert "85.00" in own and REASON in own and "90.00" in own
    login(client, auction["out"].who.email)
    page = client.get(f"/tenders/{number}").get_data(as_text=True)
    assert "85.00" not in page and "offer-dq" not in page and "OOO Beta" not in page
    assert "only the customer and the participants see the offers" in page
    # The live refresh of the offers section gives the same as the page.
    login(client, auction["alfa"].who.email)
    fragment = client.get(f"/tenders/{number}/offers").get_data(as_text=True)
    assert "offer-winner" in fragment and REASON in fragment


@pytest.mark.parametrize("visibility", ["rank_only", "sealed"])
def test_closed_before_publication_hides_what_the_mode_hides(app, client, db, visibility):
    """Between the close and the publication a supplier's view stays its bidding view."""
    import datetime as dt

    from core import clock
    from tenders import jobs

    auction = _auction(app, client, visibility)
    deadline = dt.datetime.fromisoformat(auction["tender"]["bid_deadline"])
    clock.freeze(deadline + dt.timedelta(seconds=1))
    with app.app_context():
        assert jobs.close_at_deadline(auction["tender"]["id"]) == "closed"
    view = _offers(client, auction, "alfa")
    assert view["level"] == VISIBLE[visibility] and view["columns"] == []
    assert "OOO Beta" not in str(view)
    assert all(not r.get("prices") for r in view["rows"])
    standing = _standing(client, auction, "alfa")
    if visibility == "sealed":
        assert standing["positions"] == [] and "85.00" not in str(standing)
    else:
        assert set(standing["positions"][0]) == {"position", "best_price", "own_price", "own_rank"}
