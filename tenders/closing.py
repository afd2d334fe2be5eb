"""Closing a tender at its deadline.

A job is scheduled at the deadline under one deterministic id per tender and deadline
(``tender-close-<id>-<deadline>``), so scheduling the same close twice replaces the job. The
job re-reads the deadline under the tender lock: if the deadline moved (an auto-extension,
an amendment), it schedules the close at the deadline now in force and does nothing else;
if it is not reached yet, it does nothing. Auto-extensions therefore leave the jobs alone
(in the last minutes of a busy tender they come many a second): the job at the earlier
deadline follows the deadline when it fires. A periodic sweeper closes whatever is overdue
(a job lost with Redis, a worker that was down). Closing is idempotent: the second run finds
the tender no longer published. Bidding itself is refused at and after the deadline by
bids.service whatever these jobs do.
"""

from __future__ import annotations

import datetime as dt
import logging

from blinker import Namespace
from sqlalchemy import select

from audit.service import record
from core import clock, jobs, live
from core.chains import tender_chain
from core.events import record_event
from core.extensions import db
from core.transaction import lock
from tenders import rules
from tenders.models import Tender
from tenders.sockets import tender_room

log = logging.getLogger(__name__)

CLOSE_JOB = "tenders.jobs.close_at_deadline"
SWEEP_BATCH = 200

_signals = Namespace()
# Asked under the tender's lock at the close, with the tender's id: how many bids stand.
# Bidding answers (tenders builds below bids and does not import it).
counting_bids = _signals.signal("tender-counting-bids")
# Sent by the close jobs once a close to "closed" is committed, with the tender's id: the
# results evaluate it.
closed = _signals.signal("tender-closed")


def close_job_id(tender_id: int, deadline: dt.datetime) -> str:
    """The job id of a tender's close at one deadline (scheduling it again replaces it; a
    job never replaces itself, as the one it schedules is for another deadline)."""
    return f"tender-close-{tender_id}-{deadline.astimezone(dt.UTC):%Y%m%dT%H%M%S%f}"


def close_time(deadline: dt.datetime) -> dt.datetime:
    """When the close job runs: the deadline, or the next whole second after it. RQ keeps a
    schedule in whole seconds, dropping the fraction, and an extension's deadline has one: the
    job would run before the deadline, find it not reached, and leave the close to the
    sweeper a minute later."""
    whole = deadline.replace(microsecond=0)
    return whole if whole == deadline else whole + dt.timedelta(seconds=1)


def schedule_close(tender: Tender) -> None:
    """Schedule the close at the tender's current deadline, after the commit (a job at an
    earlier deadline, if any, finds it moved and schedules this same close again: the same
    job id, so one job)."""
    if tender.bid_deadline is None:
        return
    jobs.enqueue(
        CLOSE_JOB,
        tender.id,
        tender.bid_deadline.isoformat(),
        queue="closing",
        job_id=close_job_id(tender.id, tender.bid_deadline),
        at=close_time(tender.bid_deadline),
    )


def valid_bids(tender_id: int) -> int:
    """Bids standing at the close: not withdrawn, with at least one accepted revision."""
    answers = counting_bids.send(tender_id)
    if not answers:  # never guess "unsuccessful": something is not loaded
        raise RuntimeError("Nothing counts the bids at the close (bids is not loaded).")
    return sum(count for _, count in answers)


def close(tender_id: int, expected_deadline: dt.datetime | None = None) -> str:
    """Close a published tender whose deadline has passed; say what happened.

    Outcomes: "closed", "unsuccessful" (no valid bid), "moved" (the deadline is no longer the
    one the job was scheduled for: the close is scheduled at the deadline in force),
    "not_due", "not_open" (already closed, cancelled...), "missing". Runs under the tender
    lock, so a close racing a last-second bid (which takes the same lock and re-checks the
    deadline) or another close is serialized."""
    tender = lock(Tender, tender_id)
    if tender is None:
        return "missing"
    if tender.status != "published":
        return "not_open"
    if expected_deadline is not None and tender.bid_deadline != expected_deadline:
        schedule_close(tender)  # follow the deadline (extensions do not reschedule)
        return "moved"
    now = clock.now()
    if now < tender.bid_deadline:
        return "not_due"
    bids = valid_bids(tender.id)
    target = "closed" if bids else "unsuccessful"
    rules.check_transition(tender.status, target)
    tender.status = target
    tender.closed_at = now
    tender.updated_at = now
    payload = {
        "deadline": tender.bid_deadline.isoformat(),
        "original_deadline": tender.original_deadline.isoformat()
        if tender.original_deadline
        else None,
        "extensions": tender.extensions_count,
        "closed_at": now.isoformat(),
        "bids": bids,
    }
    record(f"tender.{target}", "tender", tender.id, payload, chain=tender_chain(tender.id))
    record_event(f"tender.{target}", tender.id, {"number": tender.number, "bids": bids})
    live.emit(
        "tender_closed",
        {
            "tender_id": tender.id,
            "status": target,
            "deadline": tender.bid_deadline.isoformat(),
            "closed_at": now.isoformat(),
            "participants": bids,
            "server_time": now.isoformat(),
        },
        tender_room(tender.id),
    )
    db.session.flush()
    log.info("tender %s %s at %s with %d bid(s)", tender.number, target, now.isoformat(), bids)
    return target


def overdue_ids(limit: int = SWEEP_BATCH) -> list[int]:
    """Published tenders whose deadline has passed (uses the status+deadline index)."""
    return list(
        db.session.execute(
            select(Tender.id)
            .where(Tender.status == "published", Tender.bid_deadline <= clock.now())
            .order_by(Tender.bid_deadline)
            .limit(limit)
        ).scalars()
    )
