"""The bidding API: prepare the payload to sign, submit a signed revision, withdraw, read
one's own bid, the offers table, the document vault; and the bid form's pages."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bids import documents, offers, schemas, service
from core import clock
from core.api import API_PREFIX, actor, route
from core.errors import Invalid, NotFound
from core.extensions import db
from core.files import send_document
from core.transaction import commit
from signatures import service as signatures_service
from tenders import schemas as tender_schemas
from tenders import service as tenders

api = Blueprint("bids_api", __name__, url_prefix=API_PREFIX)


@route(
    api,
    "/tenders/<int:tender_id>/bid/prepare",
    "POST",
    summary="The payload to sign",
    body=schemas.OfferIn,
    response=schemas.PreparedOut,
    tag="bids",
    errors=("bidding_closed", "tender_not_open"),
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
    errors=("bidding_closed", "tender_not_open", "bid_changed"),
)
def api_submit(tender_id: int, body: dict):
    """Accepted only before the deadline (409 bidding_closed names it in the tender's zone),
    with a valid signature over the prepared payload; may extend the deadline (DESIGN.md's
    30-minute rule)."""
    user, org = actor()
    revision = service.submit(user, org, tender_id, body, body["key_id"], body["signature"])
    revision.documents  # noqa: B018 - loaded now, shown after the commit without a re-read
    commit(keep_loaded=True)
    return revision


@route(
    api,
    "/tenders/<int:tender_id>/bid/withdraw",
    "POST",
    summary="Withdraw my bid",
    response=schemas.BidOut,
    tag="bids",
    errors=("bidding_closed", "tender_not_open", "no_active_bid"),
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


# -- the organization's document vault ---------------------------------------------------------


@route(
    api,
    "/documents",
    "GET",
    summary="The documents in my organization's vault",
    response=schemas.VaultDocumentOut(many=True),
    tag="bids",
)
def api_vault():
    """Documents that can be attached to bid revisions (by id, in `documents`)."""
    return documents.vault(*actor())


@route(
    api,
    "/documents",
    "POST",
    summary="Upload a document to the vault (multipart field 'file', optional 'title')",
    response=schemas.VaultDocumentOut,
    status=201,
    tag="bids",
)
def api_upload_document():
    """Charter, registry extract, licences, technical proposals: attach them to revisions."""
    upload = request.files.get("file")
    if upload is None:
        raise Invalid("Send the file as multipart field 'file'.", {"file": "Missing."})
    document = documents.upload(
        *actor(), upload.filename or "", upload.stream, request.form.get("title", "")
    )
    commit()
    return document


@route(
    api,
    "/documents/<int:document_id>/archive",
    "POST",
    summary="Archive a vault document (revisions that signed it keep it)",
    response=schemas.VaultDocumentOut,
    tag="bids",
)
def api_archive_document(document_id: int):
    document = documents.archive(*actor(), document_id)
    commit()
    return document


@route(
    api,
    "/documents/<int:document_id>/content",
    "GET",
    summary="Download a vault or bid document",
    tag="bids",
)
def api_document_content(document_id: int):
    """The file: the organization's own, or one attached to a bid on the caller's tender once
    bidding has closed."""
    return _send(documents.for_download(*actor(), document_id))


def _send(document):
    return send_document(
        document.sha256,
        f"organization document {document.id} ({document.filename})",
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
        max_age=0,
    )


# -- pages -------------------------------------------------------------------------------------

bp = Blueprint("bids", __name__)
FORM_PAGE = 50
OFFERS_PAGE = 100  # as many as the notice shows per page of positions


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
    page = _page()
    found = tenders.positions_page(tender, page, FORM_PAGE, q=q)
    positions, total = found["items"], found["total"]
    last = revisions[-1] if revisions else None
    vault = documents.vault(current_user, org)
    attached_ids = {d.document_id for d in last.documents} if last else set()
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
        closed_notice=service.closed_notice(tender, clock.now()),
        unit=tender_schemas.unit_short,
        vault=vault,
        attached_ids=attached_ids,
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


@bp.route("/cabinet/documents", methods=["GET", "POST"])
@login_required
def vault():
    """The organization's document vault: upload once, attach to any bid revision."""
    errors: dict = {}
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise Invalid("Choose a file to upload.", {"file": "Missing."})
            documents.upload(
                current_user, g.org, upload.filename, upload.stream, request.form.get("title", "")
            )
            commit()
            flash("Document added to the vault.", "success")
            return redirect(url_for("bids.vault"))
        except Invalid as exc:
            db.session.rollback()
            errors, status = {**exc.fields, "_form": [exc.message]}, exc.status
    return render_template(
        "bids/vault.html", documents=documents.vault(current_user, g.org), errors=errors
    ), status


@bp.post("/cabinet/documents/<int:document_id>/archive")
@login_required
def archive_document(document_id: int):
    documents.archive(current_user, g.org, document_id)
    commit()
    flash("Document archived; revisions that were signed with it keep it.", "success")
    return redirect(url_for("bids.vault"))


@bp.get("/documents/<int:document_id>")
@login_required
def download_document(document_id: int):
    """A vault or bid document, for whoever may read it."""
    return _send(documents.for_download(current_user, g.org, document_id))


@bp.get("/tenders/<number>/offers")
@login_required
def offers_fragment(number: str):
    """The offers section alone, as the notice shows it to this viewer (live refreshes)."""
    tender = tenders.visible_tender(tenders.by_number(number), g.org)
    if g.org is None:
        return "", 204
    table = offers.table(tender, g.org, _page(), OFFERS_PAGE)
    return render_template("tenders/_offers.html", tender=tender, offers=table)


def _page() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
