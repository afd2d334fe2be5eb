"""Infrastructure tables every domain may use: the sweepers' last runs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.types import UTCDateTime


class SweeperRun(db.Model):
    """When a periodic job (sweeper) last succeeded and last failed, for `flask jobs health`
    and /healthz/jobs. Kept in the database: it must be readable while Redis is down."""

    __tablename__ = "sweeper_runs"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_result: Mapped[str | None] = mapped_column(String(200))
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
