"""Names of the audit chains (audit.models.AuditChain) that more than one package writes."""

from __future__ import annotations


def tender_chain(tender_id: int) -> str:
    """The tender's own audit chain: its bids, extensions, closing, results and corrections."""
    return f"tender:{tender_id}"
