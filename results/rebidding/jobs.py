"""Re-bidding jobs: a round's close at its deadline and the sweeper of overdue rounds. Ids
in, idempotent, each commits its own unit of work (the close and the re-evaluation of the
round's lots are one transaction: a worker killed in between leaves the round open, and the
sweeper closes it)."""

from __future__ import annotations

import datetime as dt
import logging

from core import faults
from core.transaction import commit, rollback
from results.rebidding import service

log = logging.getLogger(__name__)


def close_at_deadline(round_id: int, deadline: str | None = None) -> str:
    """The job scheduled at a round's deadline: closes only if that is still its deadline."""
    expected = dt.datetime.fromisoformat(deadline) if deadline else None
    outcome = service.close(round_id, expected)
    faults.gate("rebidding-close")
    commit()
    return outcome


def close_overdue() -> int:
    """Periodic sweeper: close every open round past its deadline; how many it closed."""
    closed = 0
    for round_id in service.overdue_ids():
        try:
            outcome = service.close(round_id)
            commit()
        except Exception:  # one bad round must not stop the others
            rollback()
            log.exception("closing re-bidding round %s failed", round_id)
            continue
        closed += outcome == "closed"
    return closed
