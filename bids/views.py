"""The bidding API: prepare the payload to sign, submit a signed revision, withdraw, read
one's own bid. (The bid form and the offers table arrive with the pages of this issue.)"""

from __future__ import annotations

from flask import Blueprint, g

from bids import schemas, service
from core.api import API_PREFIX, route
from core.errors import NotFound
from core.extensions import db
from core.transaction import commit
from tenders.models import Tender

api = Blueprint("bids_api", __name__, url_prefix=API_PREFIX)


def _actor():
    return g.api_user, getattr(g, "org", None)


@route(
    api,
    "/tenders/<int:tender_id>/bid/prepare",
    "POST",
    summary="The payload to sign",
    body=schemas.OfferIn,
    response=schemas.PreparedOut,
    tag="bids",
)
def api_prepare(tender_id: int, body: dict):
    """Validates the offer (every problem at once) and returns the exact bytes to sign."""
    return service.prepare(*_actor(), tender_id, body)


@route(
    api,
    "/tenders/<int:tender_id>/bid/revisions",
    "POST",
    summary="Submit a signed revision",
    body=schemas.SignedOfferIn,
    response=schemas.AcceptedOut,
    status=201,
    tag="bids",
)
def api_submit(tender_id: int, body: dict):
    """Accepted only before the deadline (409 "Bidding closed at ..."), with a valid signature
    over the prepared payload; may extend the deadline (DESIGN.md's 30-minute rule)."""
    user, org = _actor()
    revision = service.submit(user, org, tender_id, body, body["key_id"], body["signature"])
    commit()
    tender = db.session.get(Tender, tender_id)
    # Shown with the revision: its signed receipt and the deadline now in force.
    revision.receipt = service.receipt_of(revision, tender, org)
    revision.bid_deadline = tender.bid_deadline
    return revision


@route(
    api,
    "/tenders/<int:tender_id>/bid/withdraw",
    "POST",
    summary="Withdraw my bid",
    response=schemas.BidOut,
    tag="bids",
)
def api_withdraw(tender_id: int):
    """Before the deadline; never extends it."""
    bid = service.withdraw(*_actor(), tender_id)
    commit()
    return bid


@route(
    api,
    "/tenders/<int:tender_id>/bid",
    "GET",
    summary="My bid and its revisions",
    response=schemas.BidOut,
    tag="bids",
)
def api_my_bid(tender_id: int):
    """Only the bidder's own organization sees it."""
    bid, _ = service.my_bid(*_actor(), tender_id)
    if bid is None:
        raise NotFound("Your organization has not bid on this tender.")
    return bid
