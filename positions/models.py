"""Positions (items) of lots and the lots' non-price criteria."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.types import ExactDecimal

CRITERION_KINDS = ("number", "boolean", "choice", "text")
DIRECTIONS = ("higher_better", "lower_better")


class Position(db.Model):
    """One line item; its number is unique within the tender and stable (CSV, bids)."""

    __tablename__ = "positions"
    __table_args__ = (
        UniqueConstraint("tender_id", "number"),
        Index("ix_positions_lot_sort", "lot_id", "sort_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20))
    sort_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500))
    specification: Mapped[str] = mapped_column(Text, default="")
    category_code: Mapped[str | None] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal(18, 3))
    unit_code: Mapped[str] = mapped_column(String(3))
    max_unit_price: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 2))
    delivery_place: Mapped[str] = mapped_column(String(500), default="")
    delivery_date: Mapped[dt.date | None] = mapped_column(Date)

    lot = relationship("Lot", back_populates="positions")


class Criterion(db.Model):
    """A non-price criterion of a lot (DESIGN.md: kinds, weight, direction, bounds, options)."""

    __tablename__ = "criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id", ondelete="CASCADE"), index=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(50), default="")
    required: Mapped[bool] = mapped_column(default=False)
    weight: Mapped[Decimal] = mapped_column(ExactDecimal(5, 2), default=Decimal(0))
    direction: Mapped[str | None] = mapped_column(String(16))
    min_value: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 4))
    max_value: Mapped[Decimal | None] = mapped_column(ExactDecimal(18, 4))

    lot = relationship("Lot", back_populates="criteria")
    options: Mapped[list[CriterionOption]] = relationship(
        back_populates="criterion",
        order_by="CriterionOption.sort_order",
        cascade="all, delete-orphan",
    )


class CriterionOption(db.Model):
    """A choice of a `choice` criterion with its score."""

    __tablename__ = "criterion_options"
    __table_args__ = (UniqueConstraint("criterion_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    sort_order: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(300))
    score: Mapped[Decimal] = mapped_column(ExactDecimal(9, 4))

    criterion: Mapped[Criterion] = relationship(back_populates="options")
