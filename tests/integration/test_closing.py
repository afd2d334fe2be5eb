"""Closing at the deadline: the scheduled job (run twice, run late, run before a last-minute
extension moved the deadline), the sweeper, no valid bid -> unsuccessful, and concurrent
closes with real transactions."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from audit.models import AuditEvent
from bids import service as bids
from core import clock, jobs
from core.chains import tender_chain
from core.errors import Conflict, Refused
from core.events import DomainEvent
from core.extensions import db as _db
from core.transaction import commit
from results.models import Award, ResultSet
from tenders import closing
from tenders import service as tenders
from tenders.models import Tender
from tenders.schemas import AmendmentIn
from tests.factories import (
    make_org,
    make_supplier,
    make_user,
    one_position_lots,
    published_tender,
    signed_submit,
)


def _published(minutes: int = 60) -> Tender:
    return published_tender(deadline=dt.timedelta(minutes=minutes), lots=one_position_lots())


def _bid(tender_id: int, price: str = "100.00"):
    supplier = make_supplier()
    signed_submit(supplier, tender_id, {"1": price})
    return supplier


def _run(app, path: str, *args):
    with app.app_context():
        return jobs.run_job(path, *args)


def _count(model, *conditions) -> int:
    return _db.session.execute(
        select(func.count()).select_from(model).where(*conditions)
    ).scalar_one()


def _events(tender_id: int, action: str) -> int:
    return _count(
        AuditEvent, AuditEvent.chain == tender_chain(tender_id), AuditEvent.action == action
    )


def _scheduled(app, tender_id: int, deadline: dt.datetime):
    return app.extensions["jobs"]._by_id.get(closing.close_job_id(tender_id, deadline))


def test_publication_schedules_the_close_at_the_deadline(app, ctx, db):
    tender = _published()
    deadline = tender.bid_deadline
    entry = _scheduled(app, tender.id, deadline)
    assert entry is not None and entry.path == closing.CLOSE_JOB
    assert entry.when == closing.close_time(deadline)
    assert deadline <= entry.when < deadline + dt.timedelta(seconds=1)
    assert entry.when.microsecond == 0
    assert entry.args == (tender.id, deadline.isoformat())


def test_close_job_run_twice_closes_once(app, ctx, db):
    clock.freeze(clock.now())
    tender = _published()
    _bid(tender.id)
    deadline = tender.bid_deadline
    assert _run(app, closing.CLOSE_JOB, tender.id, deadline.isoformat()) == "not_due"
    clock.advance(dt.timedelta(minutes=60))
    assert _run(app, closing.CLOSE_JOB, tender.id, deadline.isoformat()) == "closed"
    assert _run(app, closing.CLOSE_JOB, tender.id, deadline.isoformat()) == "not_open"
    assert _run(app, "tenders.jobs.close_overdue") == 0
    t = _db.session.get(Tender, tender.id)
    _db.session.refresh(t)
    assert t.status == "closed" and t.closed_at == clock.now()
    assert _events(t.id, "tender.closed") == 1
    assert _events(t.id, "tender.evaluated") == 1
    assert (
        _count(DomainEvent, DomainEvent.tender_id == t.id, DomainEvent.kind == "tender.closed") == 1
    )
    assert _db.session.get(ResultSet, t.id).awarded == 1
    assert _count(Award, Award.tender_id == t.id) == 1


def test_close_job_run_late_still_closes_and_late_bids_were_refused(app, ctx, db):
    clock.freeze(clock.now())
    tender = _published()
    b = _bid(tender.id)
    clock.advance(dt.timedelta(hours=5))  # the worker was down for hours
    with pytest.raises(Conflict) as refused:
        signed_submit(b, tender.id, {"1": "50.00"})
    assert refused.value.status == 409  # bidding is closed by the deadline, not by the job
    deadline = tender.bid_deadline.isoformat()
    assert _run(app, closing.CLOSE_JOB, tender.id, deadline) == "closed"
    t = _db.session.get(Tender, tender.id)
    _db.session.refresh(t)
    assert t.closed_at == clock.now()
    close_event = _db.session.execute(
        select(AuditEvent).where(
            AuditEvent.chain == tender_chain(t.id), AuditEvent.action == "tender.closed"
        )
    ).scalar_one()
    assert close_event.payload["deadline"] == dt.datetime.fromisoformat(deadline).isoformat()
    assert close_event.payload["bids"] == 1


def test_job_before_a_last_minute_extension_follows_the_deadline_and_closes_at_it(app, ctx, db):
    tender = _published(minutes=10)
    first_deadline = tender.bid_deadline
    clock.advance(dt.timedelta(minutes=9))
    _bid(tender.id)  # in the last 30 minutes: +30 minutes
    t = _db.session.get(Tender, tender.id)
    _db.session.refresh(t)
    assert t.bid_deadline == first_deadline + dt.timedelta(minutes=30)
    # The extension leaves the job alone: the one at the first deadline is still the one.
    assert _scheduled(app, t.id, first_deadline) is not None
    assert _scheduled(app, t.id, t.bid_deadline) is None

    clock.advance(dt.timedelta(minutes=2))  # past the first deadline: its job fires
    assert app.extensions["jobs"].run_due() >= 1
    _db.session.refresh(t)
    assert t.status == "published"  # the deadline moved: the job scheduled the close at it
    entry = _scheduled(app, t.id, t.bid_deadline)
    assert entry.args == (t.id, t.bid_deadline.isoformat())
    assert entry.when == closing.close_time(t.bid_deadline)
    assert _run(app, closing.CLOSE_JOB, t.id, first_deadline.isoformat()) == "moved"  # again
    assert app.extensions["jobs"].run_due() == 0  # nothing of ours is due yet
    _db.session.refresh(t)
    assert t.status == "published"

    clock.advance(dt.timedelta(minutes=30))
    app.extensions["jobs"].run_due()
    _db.session.refresh(t)
    assert t.status == "closed"
    assert _events(t.id, "tender.closed") == 1


def test_amended_deadline_reschedules(app, ctx, db):
    org = make_org(is_customer=True, is_supplier=False)
    customer = (make_user(org), org)
    tender = published_tender(customer, deadline=dt.timedelta(days=5), lots=one_position_lots())
    new = (clock.now() + dt.timedelta(days=8)).replace(microsecond=0)

    def amend(**body):
        amendment = tenders.amend(*customer, tender.id, AmendmentIn().load(body))
        commit()
        return amendment

    amend(summary="Больше времени", bid_deadline=new.isoformat())
    entry = _scheduled(app, tender.id, new)
    assert entry.when == new and entry.args == (tender.id, new.isoformat())  # whole seconds
    clock.advance(dt.timedelta(days=6))  # past the first deadline: no amendment any more
    amend(summary="Ещё", description="x")  # accepted: the deadline moved to day 8
    clock.advance(dt.timedelta(days=3))
    with pytest.raises(Refused) as refused:
        amend(summary="Поздно", description="y")
    assert refused.value.status == 409 and refused.value.code == "bidding_closed"
    assert "Bidding closed at" in str(refused.value)


def test_sweeper_closes_overdue_tenders_and_no_bid_is_unsuccessful(app, ctx, db):
    empty = _published()
    with_bid = _published()
    _bid(with_bid.id)
    later = _published(minutes=600)
    clock.advance(dt.timedelta(minutes=61))
    assert _run(app, "tenders.jobs.close_overdue") == 2
    statuses = {
        t.id: t.status
        for t in _db.session.execute(
            select(Tender)
            .where(Tender.id.in_([empty.id, with_bid.id, later.id]))
            .execution_options(populate_existing=True)
        ).scalars()
    }
    assert statuses == {
        empty.id: "unsuccessful",
        with_bid.id: "closed",
        later.id: "published",
    }
    assert _events(empty.id, "tender.unsuccessful") == 1
    kinds = _db.session.execute(
        select(DomainEvent.kind, DomainEvent.payload).where(DomainEvent.tender_id == empty.id)
    ).all()
    assert ("tender.unsuccessful", {"number": empty.number, "bids": 0}) in [
        (k, p) for k, p in kinds
    ]


def test_withdrawn_bid_does_not_count(app, ctx, db):
    tender = _published()
    b = _bid(tender.id)
    bids.withdraw(b[0], b[1], tender.id)
    commit()
    clock.advance(dt.timedelta(minutes=61))
    assert (
        _run(app, closing.CLOSE_JOB, tender.id, tender.bid_deadline.isoformat()) == "unsuccessful"
    )


def test_concurrent_closes_close_once(app):
    """Real transactions (no per-test rollback): four closers race on the same tender. (No
    bid is committed, so tests that count bids elsewhere are not disturbed.)"""
    try:
        with app.test_request_context():
            tender_id = _published().id
        clock.advance(dt.timedelta(minutes=61))
        outcomes: list[str] = []
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def close():
            try:
                with app.app_context():
                    start.wait()
                    outcome = closing.close(tender_id)
                    commit()
                    outcomes.append(outcome)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=close) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        assert sorted(outcomes) == ["not_open", "not_open", "not_open", "unsuccessful"]
        with app.app_context():
            assert _events(tender_id, "tender.unsuccessful") == 1
            assert (
                _count(
                    DomainEvent,
                    DomainEvent.tender_id == tender_id,
                    DomainEvent.kind == "tender.unsuccessful",
                )
                == 1
            )
    finally:
        clock.reset()


def test_on_redis_the_job_at_an_extended_deadline_schedules_the_close_at_the_new_one(
    app, ctx, db, redis_url, monkeypatch
):
    """RQ: the close is a scheduled job named by tender and deadline; an extension adds no
    job, and the job at the earlier deadline, finding it moved, schedules the close at the
    deadline in force (a job of another id: it never replaces itself)."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    backend = jobs.RQBackend(redis_url)
    monkeypatch.setitem(app.extensions, "jobs", backend)
    connection = Redis.from_url(redis_url)
    scheduled = Queue("closing", connection=connection).scheduled_job_registry
    tender = _published(minutes=10)
    first = tender.bid_deadline
    first_id = closing.close_job_id(tender.id, first)
    assert first_id in scheduled.get_job_ids()
    assert Job.fetch(first_id, connection=connection).args == (
        closing.CLOSE_JOB,
        tender.id,
        first.isoformat(),
    )
    _bid(tender.id)  # in the window: +30 minutes, and no job for it
    t = _db.session.get(Tender, tender.id)
    _db.session.refresh(t)
    moved = t.bid_deadline
    assert moved == first + dt.timedelta(minutes=30)
    assert closing.close_job_id(t.id, moved) not in scheduled.get_job_ids()

    clock.advance(dt.timedelta(minutes=11))  # the first job's time: run it as the worker would
    assert _run(app, closing.CLOSE_JOB, t.id, first.isoformat()) == "moved"
    new_id = closing.close_job_id(t.id, moved)
    assert new_id in scheduled.get_job_ids() and new_id != first_id
    job = Job.fetch(new_id, connection=connection)
    assert job.args == (closing.CLOSE_JOB, t.id, moved.isoformat())
    at = scheduled.get_scheduled_time(job).replace(tzinfo=dt.UTC)
    assert moved <= at == closing.close_time(moved)  # whole seconds, never before the deadline
    for job_id in (first_id, new_id):
        Job.fetch(job_id, connection=connection).delete()


def test_the_close_runs_at_the_deadline_or_the_next_whole_second():
    whole = dt.datetime(2026, 12, 5, 12, 0, 0, tzinfo=dt.UTC)
    assert closing.close_time(whole) == whole
    assert closing.close_time(whole + dt.timedelta(microseconds=1)) == whole + dt.timedelta(
        seconds=1
    )
    assert closing.close_time(whole - dt.timedelta(microseconds=1)) == whole


def test_a_close_without_a_bid_counter_refuses_rather_than_guessing():
    # tenders asks bids through a signal; unanswered, it must not close as "unsuccessful".
    with closing.counting_bids.muted(), pytest.raises(RuntimeError, match="counts the bids"):
        closing.valid_bids(1)
