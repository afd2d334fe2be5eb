"""The bidding API: prepare the payload to sign, submit a signed revision, withdraw, read
one's own bid, the offers table, the document vault; and the bid form's pages."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.schemas import ResponsibleSchema
from accounts.service import members, membership
from bids import documents, offers, schemas, service
from core import clock
from core.api import API_PREFIX, actor, route, translate
from core.errors import Invalid, NotFound
from core.extensions import db
from core.files import send_document
from core.forms import parse_form
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
    errors=("bidding_closed", "tender_not_open", "bid_changed", "approval_required"),
)
def api_submit(tender_id: int, body: dict):
    """Accepted only before the deadline (409 bidding_closed names it in the tender's zone),
    with a valid signature over the prepared payload; may extend the deadline (DESIGN.md's
    30-minute rule)."""
    user, org = actor()
    accepted = service.submit(user, org, tender_id, body, body["key_id"], body["signature"])
    commit(keep_loaded=True)
    return accepted


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
    "/tenders/<int:tender_id>/bid/responsible",
    "PUT",
    summary="Put another member in charge of my organization's bid",
    body=ResponsibleSchema,
    response=schemas.BidOut,
    tag="bids",
)
def api_reassign(tender_id: int, body: dict):
    """Managers only; the new responsible person must be a member who signs bids (a
    manager or a specialist). Audited in the tender's chain."""
    bid = service.reassign(*actor(), tender_id, body["user_id"])
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
    """Only the bidder's own organization sees it: its managers, observers and
    administrators, and the specialist responsible for it."""
    bid, _revisions = service.my_bid(*actor(), tender_id)
    if bid is None:
        raise NotFound(_("Your organization has not bid on this tender."))
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
    user = getattr(g, "api_user", None)
    org = getattr(g, "org", None) if user else None
    tender = tenders.visible_tender(tenders.get_tender(tender_id), org, user)
    return offers.table(
        tender, service.viewing_org(user, org, tender), query["page"], query["per_page"]
    )


@route(
    api,
    "/tenders/<int:tender_id>/bid/standing",
    "GET",
    summary="Best price, own price and own rank per position (the bid form)",
    query=schemas.StandingIn,
    response=schemas.StandingOut,
    tag="bids",
)
def api_standing(tender_id: int, query: dict):
    """Where the caller's offer stands on some positions, as the tender's visibility lets it
    see: the best price and its own rank by price (rank_only, or open_after_own_bid once its
    bid is in); nothing but the number of bids when sealed or before its own bid."""
    user, org = actor()
    tender = tenders.visible_tender(tenders.get_tender(tender_id), org, user)
    org = service.viewing_org(user, org, tender)
    numbers = [n.strip() for n in query["positions"].split(",") if n.strip()][:STANDING_MAX]
    return offers.standing(tender, org, numbers)


STANDING_MAX = 500  # positions per question (the form asks for its page: 50)


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
        raise Invalid(_("Send the file as multipart field 'file'."), {"file": _("Missing.")})
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


@bp.app_template_global("notice_offers")
def notice_offers(tender, page: int, per_page: int) -> dict | None:
    """The offers on the notice page: one page of positions, as this viewer may see them."""
    org = g.org if current_user.is_authenticated else None
    org = service.viewing_org(current_user, org, tender) if org else None
    return offers.table(tender, org, page, per_page) if org else None


FORM_PAGE = 50
OFFERS_PAGE = 100  # as many as the notice shows per page of positions


@bp.get("/tenders/<number>/bid")
@login_required
def form(number: str):
    """The supplier's bid form: prices per position, criteria, the countdown, the receipt of
    the last revision. Signing happens in the browser (the private key never leaves it)."""
    tender = tenders.visible_tender(tenders.by_number(number), g.org)
    org = g.org
    service.check_bidder(current_user, org, tender, signing=False)
    bid, revisions = service.my_bid(current_user, org, tender.id)  # those who see it
    member = membership(current_user, org.id)
    listed = members(org.id)
    people = {m.user_id: f"{m.user.name} ({m.user.email})" for m in listed}
    current = service.current_offer(tender, bid)
    q = request.args.get("q", "").strip()[:100]
    page = _page()
    found = tenders.positions_page(tender, page, FORM_PAGE, q=q)
    positions, total = found["items"], found["total"]
    last = revisions[-1] if revisions else None
    vault = documents.vault(current_user, org)
    attached_ids = {d.document_id for d in last.documents} if last else set()
    standing = offers.standing(tender, org, [p.number for p in positions])
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
        signed_with=signatures_service.signature_line(
            signatures_service.signature_view(last.signing_key_id) if last else None
        ),
        keys=[k for k in signatures_service.user_keys(current_user) if k.revoked_at is None],
        server_now=clock.now(),
        closed_notice=service.closed_notice(tender, clock.now())
        or service.sign_refusal(current_user, org, bid),
        people=people,
        may_reassign=bid is not None and member.may("approve"),
        signers=[(m.user_id, people[m.user_id]) for m in listed if m.may("sign")],
        unit=tender_schemas.unit_short,
        vault=vault,
        attached_ids=attached_ids,
        standing=standing,
        standing_by={s["position"]: s for s in standing["positions"]},
    )


@bp.post("/tenders/<number>/bid/responsible")
@login_required
def reassign(number: str):
    """A manager puts another member in charge of the organization's bid."""
    tender = tenders.visible_tender(tenders.by_number(number), g.org)
    data, errors = parse_form(ResponsibleSchema(), request.form)
    if errors:
        raise Invalid(_("Choose a member."), errors)
    service.reassign(current_user, g.org, tender.id, data["user_id"])
    commit()
    flash(_("Responsible person changed."), "success")
    return redirect(url_for("bids.form", number=number))


@bp.post("/tenders/<number>/bid/withdraw")
@login_required
def withdraw(number: str):
    """Withdraw the bid from the form (before the deadline)."""
    tender = tenders.visible_tender(tenders.by_number(number), g.org)
    service.withdraw(current_user, g.org, tender.id)  # a refusal answers 409 with the reason
    commit()
    flash(_("Your bid is withdrawn."), "success")
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
                raise Invalid(_("Choose a file to upload."), {"file": _("Missing.")})
            documents.upload(
                current_user, g.org, upload.filename, upload.stream, request.form.get("title", "")
            )
            commit()
            flash(_("Document added to the vault."), "success")
            return redirect(url_for("bids.vault"))
        except Invalid as exc:
            db.session.rollback()
            fields = {k: [translate(m) for m in v] for k, v in exc.fields.items()}
            errors, status = {**fields, "_form": [translate(exc.message)]}, exc.status
    return render_template(
        "bids/vault.html", documents=documents.vault(current_user, g.org), errors=errors
    ), status


@bp.post("/cabinet/documents/<int:document_id>/archive")
@login_required
def archive_document(document_id: int):
    documents.archive(current_user, g.org, document_id)
    commit()
    flash(_("Document archived; revisions that were signed with it keep it."), "success")
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
    org = service.viewing_org(current_user, g.org, tender) if g.org is not None else None
    if org is None:
        return "", 204
    table = offers.table(tender, org, _page(), OFFERS_PAGE)
    return render_template("tenders/_offers.html", tender=tender, offers=table)


def _page() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
