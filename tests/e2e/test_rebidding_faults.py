"""A worker killed in the middle of a round's close loses nothing: the close and the
re-evaluation of the round's lots are one transaction, so the round stays open with the
ranking of the close, and the sweeper of a new scheduler and worker closes it and re-evaluates
(real processes, a redis-server of the test's own, the real clock)."""

from __future__ import annotations

import datetime as dt
import os
import signal

import pytest
from rq import Queue
from sqlalchemy import select

from core import clock, jobs
from core.extensions import db
from core.transaction import commit
from tests.e2e.conftest import _env
from tests.e2e.faults_helpers import JobProcess, OwnRedis, wait_for

pytestmark = [pytest.mark.live, pytest.mark.production_layout]


@pytest.fixture()
def own_redis(workdir):
    server = OwnRedis(workdir)
    server.start()
    yield server
    server.stop()


def _round_past_its_deadline(app) -> tuple[int, int]:
    """A closed, evaluated tender (b cheaper on position 1), a round in which a lowered its
    price below b, and the round's deadline just passed (by the real clock)."""
    from results import jobs as result_jobs
    from results.rebidding import schemas, service
    from results.rebidding.models import RebiddingRound
    from tenders import closing
    from tenders.models import Tender
    from tests.factories import (
        make_org,
        make_supplier,
        make_user,
        one_position_lots,
        published_tender,
        signed_submit,
    )
    from tests.integration.test_rebidding import improve

    with app.test_request_context():
        org = make_org(is_customer=True, is_supplier=False)
        customer = (make_user(org), org)
        tender = published_tender(
            customer, deadline=dt.timedelta(hours=1), lots=one_position_lots(), criteria=False
        )
        a, b = make_supplier(), make_supplier()
        commit()
        signed_submit(a, tender, {"1": "100.00"})
        signed_submit(b, tender, {"1": "90.00"})
        tid = tender.id
        db.session.get(Tender, tid).bid_deadline = clock.now() - dt.timedelta(seconds=1)
        commit()
        assert closing.close(tid) == "closed"
        commit()
        assert result_jobs.evaluate(tid) is True
        data = schemas.RoundIn().load(
            {"lots": [1], "deadline": (clock.now() + dt.timedelta(hours=2)).isoformat()}
        )
        service.announce(*customer, tid, data)
        commit()
        improve(a, tid, {"1": "80.00"})
        round_ = db.session.execute(
            select(RebiddingRound).where(RebiddingRound.tender_id == tid)
        ).scalar_one()
        round_.deadline = clock.now() - dt.timedelta(seconds=1)
        commit()
        ids = (tid, round_.id)
        db.session.remove()
    return ids


def _state(app, tid: int, round_id: int) -> tuple[str, str]:
    from results.models import Award
    from results.rebidding.models import RebiddingRound

    with app.app_context():
        try:
            status = db.session.get(RebiddingRound, round_id).status
            price = db.session.execute(
                select(Award.price).where(Award.tender_id == tid)
            ).scalar_one()
            return status, f"{price:.2f}"
        finally:
            db.session.remove()


def test_a_worker_killed_mid_close_leaves_the_round_to_the_sweeper(
    app, database_url, smtp_server, workdir, own_redis
):
    from results.rebidding import service

    tid, round_id = _round_past_its_deadline(app)
    gates = workdir / "rebidding-gates"
    gates.mkdir(exist_ok=True)
    env = {
        **_env(database_url, own_redis.url, smtp_server.port, workdir, "threading", "rebid"),
        "FAULT_GATE_DIR": str(gates),
        "SWEEPERS_INTERVAL": "3",
    }
    worker = JobProcess("worker", env, workdir / "rebidding-worker-killed.log")
    try:
        Queue("closing", connection=own_redis.client()).enqueue(
            jobs.run_job, service.CLOSE_JOB, round_id
        )
        # closed and re-evaluated in the job's transaction, not committed: kill it
        wait_for(lambda: (gates / "at-rebidding-close").exists(), 120, "the close", logs=(worker,))
        os.kill(int((gates / "at-rebidding-close").read_text()), signal.SIGKILL)
        worker.kill()
    finally:
        worker.stop()
    assert _state(app, tid, round_id) == ("open", "90.00")  # nothing half done

    (gates / "go-rebidding-close").write_text("")
    scheduler = JobProcess("scheduler", env, workdir / "rebidding-scheduler.log")
    worker = JobProcess("worker", env, workdir / "rebidding-worker.log")
    try:
        wait_for(
            lambda: _state(app, tid, round_id) == ("closed", "80.00"),
            120,
            "the sweeper to close the round and re-evaluate",
            logs=(scheduler, worker),
        )
    finally:
        scheduler.stop()
        worker.stop()
