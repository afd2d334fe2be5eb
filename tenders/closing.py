"""Closing a tender at its deadline.

A job is scheduled at the deadline under one deterministic id per tender
(``tender-close-<id>``), so scheduling again (publication, an amendment, an auto-extension)
replaces the previous job. The job re-reads the deadline under the tender lock and does
nothing if the deadline moved or is not reached; a periodic sweeper closes whatever is
overdue (a job lost with Redis, a worker that was down). Closing is idempotent: the second
run finds the tender no longer published. Bidding itself is refused at and after the
deadline by bids.service whatever these jobs do.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select

from audit.service import record
from bids.models import Bid
from core import clock, jobs, live
from core.extensions import db
from core.transaction import lock
from notifications.service import record_event
from tenders import rules
from tenders.models import Tender
from tenders.sockets import tender_room

log = logging.getLogger(__name__)

CLOSE_JOB = "tenders.jobs.close_at_deadline"
SWEEP_BATCH = 200


def close_job_id(tender_id: int) -> str:
    """The one job id of a tender's close (a new schedule replaces the old one)."""
    return f"tender-close-{tender_id}"


def schedule_close(tender: Tender) -> None:
    """(Re)schedule the close at the tender's current deadline, after the commit."""
    if tender.bid_deadline is None:
        return
    jobs.enqueue(
        CLOSE_JOB,
        tender.id,
        tender.bid_deadline.isoformat(),
        queue="closing",
        job_id=close_job_id(tender.id),
        at=tender.bid_deadline,
    )


def valid_bids(tender_id: int) -> int:
    """Bids standing at the close: not withdrawn, with at least one accepted revision."""
    return db.session.execute(
        select(func.count())
        .select_from(Bid)
        .where(Bid.tender_id == tender_id, Bid.status == "active", Bid.revision_count > 0)
    ).scalar_one()


def close(tender_id: int, expected_deadline: dt.datetime | None = None) -> str:
    """Close a published tender whose deadline has passed; say what happened.

    Outcomes: "closed", "unsuccessful" (no valid bid), "moved" (the deadline is no longer the
    one the job was scheduled for), "not_due", "not_open" (already closed, cancelled...),
    "missing". Runs under the tender lock, so a close racing a last-second bid (which takes
    the same lock and re-checks the deadline) or another close is serialized."""
    tender = lock(Tender, tender_id)
    if tender is None:
        return "missing"
    if tender.status != "published":
        return "not_open"
    if expected_deadline is not None and tender.bid_deadline != expected_deadline:
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
    record(f"tender.{target}", "tender", tender.id, payload, chain=f"tender:{tender.id}")
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
