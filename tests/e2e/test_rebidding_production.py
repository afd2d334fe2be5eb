"""The re-bidding round in the production layout: two serve.py processes with eventlet
(psycopg2 made green on PostgreSQL) and RQ on Redis, a `flask jobs worker` process (with RQ's
scheduler) running the close of the tender and of the round at their deadlines. Suppliers on
both web processes race improved offers at the round's deadline: every acknowledged offer is
stored and accepted before it, every other one is refused with 409 rebidding_closed, and the
round is closed and re-evaluated by the job."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import requests
from sqlalchemy import select

from core import clock
from core.extensions import db
from tests.e2e.api_helpers import caller, draft_body
from tests.e2e.bidding_helpers import bidder, offer, sign
from tests.e2e.faults_helpers import JobProcess

pytestmark = [pytest.mark.live, pytest.mark.production_layout]

# RQ jobs on the run's Redis; a round's minimum lead shortened (sandbox setting) so that the
# round ends within the test; the sweepers every few seconds.
PRODUCTION = {"mode": "eventlet", "REBIDDING_MIN_LEAD_SECONDS": "4", "SWEEPERS_INTERVAL": "3"}


def _call(api, method: str, path: str, expect: int, **kwargs) -> dict:
    resp = api.request(method, api.base + path, timeout=60, **kwargs)
    assert resp.status_code == expect, f"{method} {path}: {resp.status_code} {resp.text[:800]}"
    return resp.json() if resp.content else {}


def _api(base: str, headers: dict) -> requests.Session:
    session = requests.Session()
    session.headers.update(headers)
    session.base = base  # type: ignore[attr-defined]
    return session


def _wait_for(what: str, check, timeout: float = 90):
    give_up = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < give_up, f"timed out waiting for {what}"
        time.sleep(0.3)


def _improve(api, b, tid: int, prices: dict[str, str]) -> requests.Response:
    body = offer(prices)
    del body["criteria"]
    prepared = api.post(f"{api.base}/api/v1/tenders/{tid}/rebidding/offer/prepare", json=body)
    if prepared.status_code != 200:
        return prepared
    signed = {
        **body,
        "key_id": b.key_id,
        "signature": sign(b.private_key, prepared.json()["payload"]),
    }
    return api.post(f"{api.base}/api/v1/tenders/{tid}/rebidding/offer", json=signed, timeout=60)


@pytest.mark.parametrize("server", [PRODUCTION], indirect=True)
def test_a_round_closed_by_the_worker_under_a_race_at_its_deadline(
    app, server, second_server, workdir
):
    from results.rebidding.models import RebiddingOffer, RebiddingRound

    base, env = server
    worker = JobProcess("worker", env, workdir / "rebidding-worker.log")
    try:
        client = app.test_client()
        customer = _api(base, caller(app).headers)
        bidders = [bidder(app, client) for _ in range(3)]
        body = draft_body(
            bid_deadline=(clock.now() + dt.timedelta(seconds=12)).isoformat(),
            questions_until=None,
            max_extensions=0,  # no extension: the round ends exactly at its deadline
        )
        body["lots"] = [
            {
                "title": "Кабель",
                "positions": [
                    {"number": "1", "name": "Кабель", "quantity": "10", "unit_code": "006"},
                    {"number": "2", "name": "Провод", "quantity": "5", "unit_code": "006"},
                ],
            }
        ]
        tid = _call(customer, "POST", "/api/v1/tenders", 201, json=body)["id"]
        _call(customer, "POST", f"/api/v1/tenders/{tid}/publish", 200)
        # the suppliers are served by two web processes (one database, one Redis)
        apis = [_api(second_server if i % 2 else base, b.headers) for i, b in enumerate(bidders)]
        for i, (api, b) in enumerate(zip(apis, bidders, strict=True)):
            o = offer({"1": f"{100 + i}.00", "2": f"{50 + i}.00"})
            prepared = _call(api, "POST", f"/api/v1/tenders/{tid}/bid/prepare", 200, json=o)
            signed = {
                **o,
                "key_id": b.key_id,
                "signature": sign(b.private_key, prepared["payload"]),
            }
            _call(api, "POST", f"/api/v1/tenders/{tid}/bid/revisions", 201, json=signed)

        def evaluated():
            resp = customer.get(f"{base}/api/v1/tenders/{tid}/evaluation", timeout=30)
            return resp.json() if resp.status_code == 200 else None

        _wait_for("the close and evaluation by the worker", evaluated)
        deadline = clock.now() + dt.timedelta(seconds=8)
        announced = _call(
            customer,
            "POST",
            f"/api/v1/tenders/{tid}/rebidding/rounds",
            201,
            json={"lots": [1], "deadline": deadline.isoformat()},
        )
        assert [p["participant"] for p in announced["invited"]] == [1, 2, 3]
        round_deadline = dt.datetime.fromisoformat(announced["deadline"])

        # Each supplier lowers its price step by step until the round refuses it.
        acknowledged: list[tuple[int, str]] = []
        refused: list[int] = []
        lock = threading.Lock()

        def race(i: int) -> None:
            price = 99_00 - i
            while True:
                resp = _improve(apis[i], bidders[i], tid, {"1": f"{price / 100:.2f}"})
                with lock:
                    if resp.status_code == 201:
                        acknowledged.append((i, resp.json()["accepted_at"]))
                    else:
                        assert resp.status_code == 409, resp.text
                        assert resp.json()["error"]["code"] == "rebidding_closed"
                        refused.append(i)
                        return
                price -= 3

        threads = [threading.Thread(target=race, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert sorted(refused) == [0, 1, 2] and acknowledged

        def closed():
            rounds = _call(customer, "GET", f"/api/v1/tenders/{tid}/rebidding/rounds", 200)
            return rounds["rounds"][0] if rounds["rounds"][0]["status"] == "closed" else None

        shown = _wait_for("the round's close by the worker", closed)
        assert dt.datetime.fromisoformat(shown["closed_at"]) >= round_deadline
        assert shown["offers"] == len(acknowledged)  # no acknowledged offer lost
        with app.app_context():
            round_ = db.session.execute(
                select(RebiddingRound).where(RebiddingRound.tender_id == tid)
            ).scalar_one()
            stored = (
                db.session.execute(
                    select(RebiddingOffer.accepted_at).where(RebiddingOffer.round_id == round_.id)
                )
                .scalars()
                .all()
            )
            assert round_.deadline == round_deadline and round_.extensions_count == 0
            assert len(stored) == len(acknowledged) and max(stored) < round_.deadline
            db.session.remove()
        final = evaluated()
        row = next(r for r in final["rows"] if r["position"] == "1")
        # the evaluation reran on the final offers: the winner holds a price from the round
        assert float(next(o["unit_price"] for o in row["offers"] if o["rank"] == 1)) < 99.0
        late = _improve(apis[0], bidders[0], tid, {"1": "1.00"})
        assert late.status_code == 409 and late.json()["error"]["code"] == "rebidding_closed"
    finally:
        worker.stop()
