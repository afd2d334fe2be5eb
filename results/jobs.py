"""Results jobs: the evaluation of a tender when it closes, and the sweeper of evaluations
that were lost. Ids in, idempotent, each commits its own unit of work."""

from __future__ import annotations

import logging

from sqlalchemy import select

from core import faults
from core.extensions import db
from core.transaction import commit, rollback
from results import evaluation
from results.models import ResultSet
from tenders import closing
from tenders.models import Tender

log = logging.getLogger(__name__)

EVALUATE_BATCH = 20  # evaluations are heavy: a sweep does this many, the next one the rest


@closing.closed.connect
def evaluate(tender_id: int) -> bool:
    """Evaluate a closed tender's offers and store the proposed results (idempotent)."""
    try:
        done = evaluation.evaluate_tender(tender_id)
        faults.gate("evaluate")
        commit()
        return done
    except Exception:  # evaluate_missing tries again at its next sweep
        rollback()
        log.exception("evaluating tender %s failed", tender_id)
        return False


def unevaluated_ids(limit: int = EVALUATE_BATCH) -> list[int]:
    """Closed tenders with no stored evaluation (oldest close first)."""
    return list(
        db.session.execute(
            select(Tender.id)
            .where(
                Tender.status == "closed",
                ~select(ResultSet.tender_id).where(ResultSet.tender_id == Tender.id).exists(),
            )
            .order_by(Tender.closed_at)
            .limit(limit)
        ).scalars()
    )


def evaluate_missing() -> int:
    """Periodic sweeper: evaluate every closed tender that has no stored result (its job was
    lost: a worker killed mid-evaluation, a Redis outage); how many it evaluated. One still
    being evaluated by its job is waited for (the tender lock) and then found done."""
    return sum(evaluate(tender_id) for tender_id in unevaluated_ids())
