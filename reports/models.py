"""Documents the platform produces and signs (results protocols)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.extensions import db
from core.types import UTCDateTime

KINDS = ("results_protocol",)


class SignedDocument(db.Model):
    """A platform-signed file of a tender: the blob (stored under its SHA-256), the object the
    platform signed for it and the signature. A newer version supersedes an older one (a
    correction of results); older versions stay downloadable by number."""

    __tablename__ = "signed_documents"
    __table_args__ = (UniqueConstraint("tender_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(default=1)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    signed_payload: Mapped[dict] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(Text)
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=clock.now)
