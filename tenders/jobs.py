"""Tender jobs: the close at the deadline, the sweeper of overdue closes, the evaluation.
Ids in, idempotent, each commits its own unit of work."""

from __future__ import annotations

import datetime as dt
import logging

from core import faults
from core.transaction import commit, rollback
from tenders import closing, review

log = logging.getLogger(__name__)


def close_at_deadline(tender_id: int, deadline: str | None = None) -> str:
    """The job scheduled at a deadline: closes only if that is still the deadline."""
    expected = dt.datetime.fromisoformat(deadline) if deadline else None
    outcome = closing.close(tender_id, expected)
    commit()
    if outcome == "closed":
        evaluate(tender_id)
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
            evaluate(tender_id)
    return closed


def evaluate(tender_id: int) -> bool:
    """Evaluate a closed tender's offers and store the proposed results (idempotent)."""
    try:
        done = review.evaluate_tender(tender_id)
        faults.gate("evaluate")
        commit()
        return done
    except Exception:  # evaluate_missing tries again at its next sweep
        rollback()
        log.exception("evaluating tender %s failed", tender_id)
        return False


def evaluate_missing() -> int:
    """Periodic sweeper: evaluate every closed tender that has no stored result (its job was
    lost: a worker killed mid-evaluation, a Redis outage); how many it evaluated. One still
    being evaluated by its job is waited for (the tender lock) and then found done."""
    return sum(evaluate(tender_id) for tender_id in closing.unevaluated_ids())
