"""The sweepers' last runs: recorded by run_job, read by `flask jobs health` and /healthz/jobs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from core import clock
from core.extensions import db
from core.models import SweeperRun
from core.sweep_rules import is_overdue, overdue_at
from core.transaction import commit, dialect, rollback


def _upsert(name: str, values: dict) -> None:
    insert = postgresql.insert if dialect() == "postgresql" else sqlite.insert
    statement = insert(SweeperRun).values(name=name, **values)
    db.session.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values))


def record_success(name: str, result: object) -> None:
    """Store that the sweeper `name` just succeeded (its own work is already committed)."""
    _upsert(name, {"last_success_at": clock.now(), "last_result": repr(result)[:200]})
    commit()


def record_failure(name: str, error: BaseException) -> None:
    """Store that the sweeper `name` just failed (what it did is rolled back)."""
    rollback()
    _upsert(
        name,
        {"last_failure_at": clock.now(), "last_error": f"{type(error).__name__}: {error}"[:2000]},
    )
    commit()


def report(periodic, now: dt.datetime | None = None) -> list[dict]:
    """One line per declared sweeper: last success, last failure, overdue or not."""
    now = now or clock.now()
    rows = {r.name: r for r in db.session.execute(select(SweeperRun)).scalars()}
    lines = []
    for p in periodic:
        row = rows.get(p.path)
        last = row.last_success_at if row else None
        lines.append(
            {
                "name": p.path,
                "interval": p.interval,
                "last_success_at": last.isoformat() if last else None,
                "overdue_at": overdue_at(last, p.interval).isoformat() if last else None,
                "overdue": is_overdue(last, p.interval, now),
                "last_failure_at": row.last_failure_at.isoformat()
                if row and row.last_failure_at
                else None,
                "last_error": row.last_error if row else None,
            }
        )
    return lines
