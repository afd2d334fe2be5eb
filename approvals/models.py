"""An organization's approval settings, its approval requests and their steps (the
timeline)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from approvals.rules import Settings
from core import clock
from core.extensions import db
from core.types import UTCDateTime


class ApprovalSettings(db.Model):
    """What an organization puts under approval (approvals.rules.Settings); no row: none."""

    __tablename__ = "approval_settings"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    publication: Mapped[bool] = mapped_column(default=False)
    approvers: Mapped[int] = mapped_column(default=1)
    other_approver: Mapped[bool] = mapped_column(default=True)
    bids: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    def rules(self) -> Settings:
        """As the pure rules take them."""
        return Settings(self.publication, self.approvers, self.other_approver, self.bids)


class ApprovalRequest(db.Model):
    """A request to approve one exact version (content hash) of a draft, an amendment, a
    cancellation or a bid payload, sent by a member of the organization that owns it."""

    __tablename__ = "approval_requests"
    __table_args__ = (
        # The bid submit's one lookup: the organization's approved payloads on a tender.
        Index("ix_approval_requests_lookup", "organization_id", "tender_id", "action", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # approvals.rules.ACTIONS
    state: Mapped[str] = mapped_column(String(16), default="pending")  # rules.STATES
    version: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical content
    # What is approved: an amendment's fields, a cancellation's reason, the bid payload
    # (a draft is hashed from the tender itself and not copied here).
    content: Mapped[dict] = mapped_column(JSON, default=dict)
    required: Mapped[int] = mapped_column(default=1)  # approvals needed (settings when sent)
    other_approver: Mapped[bool] = mapped_column(default=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    requested_by = relationship("User", foreign_keys=[requested_by_id])
    tender = relationship("Tender", viewonly=True)
    steps: Mapped[list[ApprovalStep]] = relationship(
        back_populates="request", order_by="ApprovalStep.id", cascade="all, delete-orphan"
    )

    @property
    def approvals(self) -> int:
        """Approvals given so far (each manager once)."""
        return len({s.user_id for s in self.steps if s.kind == "approved"})


class ApprovalStep(db.Model):
    """One step of a request's timeline: sent, approved, returned, superseded, done."""

    __tablename__ = "approval_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("approval_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # approvals.rules.STEPS
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)

    request: Mapped[ApprovalRequest] = relationship(back_populates="steps")
    user = relationship("User")
