"""Results of a closed tender: disqualifications, the evaluated awards and their ranked offers.

Awards are stored as rows (one per position of a per_position lot, one per whole_lot lot, each
with every offer ranked): the customer's comparison table pages and filters them in SQL, a
participant reads its own rows by bid, and the protocol and OCDS exports read them as they
are. Until publication they are recomputed after every disqualification; publication freezes
them (no service writes them afterwards) and records their SHA-256 digest in the tender's
audit chain, so a later change would be detectable.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.extensions import db
from core.types import ExactDecimal, UTCDateTime

AWARD_STATUSES = ("awarded", "unsuccessful")
OFFER_STATUSES = ("valid", "disqualified")


class Disqualification(db.Model):
    """A bid disqualified for the whole tender (lot_id None) or for one lot, with a reason.
    Lifting it (before publication) keeps the row, with who lifted it and why."""

    __tablename__ = "disqualifications"
    __table_args__ = (Index("ix_disqualifications_tender_bid", "tender_id", "bid_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    lifted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lift_reason: Mapped[str | None] = mapped_column(Text)


class ResultSet(db.Model):
    """A tender's evaluation: recomputed until publication, then final."""

    __tablename__ = "result_sets"

    tender_id: Mapped[int] = mapped_column(
        ForeignKey("tenders.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(default=0)
    evaluated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    participants: Mapped[int] = mapped_column(default=0)
    awarded: Mapped[int] = mapped_column(default=0)
    unsuccessful: Mapped[int] = mapped_column(default=0)
    reference_total: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2), default=Decimal(0))
    savings: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2), default=Decimal(0))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    digest: Mapped[str | None] = mapped_column(String(64))


class Award(db.Model):
    """The result of one position (per_position lot) or one lot (whole_lot lot)."""

    __tablename__ = "awards"
    __table_args__ = (
        UniqueConstraint("tender_id", "lot_id", "position_id"),
        Index("ix_awards_tender_sort", "tender_id", "sort_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"))
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id", ondelete="CASCADE"))
    lot_number: Mapped[int]
    position_number: Mapped[str | None] = mapped_column(String(20))
    # Lot number and the position's natural sort key: pages come in notice order.
    sort_key: Mapped[str] = mapped_column(String(80))
    award_mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    winner_bid_id: Mapped[int | None] = mapped_column(ForeignKey("bids.id"))
    # The winner's compared price: unit price of a position, total of a whole lot.
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 2))
    total: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 2))
    score: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 6))
    reference_total: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 2))
    savings: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 2))
    offers_count: Mapped[int] = mapped_column(default=0)

    offers: Mapped[list[AwardOffer]] = relationship(
        back_populates="award",
        order_by="AwardOffer.sort_order",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class AwardOffer(db.Model):
    """One participant's offer in an award's ranking (or disqualified from it), with the
    score's breakdown: {"price_weight", "best_price", "price_points", "criteria": [...]}."""

    __tablename__ = "award_offers"
    __table_args__ = (
        UniqueConstraint("award_id", "bid_id"),
        Index("ix_award_offers_bid", "bid_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"))
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"))
    sort_order: Mapped[int]
    rank: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    unit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 2))
    total: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2))
    score: Mapped[Decimal] = mapped_column(ExactDecimal(18, 6))
    price_points: Mapped[Decimal] = mapped_column(ExactDecimal(18, 6))
    breakdown: Mapped[dict] = mapped_column(JSON, default=dict)
    first_offered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    award: Mapped[Award] = relationship(back_populates="offers")


class ResultVersion(db.Model):
    """One published version of a tender's results: the first publication (number 1, no
    reason) and every correction after it (number n + 1, with the customer's reason and the
    disqualifications made or lifted). The current version's awards are the Award rows; when a
    correction supersedes a version, its awards are kept as a snapshot (gzip JSON blob stored
    under its SHA-256), so every earlier version stays readable."""

    __tablename__ = "result_versions"
    __table_args__ = (UniqueConstraint("tender_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    number: Mapped[int]
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[list] = mapped_column(JSON, default=list)
    digest: Mapped[str] = mapped_column(String(64))
    participants: Mapped[int] = mapped_column(default=0)
    awarded: Mapped[int] = mapped_column(default=0)
    unsuccessful: Mapped[int] = mapped_column(default=0)
    reference_total: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2), default=Decimal(0))
    savings: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2), default=Decimal(0))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    snapshot_size: Mapped[int | None]


class CommissionMember(db.Model):
    """A member of a tender's commission (a member of the customer organization); one chair."""

    __tablename__ = "commission_members"
    __table_args__ = (UniqueConstraint("tender_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    is_chair: Mapped[bool] = mapped_column(default=False)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class CommissionDecision(db.Model):
    """The prepared decision of a tender's commission: the digest members vote on, and the
    digest of the vote the chair closed (results_rules.digest of the resolved decision)."""

    __tablename__ = "commission_decisions"

    tender_id: Mapped[int] = mapped_column(
        ForeignKey("tenders.id", ondelete="CASCADE"), primary_key=True
    )
    prepared_digest: Mapped[str | None] = mapped_column(String(64))
    prepared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_digest: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DecisionItem(db.Model):
    """An exception to the ranking on one unit: another winner or unsuccessful, with a
    reason (a unit without one is decided as ranked)."""

    __tablename__ = "decision_items"
    __table_args__ = (UniqueConstraint("tender_id", "lot_number", "position_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    lot_number: Mapped[int]
    position_number: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(16))
    participant: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text)
    prepared_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    prepared_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)


class CommissionVote(db.Model):
    """A member's vote on one version of the decision (its digest). A member's later vote
    on the same digest replaces the earlier one (both are in the audit chain)."""

    __tablename__ = "commission_votes"
    __table_args__ = (UniqueConstraint("tender_id", "user_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    digest: Mapped[str] = mapped_column(String(64))
    choice: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    cast_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
