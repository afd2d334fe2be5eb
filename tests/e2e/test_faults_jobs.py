"""Faults of the job machinery, with real processes and a redis-server of the test's own:
the scheduler and worker ride out a Redis stop, a worker killed mid-evaluation loses
nothing, and a paused Redis does not hold a write response (docs/operations.md)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import threading
import time

import pytest
import requests
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from core import clock, jobs
from core.events import DomainEvent
from core.extensions import db
from core.models import SweeperRun
from core.transaction import commit
from results.models import ResultSet
from tenders import closing
from tenders.models import Tender
from tests.e2e.api_helpers import caller, draft_body
from tests.e2e.bidding_helpers import bidder, offer, submit, tender_in_window
from tests.e2e.conftest import _env, serve_param
from tests.e2e.faults_helpers import JobProcess, OwnRedis, wait_for
from tests.factories import PASSWORD

pytestmark = [pytest.mark.live, pytest.mark.production_layout]


@pytest.fixture()
def own_redis(workdir):
    """A private redis-server (stopped, paused, restarted by the test)."""
    server = OwnRedis(workdir)
    server.start()
    yield server
    if server.proc and server.proc.poll() is None:
        server.resume()
    server.stop()


@pytest.fixture()
def redis_url(own_redis):
    """The web process of these tests (the `server` fixture) uses the private Redis too."""
    return own_redis.url


@pytest.fixture()
def server(request, app, database_url, redis_url, smtp_server, workdir):
    """A web process of each test's own, on that test's private Redis."""
    yield from serve_param(request, database_url, redis_url, smtp_server, workdir)


# A write's after-commit hooks give up on a frozen Redis after REDIS_TIMEOUT (1 s), then skip
# it: a response comes well within this bound. Before, every hook waited for redis-py's
# default socket timeout (5 s; a live push tried twice), so no write could meet it.
HOOK_BOUND = 4.5

# bench/faults.py runs these tests with production figures: the sweepers at their own
# intervals (FAULTS_SWEEPERS_INTERVAL=0) and a Redis outage of FAULTS_OUTAGE_SECONDS.
SWEEPERS_INTERVAL = os.environ.get("FAULTS_SWEEPERS_INTERVAL", "3")
OUTAGE_SECONDS = float(os.environ.get("FAULTS_OUTAGE_SECONDS", "0"))


def _job_env(database_url, own_redis, smtp_server, workdir, **extra) -> dict:
    env = _env(database_url, own_redis.url, smtp_server.port, workdir, "threading", "faults")
    if SWEEPERS_INTERVAL != "0":
        env["SWEEPERS_INTERVAL"] = SWEEPERS_INTERVAL
        # A paused Redis fails the scheduler's calls after 1 s instead of 5 s (each retried by
        # redis-py): the same outage and recovery, some 15 s sooner.
        env["SCHEDULER_REDIS_TIMEOUT"] = "1"
    return {**env, **extra}


def _read(app, fn):
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


def _status(app, tender_id: int) -> str:
    return _read(
        app,
        lambda: db.session.execute(select(Tender.status).where(Tender.id == tender_id)).scalar(),
    )


def _evaluated(app, tender_id: int) -> bool:
    return _read(app, lambda: db.session.get(ResultSet, tender_id) is not None)


def _last_success(app, name: str):
    return _read(
        app,
        lambda: db.session.execute(
            select(SweeperRun.last_success_at).where(SweeperRun.name == name)
        ).scalar(),
    )


def _overdue_tender(app, client, customer=None) -> int:
    """A published tender with one bid whose deadline has just passed (by the real clock:
    the job processes have no test clock)."""
    tender = tender_in_window(app, client, minutes=60, customer=customer)
    resp = submit(client, bidder(app, client), tender["id"], offer({"1": "90.00"}))
    assert resp.status_code == 201, resp.get_json()
    with app.app_context():
        row = db.session.get(Tender, tender["id"])
        row.bid_deadline = clock.now() - dt.timedelta(seconds=1)
        commit()
        db.session.remove()
    return tender["id"]


@pytest.mark.parametrize("fault", ["stop", "pause"])
def test_scheduler_and_worker_ride_out_a_redis_outage(
    app, database_url, smtp_server, workdir, own_redis, fault
):
    """Stopped (its data lost) or paused (a hung Redis: connections open, no answer)."""
    client = app.test_client()  # commits for real: the job processes must see the rows
    env = _job_env(database_url, own_redis, smtp_server, workdir)
    scheduler = JobProcess("scheduler", env, workdir / "fault-scheduler.log")
    worker = JobProcess("worker", env, workdir / "fault-worker.log")
    try:
        processes = (scheduler, worker)
        wait_for(
            lambda: _last_success(app, "tenders.jobs.close_overdue"),
            120,
            "a first sweep",
            logs=processes,
        )
        own_redis.stop() if fault == "stop" else own_redis.pause()
        stopped = time.monotonic()
        tender_id = _overdue_tender(app, client)  # due while Redis is down
        wait_for(
            lambda: "scheduler: Redis" in scheduler.output(),
            120,
            "the scheduler to see the outage",
            logs=processes,
        )
        assert scheduler.alive() and worker.alive(), scheduler.output() + worker.output()
        assert _status(app, tender_id) == "published"  # nothing could close it meanwhile

        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
        # Stopped, it comes back empty: every job queued before is gone.
        own_redis.start() if fault == "stop" else own_redis.resume()
        back = time.monotonic()
        wait_for(lambda: _status(app, tender_id) == "closed", 120, "the close", logs=processes)
        closed = time.monotonic()
        wait_for(lambda: _evaluated(app, tender_id), 60, "its evaluation", logs=processes)
        print(
            f"FIGURE redis {fault} {back - stopped:.1f} s; overdue tender closed "
            f"{closed - back:.1f} s and evaluated {time.monotonic() - back:.1f} s after it returned"
        )
        assert scheduler.alive() and worker.alive()  # nobody restarted them by hand
        assert "starting again" in scheduler.output()
    finally:
        scheduler.stop()
        worker.stop()
    assert scheduler.proc.returncode == 0, scheduler.output()  # SIGTERM: a clean exit


def _browser_login(base: str, email: str) -> requests.Session:
    s = requests.Session()
    page = s.get(base + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = s.post(
        base + "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 302, resp.text
    return s


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_worker_killed_mid_evaluation_loses_nothing(
    app, server, database_url, smtp_server, workdir, own_redis
):
    client = app.test_client()
    base, _ = server
    gates = workdir / "gates"
    gates.mkdir(exist_ok=True)
    customer = caller(app)
    tender_id = _overdue_tender(app, client, customer)
    env = _job_env(database_url, own_redis, smtp_server, workdir, FAULT_GATE_DIR=str(gates))
    worker = JobProcess("worker", env, workdir / "fault-worker-killed.log")
    try:
        Queue("closing", connection=own_redis.client()).enqueue(
            jobs.run_job, closing.CLOSE_JOB, tender_id
        )
        # The close is committed, the evaluation computed but not yet committed: kill it.
        wait_for(lambda: (gates / "at-evaluate").exists(), 120, "the evaluation", logs=(worker,))
        horse = int((gates / "at-evaluate").read_text())  # RQ runs a job in a session of its own
        os.kill(horse, signal.SIGKILL)
        worker.kill()
    finally:
        worker.stop()
    assert _status(app, tender_id) == "closed" and not _evaluated(app, tender_id)

    api = requests.Session()
    api.headers.update(customer.headers)
    url = f"{base}/api/v1/tenders/{tender_id}/evaluation"
    pending = api.get(url, timeout=10)
    assert pending.status_code == 409, pending.text
    assert pending.json()["error"]["code"] == "evaluation_pending"
    page = _browser_login(base, customer.email).get(
        f"{base}/cabinet/tenders/{tender_id}/review", timeout=10
    )
    assert page.status_code == 200 and "being evaluated" in page.text

    (gates / "go-evaluate").write_text("")
    scheduler = JobProcess("scheduler", env, workdir / "fault-scheduler-2.log")
    worker = JobProcess("worker", env, workdir / "fault-worker-2.log")
    try:
        wait_for(
            lambda: _evaluated(app, tender_id),
            120,
            "the sweeper to evaluate it again",
            logs=(scheduler, worker),
        )
    finally:
        scheduler.stop()
        worker.stop()
    done = api.get(url, timeout=10)
    assert done.status_code == 200 and done.json()["awarded"] == 1


def _draft(app, client, customer) -> int:
    body = draft_body()
    resp = client.post("/api/v1/tenders", json=body, headers=customer.headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_a_paused_redis_does_not_hold_a_write(app, server, own_redis):
    client = app.test_client()
    base, _ = server
    customer = caller(app)
    drafts = [_draft(app, client, customer) for _ in range(2)]
    api = requests.Session()
    api.headers.update(customer.headers)
    assert api.get(f"{base}/api/v1/tenders/{drafts[0]}", timeout=10).status_code == 200

    own_redis.pause()
    try:
        started = time.monotonic()
        answers = [
            api.post(f"{base}/api/v1/tenders/{t}/publish", timeout=HOOK_BOUND) for t in drafts
        ]
        took = time.monotonic() - started
        # Both answered while Redis was still frozen: the hooks gave up, the data stayed.
        assert own_redis.proc.poll() is None
    finally:
        own_redis.resume()
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    print(f"FIGURE two publications with Redis paused took {took:.2f} s")

    # The close jobs never reached Redis; the publications are stored with their events.
    scheduled = ScheduledJobRegistry("closing", connection=own_redis.client()).get_job_ids()
    assert not any(job_id.startswith(f"tender-close-{drafts[0]}-") for job_id in scheduled)
    for tender_id in drafts:
        assert _status(app, tender_id) == "published"
        assert _read(
            app,
            lambda t=tender_id: db.session.execute(
                select(DomainEvent.id).where(
                    DomainEvent.tender_id == t, DomainEvent.kind == "tender.published"
                )
            ).scalar(),
        )
    # What the lost enqueues were for, the sweepers do: the relay delivers the events, the
    # sweeper closes the tenders once their deadline has passed.
    clock.advance(dt.timedelta(days=11))
    try:
        with app.app_context():
            assert jobs.run_job("notifications.jobs.relay_events") >= 2
            assert jobs.run_job("tenders.jobs.close_overdue") == 2
    finally:
        clock.reset()  # no `db` fixture here to reset it for the next test
    assert {_status(app, t) for t in drafts} == {"unsuccessful"}


@pytest.mark.parametrize("server", ["eventlet"], indirect=True)
def test_a_disqualification_re_evaluates_in_the_eventlet_web_process(app, server):
    """The web process recomputes the ranking itself here (PostgreSQL stores it with COPY,
    which psycopg2 refuses under psycogreen unless the driver waits itself)."""
    base, _ = server
    client = app.test_client()
    customer = caller(app)
    tender_id = _overdue_tender(app, client, customer)
    with app.app_context():
        assert jobs.run_job("tenders.jobs.close_overdue") == 1  # closes and evaluates
    api = requests.Session()
    api.headers.update(customer.headers)
    resp = api.post(
        f"{base}/api/v1/tenders/{tender_id}/disqualifications",
        json={"participant": 1, "lot": None, "reason": "Нет сертификата"},
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    evaluation = api.get(f"{base}/api/v1/tenders/{tender_id}/evaluation", timeout=30).json()
    assert evaluation["awarded"] == 0 and evaluation["unsuccessful"] == 1


def test_a_live_push_from_a_worker_gives_up_on_a_paused_redis(own_redis, monkeypatch):
    from core import live

    monkeypatch.setattr(live, "_external", None)  # restored after the test
    live.use_external_emitter(own_redis.url, "faults", timeout=1.0, pause=60.0)
    pushed = threading.Event()

    def push_twice():
        live.emit_now("tender_closed", {"tender_id": 1}, "tender:1")
        live.emit_now("tender_closed", {"tender_id": 1}, "tender:1")  # skipped: the breaker
        pushed.set()

    own_redis.pause()
    try:
        threading.Thread(target=push_twice, daemon=True).start()
        assert pushed.wait(HOOK_BOUND)  # both returned while Redis was still frozen
        assert own_redis.proc.poll() is None
    finally:
        own_redis.resume()
