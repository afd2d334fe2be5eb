"""Bids and their immutable revisions (lines, criterion values, signature, receipt)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.extensions import db
from core.types import ExactDecimal, UTCDateTime


class Bid(db.Model):
    """One supplier organization's bid on one tender."""

    __tablename__ = "bids"
    __table_args__ = (UniqueConstraint("tender_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # "Participant N": stable numbering by first bid, shown until results are published.
    participant_number: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="active")
    revision_count: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str | None] = mapped_column(String(64))
    first_bid_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The member in charge (issue 20): who first submitted it unless a manager reassigned it.
    responsible_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    revisions: Mapped[list[BidRevision]] = relationship(
        back_populates="bid", order_by="BidRevision.number"
    )


class BidRevision(db.Model):
    """An accepted, signed, immutable version of a bid's offer."""

    __tablename__ = "bid_revisions"
    __table_args__ = (UniqueConstraint("bid_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"))
    number: Mapped[int]
    accepted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signing_key_id: Mapped[int] = mapped_column(ForeignKey("signing_keys.id"))
    signature: Mapped[str] = mapped_column(Text)
    payload_hash: Mapped[str] = mapped_column(String(64), unique=True)
    previous_hash: Mapped[str | None] = mapped_column(String(64))
    receipt_signature: Mapped[str] = mapped_column(Text)
    triggering: Mapped[bool]
    deadline_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    deadline_after: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    total: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2))

    bid: Mapped[Bid] = relationship(back_populates="revisions")
    documents: Mapped[list[BidRevisionDocument]] = relationship(
        order_by="BidRevisionDocument.name", viewonly=True
    )

    @property
    def extended(self) -> bool:
        return self.deadline_after != self.deadline_before


class BidLine(db.Model):
    """A priced position in a revision."""

    __tablename__ = "bid_lines"
    __table_args__ = (
        Index("ix_bid_lines_revision_position", "revision_id", "position_id"),
        # One position's lines across revisions in one range (reports.price_history).
        Index("ix_bid_lines_position_revision", "position_id", "revision_id", "unit_price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("bid_revisions.id"))
    position_id: Mapped[int] = mapped_column(ForeignKey("positions.id"))
    position_number: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2))
    total: Mapped[Decimal] = mapped_column(ExactDecimal(18, 2))
    note: Mapped[str] = mapped_column(String(1000), default="")


class BidCriterionValue(db.Model):
    """A criterion value offered in a revision (as its canonical text)."""

    __tablename__ = "bid_criterion_values"
    __table_args__ = (UniqueConstraint("revision_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("bid_revisions.id"), index=True)
    lot_number: Mapped[int]
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    value: Mapped[str] = mapped_column(Text)


class OrganizationDocument(db.Model):
    """A file in an organization's document vault (charter, registry extract, licences...),
    attachable to any of its bid revisions; the content lives under its SHA-256. Archiving
    hides it from the vault but keeps it for the revisions that signed it."""

    __tablename__ = "organization_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class BidRevisionDocument(db.Model):
    """A document attached to a revision, with the name and hash the supplier signed."""

    __tablename__ = "bid_revision_documents"

    revision_id: Mapped[int] = mapped_column(ForeignKey("bid_revisions.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("organization_documents.id"), primary_key=True, index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
