"""The bidding API: prepare the payload to sign, submit a signed revision, withdraw, read
one's own bid. (The bid form and the offers table arrive with the pages of this issue.)"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bids import offers, schemas, service
from core import clock
from core.api import API_PREFIX, actor, route
from core.errors import NotFound
from core.extensions import db
from core.transaction import commit
from signatures import service as signatures_service
from tenders import schemas as tender_schemas
from tenders import service as tenders
from tenders.models import Tender

api = Blueprint("bids_api", __name__, url_prefix=API_PREFIX)


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
    return service.prepare(*actor(), tender_id, body)


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
    user, org = actor()
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
    bid = service.withdraw(*actor(), tender_id)
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
    bid, _ = service.my_bid(*actor(), tender_id)
    if bid is None:
        raise NotFound("Your organization has not bid on this tender.")
    return bid


@route(
    api,
    "/tenders/<int:tender_id>/offers",
    "GET",
    summary="The table of offers",
    query=schemas.PageIn,
    response=schemas.OffersOut,
    auth="optional",
    tag="bids",
)
def api_offers(tender_id: int, query: dict):
    """Positions x participants as the caller may see them (DESIGN.md's visibility rules):
    nothing but the number of bids before one's own bid, anonymous participants until the
    close, own rank and best price only in rank_only mode, nothing in sealed mode."""
    org = getattr(g, "org", None) if getattr(g, "api_user", None) else None
    tender = tenders.visible_tender(tenders.get_tender(tender_id), org)
    return offers.table(tender, org, query["page"], query["per_page"])


# -- pages -------------------------------------------------------------------------------------

bp = Blueprint("bids", __name__)
FORM_PAGE = 50


@bp.get("/tenders/<number>/bid")
@login_required
def form(number: str):
    """The supplier's bid form: prices per position, criteria, the countdown, the receipt of
    the last revision. Signing happens in the browser (the private key never leaves it)."""
    tender = tenders.visible_tender(tenders.by_number(number), g.org)
    org = g.org
    service.check_bidder(current_user, org, tender)
    bid, revisions = service.my_bid(current_user, org, tender.id)
    current = service.current_offer(tender, bid)
    q = request.args.get("q", "").strip()[:100]
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    positions, total = service.form_positions(tender, q, page, FORM_PAGE)
    last = revisions[-1] if revisions else None
    return render_template(
        "bids/form.html",
        tender=tender,
        lots=tender.lots,
        positions=positions,
        total=total,
        page=page,
        pages=max(1, -(-total // FORM_PAGE)),
        q=q,
        bid=bid,
        revisions=revisions,
        current=current,
        receipt=service.receipt_of(last, tender, org) if last else None,
        keys=[k for k in signatures_service.user_keys(current_user) if k.revoked_at is None],
        server_now=clock.now(),
        unit=tender_schemas.unit_short,
    )


@bp.post("/tenders/<number>/bid/withdraw")
@login_required
def withdraw(number: str):
    """Withdraw the bid from the form (before the deadline)."""
    tender = tenders.visible_tender(tenders.by_number(number), g.org)
    service.withdraw(current_user, g.org, tender.id)  # a refusal answers 409 with the reason
    commit()
    flash("Your bid is withdrawn.", "success")
    return redirect(url_for("bids.form", number=number))
