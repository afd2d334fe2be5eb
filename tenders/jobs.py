"""Tender jobs: the close at the deadline and the sweeper of overdue closes. Ids in,
idempotent, each commits its own unit of work; a committed close is announced (closing.closed)
so that the results evaluate it."""

from __future__ import annotations

import datetime as dt
import logging

from core.transaction import commit, rollback
from tenders import closing

log = logging.getLogger(__name__)


def close_at_deadline(tender_id: int, deadline: str | None = None) -> str:
    """The job scheduled at a deadline: closes only if that is still the deadline."""
    expected = dt.datetime.fromisoformat(deadline) if deadline else None
    outcome = closing.close(tender_id, expected)
    commit()
    if outcome == "closed":
        closing.closed.send(tender_id)
    return outcome


def close_overdue() -> int:
    """Periodic sweeper: close every published tender past its deadline; how many closed."""
    closed = 0
    for tender_id in closing.overdue_ids():
        try:
            outcome = closing.close(tender_id)
            commit()
        except Exception:  # one bad tender must not stop the others
            rollback()
            log.exception("closing tender %s failed", tender_id)
            continue
        if outcome in ("closed", "unsuccessful"):
            closed += 1
        if outcome == "closed":
            closing.closed.send(tender_id)
    return closed
