"""A lost evaluation: pages say "being evaluated" (never 500) until the sweeper stores it;
the sweepers' last runs in `flask jobs health` and /healthz/jobs."""

from __future__ import annotations

import datetime as dt

from core import clock, jobs
from core.extensions import db as _db
from core.models import SweeperRun
from core.transaction import commit
from results.models import ResultSet
from tenders import closing
from tests.e2e.api_helpers import caller
from tests.e2e.bidding_helpers import bid, bidder, tender_in_window
from tests.e2e.helpers import login


def _closed_without_evaluation(app, client) -> tuple[dict, object]:
    """A tender with one bid, closed, whose evaluation job was lost."""
    customer = caller(app)
    tender = tender_in_window(app, client, minutes=60, customer=customer)
    b = bidder(app, client)
    bid(app, b, tender["id"], {"1": "90.00"})
    clock.advance(dt.timedelta(hours=2))
    with app.app_context():
        assert closing.close(tender["id"]) == "closed"  # closed, but no evaluate() after it
        commit()
    return tender, customer


def test_lost_evaluation_is_pending_until_the_sweeper_runs_it(app, client, db):
    tender, customer = _closed_without_evaluation(app, client)
    url = f"/api/v1/tenders/{tender['id']}/evaluation"

    resp = client.get(url, headers=customer.headers)
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "evaluation_pending"
    publish = client.post(
        f"/api/v1/tenders/{tender['id']}/results/publish", headers=customer.headers
    )
    assert publish.status_code == 409
    assert publish.get_json()["error"]["code"] == "evaluation_pending"
    login(client, customer.email)
    page = client.get(f"/cabinet/tenders/{tender['id']}/review")
    assert page.status_code == 200 and "being evaluated" in page.get_data(as_text=True)
    assert _db.session.get(ResultSet, tender["id"]) is None  # a GET computes nothing

    with app.app_context():
        assert jobs.run_job("results.jobs.evaluate_missing") == 1
        assert jobs.run_job("results.jobs.evaluate_missing") == 0  # found again: done
    resp = client.get(url, headers=customer.headers)
    assert resp.status_code == 200 and resp.get_json()["awarded"] == 1
    page = client.get(f"/cabinet/tenders/{tender['id']}/review")
    assert "being evaluated" not in page.get_data(as_text=True)


def test_health_shows_each_sweepers_last_run(app, client, db):
    runner = app.test_cli_runner()
    never = runner.invoke(args=["jobs", "health"])
    assert never.exit_code == 1 and "never" in never.output
    assert client.get("/healthz/jobs").status_code == 503

    with app.app_context():
        for p in app.extensions["periodic_jobs"]:
            jobs.run_job(p.path)
    ok = runner.invoke(args=["jobs", "health"])
    assert ok.exit_code == 0, ok.output
    assert "OVERDUE" not in ok.output and "results.jobs.evaluate_missing" in ok.output
    body = client.get("/healthz/jobs").get_json()
    assert body["status"] == "ok" and body["overdue"] == []

    clock.advance(dt.timedelta(minutes=4))  # the 60 s sweepers are overdue, not the 15-min one
    late = runner.invoke(args=["jobs", "health"])
    assert late.exit_code == 1
    resp = client.get("/healthz/jobs")
    assert resp.status_code == 503
    assert "tenders.jobs.close_overdue" in resp.get_json()["overdue"]
    assert "notifications.jobs.send_digests" not in resp.get_json()["overdue"]


def test_a_failing_sweeper_is_recorded_and_reraised(app, client, db, monkeypatch):
    from tenders import jobs as tender_jobs

    def broken():
        raise RuntimeError("database said no")

    monkeypatch.setattr(tender_jobs, "close_overdue", broken)
    with app.app_context():
        try:
            jobs.run_job("tenders.jobs.close_overdue")
        except RuntimeError:
            pass
        else:
            raise AssertionError("the sweeper's error must reach RQ")
    row = _db.session.get(SweeperRun, "tenders.jobs.close_overdue")
    assert row.last_failure_at is not None and row.last_success_at is None
    assert row.last_error == "RuntimeError: database said no"
    shown = app.test_cli_runner().invoke(args=["jobs", "health"])
    assert shown.exit_code == 1 and "RuntimeError: database said no" in shown.output
    public = client.get("/healthz/jobs").get_json()
    assert "database said no" not in str(public)  # the error text is for operators only
