"""CSV bid uploads awaiting the supplier's signature (a valid file only; never a revision)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.extensions import db
from core.types import ExactDecimal, UTCDateTime


class BidCsvUpload(db.Model):
    """A checked CSV file, kept until it is signed and submitted (then deleted) or expires.

    ``lines`` holds compact JSON ``{"lines": [[position, unit_price, note, lot], ...],
    "cleared": [position, ...], "lots": [lot, ...]}``: the file's priced lines in the tender's
    position order, the positions whose price cell is empty and the lots the file covers
    (an older upload holds the list of lines alone: the whole offer). The revision is the
    file merged with the current revision (bids.csv_service.merged_offer), made by
    bids.service."""

    __tablename__ = "bid_csv_uploads"
    # AUTOINCREMENT on SQLite too: an id never comes back for a newer file.
    __table_args__ = (
        Index("ix_bid_csv_uploads_tender_org", "tender_id", "organization_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now, index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    variant: Mapped[str] = mapped_column(String(8))
    encoding: Mapped[str] = mapped_column(String(20))
    delimiter: Mapped[str] = mapped_column(String(4))
    rows: Mapped[int]
    positions: Mapped[int]
    total: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2))
    base_revision: Mapped[int] = mapped_column(default=0)
    lines: Mapped[str] = mapped_column(Text)
