"""The approvals' answers to the tenders' and bids' signals: publishing, amending or
cancelling a tender, and signing a bid, are refused when the organization requires an
approval that this exact version lacks. Connected on import (app.py imports this module)."""

from __future__ import annotations

from approvals import service
from bids.service import signing
from tenders.service import changing


@changing.connect
def tender_changing(tender, *, user, action: str, content: dict | None) -> None:
    """Before a tender is published, amended or cancelled."""
    service.check_tender_change(tender, user, action, content)


@signing.connect
def bid_signing(tender, *, user, org, payload: dict) -> None:
    """Before a signed bid revision is verified and accepted."""
    service.check_bid_signing(tender, user, org, payload)
