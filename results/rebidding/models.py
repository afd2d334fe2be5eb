"""Re-bidding rounds, whom each invites per lot, and the revisions submitted in them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.extensions import db
from core.types import UTCDateTime

ROUND_STATUSES = ("open", "closed")


class RebiddingRound(db.Model):
    """A re-bidding round of a closed tender: its lots (through its invitations), its own
    deadline (moving by the tender's auto-extension policy), prices only or criteria too."""

    __tablename__ = "rebidding_rounds"
    __table_args__ = (
        UniqueConstraint("tender_id", "number"),
        Index("ix_rebidding_rounds_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    number: Mapped[int]
    scope: Mapped[str] = mapped_column(String(24))  # prices | prices_and_criteria
    status: Mapped[str] = mapped_column(String(16), default="open")
    announced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    announced_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    original_deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    extensions_count: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    invitations: Mapped[list[RebiddingInvitation]] = relationship(
        order_by="(RebiddingInvitation.lot_number, RebiddingInvitation.bid_id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def criteria_allowed(self) -> bool:
        return self.scope == "prices_and_criteria"


class RebiddingInvitation(db.Model):
    """One participant invited to one lot of a round, with its bid's revision at the
    announcement (its offer "before")."""

    __tablename__ = "rebidding_invitations"
    __table_args__ = (
        UniqueConstraint("round_id", "bid_id", "lot_id"),
        Index("ix_rebidding_invitations_bid", "bid_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rebidding_rounds.id", ondelete="CASCADE"))
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"))
    lot_number: Mapped[int]
    revision_before: Mapped[int]


class RebiddingOffer(db.Model):
    """A bid revision submitted during a re-bidding round (its lines and signature are the
    revision's: the earlier revisions stay in the bid's chain)."""

    __tablename__ = "rebidding_offers"

    revision_id: Mapped[int] = mapped_column(ForeignKey("bid_revisions.id"), primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("rebidding_rounds.id", ondelete="CASCADE"), index=True
    )
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"))
    accepted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
