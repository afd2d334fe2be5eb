"""The mail outbox: a mail is a row written in the same transaction as its cause."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.extensions import db
from core.types import UTCDateTime

MAIL_STATUSES = ("pending", "sent", "failed")


class OutgoingEmail(db.Model):
    """One email and its delivery state."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (Index("ix_outgoing_emails_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DomainEvent(db.Model):
    """Something participants may be told about (tender amended, question answered...),
    recorded in the transaction of the change; the notifications issue delivers them."""

    __tablename__ = "domain_events"
    __table_args__ = (Index("ix_domain_events_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    tender_id: Mapped[int | None] = mapped_column(ForeignKey("tenders.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
