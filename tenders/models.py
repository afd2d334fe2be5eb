"""Tenders (requests for proposals), their lots, categories, documents, questions, amendments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from core import clock
from core.extensions import db
from core.types import CodeList, ExactDecimal, UTCDateTime
from positions.models import Position

STATUSES = ("draft", "published", "closed", "results_published", "cancelled", "unsuccessful")
VAT_MODES = ("included", "excluded", "none")
EXTENSION_MODES = ("from_deadline", "from_change")
VISIBILITY_MODES = ("open_after_own_bid", "rank_only", "sealed")
AWARD_MODES = ("per_position", "whole_lot")


class Counter(db.Model):
    """Named counters (tender numbers per year): incremented under a row lock, never reused."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Tender(db.Model):
    """A request for proposals published by a customer organization."""

    __tablename__ = "tenders"
    __table_args__ = (
        Index("ix_tenders_status_deadline", "status", "bid_deadline"),
        Index("ix_tenders_status_published", "status", "published_at"),
        Index("ix_tenders_published_at", "published_at"),
        Index("ix_tenders_category_codes", "category_codes", postgresql_using="gin"),
        # One customer's tenders of a period (reports.dashboard: drafts by creation).
        Index("ix_tenders_customer_published", "customer_id", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The member in charge (issue 20): who prepared it unless a manager reassigned it.
    responsible_id: Mapped[int] = mapped_column(
        ForeignKey("users.id"),
        index=True,
        default=lambda ctx: ctx.get_current_parameters()["created_by_id"],
    )
    region_code: Mapped[str] = mapped_column(String(2), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    vat_mode: Mapped[str] = mapped_column(String(16), default="included")
    sme_only: Mapped[bool] = mapped_column(default=False)
    # Bids must be signed with a qualified (GOST) electronic signature, КЭП (issue 24).
    qualified_signature_required: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    # The language of the tender's documents (results protocol, bid receipts): the one its
    # customer published it in (docs/i18n.md); Russian for tenders older than the setting.
    language: Mapped[str] = mapped_column(String(8), default="ru", server_default="ru")
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    questions_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    bid_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    original_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Extension policy (DESIGN.md, the 30-minute rule).
    extension_window_minutes: Mapped[int] = mapped_column(default=30)
    extension_minutes: Mapped[int] = mapped_column(default=30)
    extension_mode: Mapped[str] = mapped_column(String(16), default="from_deadline")
    extension_trigger_rank: Mapped[int | None]
    max_extensions: Mapped[int | None]
    latest_close: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    extensions_count: Mapped[int] = mapped_column(default=0)
    visibility: Mapped[str] = mapped_column(String(24), default="open_after_own_bid")
    # Every chosen category with its ancestors ("C", "27", "27.3", "27.32"): subtree search
    # is one indexed containment test instead of a join.
    category_codes: Mapped[list[str]] = mapped_column(CodeList(), default=list)
    # Sum of quantity x maximum unit price over positions that have one (for price filters).
    estimated_value: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 2), index=True)
    amendment_count: Mapped[int] = mapped_column(default=0)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("tenders.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    customer = relationship("Organization")
    lots: Mapped[list[Lot]] = relationship(
        back_populates="tender", order_by="Lot.number", cascade="all, delete-orphan"
    )
    categories: Mapped[list[TenderCategory]] = relationship(
        back_populates="tender", cascade="all, delete-orphan", order_by="TenderCategory.code"
    )
    documents: Mapped[list[TenderDocument]] = relationship(
        back_populates="tender", order_by="TenderDocument.id", cascade="all, delete-orphan"
    )

    @property
    def is_itemized(self) -> bool:
        return any(lot.award_mode == "per_position" for lot in self.lots)


class TenderCategory(db.Model):
    """A classifier category of a tender; `path` ("C/25/25.1") makes subtree search a prefix."""

    __tablename__ = "tender_categories"
    __table_args__ = (
        UniqueConstraint("tender_id", "code"),
        # Subtree search is a prefix LIKE on the path: PostgreSQL needs pattern ops for it.
        Index(
            "ix_tender_categories_path_prefix",
            "path",
            postgresql_ops={"path": "varchar_pattern_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    path: Mapped[str] = mapped_column(String(80))

    tender: Mapped[Tender] = relationship(back_populates="categories")


class Lot(db.Model):
    """A group of positions awarded per position or as a whole."""

    __tablename__ = "lots"
    __table_args__ = (UniqueConstraint("tender_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(500))
    award_mode: Mapped[str] = mapped_column(String(16), default="per_position")
    price_weight: Mapped[Decimal] = mapped_column(ExactDecimal(5, 2), default=Decimal(100))
    # Counted in SQL, so showing a 10,000-position lot loads no rows.
    positions_count: Mapped[int] = column_property(
        select(func.count(Position.id)).where(Position.lot_id == id).scalar_subquery()
    )

    tender: Mapped[Tender] = relationship(back_populates="lots")
    positions = relationship(
        "Position",
        back_populates="lot",
        order_by="Position.sort_key",
        cascade="all, delete-orphan",
    )
    criteria = relationship(
        "Criterion",
        back_populates="lot",
        order_by="Criterion.sort_order",
        cascade="all, delete-orphan",
    )


class TenderDocument(db.Model):
    """A file of the notice; the content lives in the instance folder under its SHA-256."""

    __tablename__ = "tender_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    amendment_number: Mapped[int] = mapped_column(default=0)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    tender: Mapped[Tender] = relationship(back_populates="documents")


class Question(db.Model):
    """A clarification question; the asking organization is never shown to anyone else."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"), index=True)
    asker_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    asker_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Amendment(db.Model):
    """A numbered change to a published tender, with what changed."""

    __tablename__ = "amendments"
    __table_args__ = (UniqueConstraint("tender_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    number: Mapped[int]
    summary: Mapped[str] = mapped_column(Text)
    changes: Mapped[dict] = mapped_column(JSON)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
