"""What production runs, end to end over HTTP: serve.py with eventlet (psycopg2 made green) on
the run's database, PostgreSQL in the PostgreSQL run. Every write that stores thousands of rows
at once (COPY on PostgreSQL) goes through it: bids of 1,500 lines by JSON and by CSV, the close
and evaluation by the in-process jobs, a disqualification, publication and a correction."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

import pytest
import requests

from core import clock
from tests.e2e.api_helpers import caller, draft_body
from tests.e2e.bidding_helpers import Bidder, bidder, offer, sign

pytestmark = pytest.mark.live

LINES = 1500  # past core.bulk.COPY_FROM: the COPY path
EVENTLET = {"mode": "eventlet"}
EVENTLET_INPROCESS_JOBS = {"mode": "eventlet", "JOBS_MODE": "inprocess"}


def _api(base: str, headers: dict) -> requests.Session:
    session = requests.Session()
    session.headers.update(headers)
    session.base = base  # type: ignore[attr-defined]
    return session


def _call(api: requests.Session, method: str, path: str, expect: int, **kwargs) -> dict:
    resp = api.request(method, api.base + path, timeout=120, **kwargs)  # type: ignore[attr-defined]
    assert resp.status_code == expect, f"{method} {path}: {resp.status_code} {resp.text[:800]}"
    return resp.json() if resp.content else {}


def _publish(api: requests.Session, deadline: dt.datetime, **policy) -> dict:
    """A published tender of one per-position lot of LINES positions, made through the server."""
    body = draft_body(bid_deadline=deadline.isoformat(), questions_until=None, **policy)
    body["lots"] = [
        {
            "title": "Подшипники",
            "award_mode": "per_position",
            "positions": [
                {"number": str(n), "name": f"Подшипник {n}", "quantity": "4", "unit_code": "796"}
                for n in range(1, LINES + 1)
            ],
        }
    ]
    tender = _call(api, "POST", "/api/v1/tenders", 201, json=body)
    return _call(api, "POST", f"/api/v1/tenders/{tender['id']}/publish", 200)


def _bid_by_json(base: str, b: Bidder, tid: int, prices: dict[str, str]) -> dict:
    api = _api(base, b.headers)
    body = offer(prices)
    prepared = _call(api, "POST", f"/api/v1/tenders/{tid}/bid/prepare", 200, json=body)
    signed = {**body, "key_id": b.key_id, "signature": sign(b.private_key, prepared["payload"])}
    return _call(api, "POST", f"/api/v1/tenders/{tid}/bid/revisions", 201, json=signed)


def _bid_by_csv(base: str, b: Bidder, tid: int, price) -> dict:
    """What a supplier does: download the template, fill every price, upload, preview, sign."""
    api = _api(base, b.headers)
    resp = api.get(f"{base}/api/v1/tenders/{tid}/bid/csv/template", timeout=60)
    assert resp.status_code == 200, resp.text[:500]
    rows = list(
        csv.reader(io.StringIO(resp.content.decode("utf-8-sig"), newline=""), delimiter=";")
    )
    for row in rows[1:]:
        row[-2] = price(int(row[2]))
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    upload = _call(
        api,
        "POST",
        f"/api/v1/tenders/{tid}/bid/csv",
        201,
        params={"filename": "prices.csv"},
        data=out.getvalue().encode("utf-8-sig"),
        headers={"Content-Type": "text/csv"},
    )
    assert upload["positions"] == LINES
    preview = _call(api, "GET", f"/api/v1/tenders/{tid}/bid/csv/{upload['id']}", 200)
    assert preview["counts"]["new"] + preview["counts"].get("changed", 0) >= 1
    path = f"/api/v1/tenders/{tid}/bid/csv/{upload['id']}"
    prepared = _call(api, "POST", path + "/prepare", 200, json={})
    signature = sign(b.private_key, prepared["payload"])
    return _call(
        api, "POST", path + "/submit", 201, json={"key_id": b.key_id, "signature": signature}
    )


@pytest.mark.parametrize("server", [EVENTLET], indirect=True)
def test_bids_of_thousands_of_lines_through_a_green_web_process(app, server):
    base, _ = server
    client = app.test_client()
    customer = _api(base, caller(app).headers)
    tender = _publish(customer, clock.now() + dt.timedelta(days=10))
    tid = tender["id"]
    a, b = bidder(app, client), bidder(app, client)

    first = _bid_by_json(base, a, tid, {str(n): f"{100 + n}.00" for n in range(1, LINES + 1)})
    assert first["number"] == 1
    revised = _bid_by_json(base, a, tid, {str(n): f"{99 + n}.50" for n in range(1, LINES + 1)})
    assert revised["number"] == 2
    by_csv = _bid_by_csv(base, b, tid, lambda n: f"{90 + n},25")
    assert by_csv["number"] == 1
    assert by_csv["total"] == f"{sum(4 * (90 + n) + 1 for n in range(1, LINES + 1))}.00"

    mine = _call(_api(base, b.headers), "GET", f"/api/v1/tenders/{tid}/bid", 200)
    assert len(mine["revisions"]) == 1
    assert _stored_lines(app, tid) == {1: LINES, 2: LINES}  # per revision number: all lines


def _stored_lines(app, tid: int) -> dict[int, int]:
    from sqlalchemy import func, select

    from bids.models import Bid, BidLine, BidRevision
    from core.extensions import db

    with app.app_context():
        rows = db.session.execute(
            select(BidRevision.number, func.count(BidLine.id))
            .join(Bid, Bid.id == BidRevision.bid_id)
            .join(BidLine, BidLine.revision_id == BidRevision.id)
            .where(Bid.tender_id == tid)
            .group_by(BidRevision.id, BidRevision.number)
        ).all()
        db.session.remove()
    counts: dict[int, int] = {}
    for number, count in rows:
        assert counts.get(number, count) == count
        counts[number] = count
    return counts


def _wait_for(what: str, check, timeout: float = 60):
    """Poll until check() gives a true value (the server's jobs run on their own time)."""
    give_up = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < give_up, f"timed out waiting for {what}"
        time.sleep(0.3)


@pytest.mark.parametrize("server", [EVENTLET_INPROCESS_JOBS], indirect=True)
def test_close_evaluation_disqualification_and_correction_in_a_green_web_process(app, server):
    """The embedded layout (jobs in the web process) closes and evaluates at the deadline;
    the customer disqualifies, publishes and corrects the results, each through the server."""
    base, _ = server
    client = app.test_client()
    customer = _api(base, caller(app).headers)
    a, b = bidder(app, client), bidder(app, client)
    # long enough to publish and bid on a loaded machine; no extension, so it closes then
    deadline = clock.now() + dt.timedelta(seconds=15)
    tid = _publish(customer, deadline, max_extensions=0)["id"]
    _bid_by_json(base, a, tid, {str(n): f"{100 + n}.00" for n in range(1, LINES + 1)})
    _bid_by_csv(base, b, tid, lambda n: f"{100 + n - (n % 2)},00")  # cheaper on odd positions

    def evaluated():
        resp = customer.get(f"{base}/api/v1/tenders/{tid}/evaluation", timeout=60)
        return resp.json() if resp.status_code == 200 else None

    def closed():
        return _call(customer, "GET", f"/api/v1/tenders/{tid}", 200)["status"] == "closed"

    _wait_for("the close", closed, timeout=90)
    evaluation = _wait_for("the evaluation", evaluated)
    assert evaluation["total"] == LINES and evaluation["awarded"] == LINES
    odd = next(r for r in evaluation["rows"] if r["position"] == "1")
    ranked = sorted((o["rank"], o["unit_price"]) for o in odd["offers"])
    assert ranked == [(1, "100.00"), (2, "101.00")]

    numbers = {
        who.key_id: _call(_api(base, who.headers), "GET", f"/api/v1/tenders/{tid}/bid", 200)[
            "participant_number"
        ]
        for who in (a, b)
    }
    dq = {"participant": numbers[b.key_id], "lot": 1, "reason": "Сертификат соответствия отозван"}
    _call(customer, "POST", f"/api/v1/tenders/{tid}/disqualifications", 201, json=dq)
    published = _call(customer, "POST", f"/api/v1/tenders/{tid}/results/publish", 200)
    assert published["status"] == "results_published"
    results = _call(customer, "GET", f"/api/v1/tenders/{tid}/results", 200)
    assert _winner(results, "1") == numbers[a.key_id]  # b's cheaper offer is out

    correction = {
        "reason": "Жалоба участника: участник 1 представил недостоверные сведения",
        "changes": [
            {
                "action": "disqualify",
                "participant": numbers[a.key_id],
                "lot": 1,
                "reason": "Сведения",
            }
        ],
    }
    path = f"/api/v1/tenders/{tid}/results/corrections"
    corrected = _call(customer, "POST", path, 201, json=correction)
    assert corrected["version"]["number"] == 2
    results = _call(customer, "GET", f"/api/v1/tenders/{tid}/results", 200)
    assert results["version"] == 2 and _winner(results, "1") is None  # nobody admissible left


def _winner(detail: dict, position: str):
    award = next(a for a in detail["awards"] if a["position"] == position)
    winner = next((o for o in award["offers"] if o["rank"] == 1), None)
    return winner["participant"] if winner else None


@pytest.mark.parametrize("server", [EVENTLET_INPROCESS_JOBS], indirect=True)
def test_mail_links_point_where_the_process_serves(app, server, smtp_server):
    """Without BASE_URL (make run PORT=5401), links follow the address serve.py listens on;
    a forged Host header changes nothing (a reset link must never go to another host)."""
    base, env = server
    assert "BASE_URL" not in env
    smtp_server.clear()
    body = {
        "org_name": "ООО Ромашка",
        "inn": "5012123454",
        "kpp": "501201001",
        "ogrn": "1025000123422",
        "region_code": "50",
        "roles": ["supplier"],
        "name": "Роман",
        "email": "roman@romashka.example",
        "password": "Correct-horse-42-staple",
    }
    resp = requests.post(
        f"{base}/api/v1/registrations", json=body, headers={"Host": "evil.example"}, timeout=30
    )
    assert resp.status_code == 202, resp.text
    with smtp_server.cond:
        assert smtp_server.cond.wait_for(lambda: smtp_server.to(body["email"]), timeout=30)
    link = smtp_server.link(body["email"], "/confirm/")
    assert link.startswith(base + "/confirm/"), link
    assert requests.get(link, timeout=30, allow_redirects=False).status_code == 302
