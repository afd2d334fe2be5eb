"""Jobs: produce the signed protocol once results are published; a sweeper for any missed."""

from __future__ import annotations

from sqlalchemy import select

from core import jobs
from core.extensions import db
from core.transaction import commit
from reports import service
from reports.models import SignedDocument
from tenders.models import Tender


def protocol_job_id(tender_id: int) -> str:
    """One protocol job per tender at a time (RQ job ids: letters, digits, '-', '_')."""
    return f"protocol-{tender_id}"


def enqueue_protocol(tender_id: int) -> None:
    """Produce the protocol after the current transaction (the publication) commits."""
    jobs.enqueue("reports.jobs.generate_protocol", tender_id, job_id=protocol_job_id(tender_id))


def generate_protocol(tender_id: int) -> str | None:
    """Produce, sign and record the protocol (idempotent); returns its SHA-256."""
    doc = service.generate_protocol(tender_id)
    commit()
    return doc.sha256 if doc else None


def sweep_protocols(limit: int = 50) -> int:
    """Queue the protocol of every results-published tender that has none (a job lost in a
    Redis outage, or results published before this feature existed)."""
    missing = (
        db.session.execute(
            select(Tender.id)
            .where(
                Tender.status == "results_published",
                ~select(SignedDocument.id)
                .where(SignedDocument.tender_id == Tender.id)
                .correlate(Tender)
                .exists(),
            )
            .order_by(Tender.id)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    db.session.rollback()
    for tender_id in missing:
        jobs.enqueue_now(
            "reports.jobs.generate_protocol", tender_id, job_id=protocol_job_id(tender_id)
        )
    return len(missing)
