"""Public pages: home, the tender registry with search, the notice, clarifications."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from accounts.regions import REGIONS
from accounts.service import membership
from core import clock
from core.api import flatten_messages, translate
from core.errors import DomainError, Invalid
from core.extensions import db
from core.files import send_document
from core.forms import link_args, parse_form
from core.transaction import commit
from positions import classifiers
from positions.xlsx_rules import CONTENT_TYPE as XLSX_CONTENT_TYPE
from tenders import schemas, search, service, xlsx_export
from tenders.models import Amendment
from tenders.rules import questions_open

bp = Blueprint("main", __name__)
POSITIONS_PER_PAGE = 100


def _org():
    return g.org if current_user.is_authenticated else None


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.get("/")
def index():
    """Home page: search box and the newest tenders."""
    latest, total = search.search(search.Filters(per_page=10))
    return render_template("main/index.html", latest=latest, total=total)


@bp.get("/tenders")
def registry():
    """The registry: quick search, filters, sorting, pages."""
    errors: dict = {}
    try:
        query = schemas.SearchQuery().load(request.args.to_dict())
    except ValidationError as exc:
        errors = flatten_messages(exc.messages)
        query = schemas.SearchQuery().load({})
    items, total = search.search(search.Filters(**query))
    pages = max(1, -(-total // query["per_page"]))
    return render_template(
        "tenders/registry.html",
        items=items,
        total=total,
        query=query,
        pages=pages,
        errors=errors,
        regions=REGIONS,
        args=request.args,
        link_args=link_args(schemas.SearchQuery(), request.args),
        sections=classifiers.children(None),
    ), (400 if errors else 200)


@bp.get("/tenders.xlsx")
def registry_xlsx():
    """The registry's search results (same filters and order) as an Excel workbook."""
    try:
        query = schemas.SearchQuery().load(request.args.to_dict())
    except ValidationError as exc:
        errors = flatten_messages(exc.messages)
        raise Invalid("Correct the search.", errors) from None
    query = {**query, "page": 1, "per_page": xlsx_export.EXPORT_LIMIT}
    items, total = search.search(search.Filters(**query))
    shown = "&".join(f"{k}={v}" for k, v in request.args.items(multi=True) if v)
    data = xlsx_export.registry_workbook(items, total, request.host_url.rstrip("/"), shown)
    return Response(
        data,
        content_type=XLSX_CONTENT_TYPE,
        headers={"Content-Disposition": 'attachment; filename="tenders.xlsx"'},
    )


@bp.get("/tenders/<number>")
def notice(number: str):
    """The public notice of a tender."""
    tender = service.visible_tender(service.by_number(number), _org(), _user())
    return _notice_page(tender)


def _notice_page(tender, errors: dict | None = None, status: int = 200):
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    positions = service.positions_page(tender, page, POSITIONS_PER_PAGE)
    org = _org()
    amendments = (
        db.session.execute(
            db.select(Amendment).where(Amendment.tender_id == tender.id).order_by(Amendment.number)
        )
        .scalars()
        .all()
    )
    return render_template(
        "tenders/notice.html",
        tender=tender,
        positions=positions,
        pages=max(1, -(-positions["total"] // POSITIONS_PER_PAGE)),
        questions=service.public_questions(tender),
        my_questions=service.own_questions(org, tender) if org else [],
        amendments=amendments,
        can_ask=_can_ask(tender, org) and _may("prepare"),
        can_bid=_can_bid(tender, org) and _may("sign"),
        can_bid_once_accredited=(
            org is not None
            and org.accreditation_status == "pending"
            and _can_bid(tender, org, accredited=True)
        ),
        is_customer=service.sees_tender(_user(), org, tender),
        server_now=clock.now(),
        errors=errors or {},
        values=request.form,
        unit=schemas.unit_short,
        category_name=schemas.category_name,
    ), status


def _may(right: str) -> bool:
    """Whether the user's roles in the active organization hold the right (the services
    check again, for the bid its responsible person too)."""
    m = membership(current_user, g.org.id) if _org() is not None else None
    return m is not None and m.may(right)


def _can_bid(tender, org, *, accredited: bool = False) -> bool:
    """Whether the organization may bid now (``accredited``: once the operator accredits it;
    the page shows the button when the live decision arrives)."""
    return (
        org is not None
        and (org.is_accredited or accredited)
        and org.is_supplier
        and org.id != tender.customer_id
        and tender.status == "published"
        and clock.now() < tender.bid_deadline
    )


def _can_ask(tender, org) -> bool:
    return (
        org is not None
        and org.is_accredited
        and org.is_supplier
        and org.id != tender.customer_id
        and questions_open(tender.status, tender.questions_until, tender.bid_deadline, clock.now())
    )


@bp.get("/tenders/<number>/documents/<int:document_id>")
def document(number: str, document_id: int):
    """Download a document of the notice."""
    tender = service.visible_tender(service.by_number(number), _org(), _user())
    doc = service.document_for_download(tender, document_id)
    return send_document(
        doc.sha256,
        f"tender {tender.number} document {doc.id} ({doc.filename})",
        mimetype=doc.content_type,
        as_attachment=True,
        download_name=doc.filename,
        max_age=3600,
    )


@bp.post("/tenders/<number>/questions")
@login_required
def ask(number: str):
    """A supplier asks a clarification question."""
    tender = service.visible_tender(service.by_number(number), _org(), _user())
    data, errors = parse_form(schemas.QuestionIn(), request.form)
    if errors:
        return _notice_page(tender, errors, 422)
    try:
        service.ask(current_user, g.org, tender.id, data["text"])
    except DomainError as exc:
        db.session.rollback()
        fields = {k: [translate(m) for m in v] for k, v in exc.fields.items()}
        return _notice_page(tender, {**fields, "_form": [translate(exc.message)]}, exc.status)
    commit()
    flash(
        _("Your question was sent. The answer will be published here without your name."),
        "success",
    )
    return redirect(url_for("main.notice", number=number, _anchor="clarifications"))
