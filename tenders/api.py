"""The tenders JSON API (/api/v1/tenders...): the same services as the pages."""

from __future__ import annotations

from flask import Blueprint, g, request
from flask_babel import gettext as _
from sqlalchemy import select

from core.api import API_PREFIX, actor, route
from core.errors import Forbidden, Invalid
from core.extensions import db
from core.transaction import commit
from positions import classifiers
from tenders import schemas, search, service
from tenders.models import Amendment

api = Blueprint("tenders_api", __name__, url_prefix=API_PREFIX)


def _visible(tender_id: int):
    user = getattr(g, "api_user", None)
    org = getattr(g, "org", None) if user else None
    return service.visible_tender(service.get_tender(tender_id), org, user)


@route(
    api,
    "/tenders",
    "GET",
    summary="Search the registry",
    query=schemas.SearchQuery,
    response=schemas.SearchResult,
    auth="optional",
    tag="tenders",
)
def api_search(query: dict):
    """Quick search (number, words of the title and positions) and filters; published only."""
    items, total = search.search(search.Filters(**query))
    return {"items": items, "total": total, "page": query["page"], "per_page": query["per_page"]}


@route(
    api,
    "/tenders",
    "POST",
    summary="Create a draft",
    body=schemas.TenderCreate,
    response=schemas.TenderOut,
    status=201,
    tag="tenders",
)
def api_create(body: dict):
    """A customer creates a draft, optionally with lots, positions and criteria."""
    tender = service.create_draft(*actor(), body)
    commit()
    return tender


@route(
    api,
    "/tenders/<int:tender_id>",
    "GET",
    summary="A tender's notice",
    response=schemas.TenderOut,
    auth="optional",
    tag="tenders",
)
def api_get(tender_id: int):
    """Public once published; a draft only for its customer."""
    return _visible(tender_id)


@route(
    api,
    "/tenders/<int:tender_id>",
    "PATCH",
    summary="Edit a draft's header",
    body=schemas.TenderHeader,
    response=schemas.TenderOut,
    tag="tenders",
)
def api_update(tender_id: int, body: dict):
    """Only drafts; a published tender changes by amendments."""
    tender = service.update_draft(*actor(), tender_id, body)
    commit()
    return tender


@route(
    api,
    "/tenders/<int:tender_id>/positions",
    "GET",
    summary="Positions, paged",
    query=schemas.PageQuery,
    response=schemas.PositionPage,
    auth="optional",
    tag="tenders",
)
def api_positions(tender_id: int, query: dict):
    """Positions in number order, optionally of one lot."""
    tender = _visible(tender_id)
    return service.positions_page(tender, query["page"], query["per_page"], query["lot"])


@route(
    api,
    "/tenders/<int:tender_id>/lots",
    "POST",
    summary="Add a lot to a draft",
    body=schemas.LotIn,
    response=schemas.LotOut,
    status=201,
    tag="tenders",
)
def api_add_lot(tender_id: int, body: dict):
    """With its positions and criteria, if given."""
    lot = service.add_lot(*actor(), tender_id, body)
    commit()
    return lot


@route(
    api,
    "/tenders/<int:tender_id>/lots/<int:lot_id>",
    "PATCH",
    summary="Edit a draft lot",
    body=schemas.LotUpdate,
    response=schemas.LotOut,
    tag="tenders",
)
def api_update_lot(tender_id: int, lot_id: int, body: dict):
    """Title, award mode, price weight."""
    lot = service.update_lot(*actor(), tender_id, lot_id, body)
    commit()
    return lot


@route(
    api,
    "/tenders/<int:tender_id>/lots/<int:lot_id>",
    "DELETE",
    summary="Remove a draft lot",
    status=204,
    tag="tenders",
)
def api_delete_lot(tender_id: int, lot_id: int):
    """With its positions and criteria."""
    service.delete_lot(*actor(), tender_id, lot_id)
    commit()


@route(
    api,
    "/tenders/<int:tender_id>/lots/<int:lot_id>/positions",
    "POST",
    summary="Add positions to a draft lot",
    body=schemas.PositionsIn,
    response=schemas.PositionOut(many=True),
    status=201,
    tag="tenders",
)
def api_add_positions(tender_id: int, lot_id: int, body: dict):
    """All or none."""
    added = service.add_positions(*actor(), tender_id, lot_id, body["positions"])
    commit()
    return added


@route(
    api,
    "/tenders/<int:tender_id>/positions/<int:position_id>",
    "DELETE",
    summary="Remove a draft position",
    status=204,
    tag="tenders",
)
def api_delete_position(tender_id: int, position_id: int):
    """Drafts only."""
    service.delete_position(*actor(), tender_id, position_id)
    commit()


@route(
    api,
    "/tenders/<int:tender_id>/positions/import",
    "POST",
    summary="Import positions from CSV (text/csv body)",
    status=201,
    tag="tenders",
)
def api_import_positions(tender_id: int):
    """The body is the CSV file; every problem is listed with its line; all or nothing.
    `?encoding=utf-8|windows-1251` overrides the detection."""
    encoding = request.args.get("encoding") or None
    if encoding not in (None, "utf-8", "windows-1251"):
        raise Invalid(_("Unsupported encoding."), {"encoding": _("Use utf-8 or windows-1251.")})
    count = service.import_positions(*actor(), tender_id, request.get_data(), encoding)
    commit()
    return {"imported": count}


@route(
    api,
    "/tenders/<int:tender_id>/lots/<int:lot_id>/criteria",
    "POST",
    summary="Add a criterion to a draft lot",
    body=schemas.CriterionIn,
    response=schemas.CriterionOut,
    status=201,
    tag="tenders",
)
def api_add_criterion(tender_id: int, lot_id: int, body: dict):
    """Kinds number, boolean, choice (with options), text."""
    criterion = service.add_criterion(*actor(), tender_id, lot_id, body)
    commit()
    return criterion


@route(
    api,
    "/tenders/<int:tender_id>/criteria/<int:criterion_id>",
    "DELETE",
    summary="Remove a draft criterion",
    status=204,
    tag="tenders",
)
def api_delete_criterion(tender_id: int, criterion_id: int):
    """Drafts only."""
    service.delete_criterion(*actor(), tender_id, criterion_id)
    commit()


@route(
    api,
    "/tenders/<int:tender_id>/documents",
    "POST",
    summary="Attach a document (multipart field 'file')",
    response=schemas.DocumentOut,
    status=201,
    tag="tenders",
)
def api_add_document(tender_id: int):
    """After publication this is an amendment: send a 'summary' form field too."""
    upload = request.files.get("file")
    if upload is None:
        raise Invalid(_("Send the file as multipart field 'file'."), {"file": _("Missing.")})
    document = service.add_document(
        *actor(),
        tender_id,
        upload.filename or "",
        upload.stream,
        request.form.get("summary", ""),
    )
    commit()
    return document


@route(
    api,
    "/tenders/<int:tender_id>/publish",
    "POST",
    summary="Publish a draft",
    response=schemas.TenderOut,
    tag="tenders",
    errors=("approval_required",),
)
def api_publish(tender_id: int):
    """Every problem is listed at once in error.fields."""
    tender = service.publish(*actor(), tender_id)
    commit()
    return tender


@route(
    api,
    "/tenders/<int:tender_id>/amendments",
    "POST",
    summary="Amend a published tender",
    body=schemas.AmendmentIn,
    response=schemas.AmendmentOut,
    status=201,
    tag="tenders",
    errors=("bidding_closed", "approval_required"),
)
def api_amend(tender_id: int, body: dict):
    """Description, later deadlines, positions' specifications; numbered and audited."""
    amendment = service.amend(*actor(), tender_id, body)
    commit()
    return amendment


@route(
    api,
    "/cabinet/tenders",
    "GET",
    summary="The customer's own tenders: mine, or all by responsible person",
    query=schemas.CabinetQuery,
    response=schemas.CabinetTenderOut(many=True),
    tag="tenders",
)
def api_cabinet_tenders(query: dict):
    """scope "mine" (those the caller is responsible for or prepared; the default for a
    specialist) or "all" (managers, observers, administrators; their default), optionally of
    one responsible person (`responsible`, a user id) and one status. Newest first, 500 at
    most."""
    user, org = actor()
    if org is None:
        raise Forbidden(_("Choose an organization first."))
    return service.customer_tenders(
        org,
        query["status"],
        user=user,
        scope=query["scope"],
        responsible_id=query["responsible"],
    )


@route(
    api,
    "/tenders/<int:tender_id>/responsible",
    "PUT",
    summary="Put another member in charge of a tender",
    body=schemas.ResponsibleIn,
    response=schemas.CabinetTenderOut,
    tag="tenders",
)
def api_reassign(tender_id: int, body: dict):
    """Managers only; the new responsible person must be a member who prepares tenders
    (a manager or a specialist). Audited in the tender's chain."""
    tender = service.reassign(*actor(), tender_id, body["user_id"])
    commit()
    return tender


@route(
    api,
    "/tenders/<int:tender_id>/amendments",
    "GET",
    summary="A tender's amendments",
    response=schemas.AmendmentOut(many=True),
    auth="optional",
    tag="tenders",
)
def api_amendments(tender_id: int):
    """Oldest first."""
    tender = _visible(tender_id)
    return (
        db.session.execute(
            select(Amendment).where(Amendment.tender_id == tender.id).order_by(Amendment.number)
        )
        .scalars()
        .all()
    )


@route(
    api,
    "/tenders/<int:tender_id>/cancel",
    "POST",
    summary="Cancel with a reason",
    body=schemas.CancelIn,
    response=schemas.TenderOut,
    tag="tenders",
    errors=("approval_required",),
)
def api_cancel(tender_id: int, body: dict):
    """From draft or published."""
    tender = service.cancel(*actor(), tender_id, body["reason"])
    commit()
    return tender


@route(
    api,
    "/tenders/<int:tender_id>/copy",
    "POST",
    summary="Copy into a new draft",
    response=schemas.TenderOut,
    status=201,
    tag="tenders",
)
def api_copy(tender_id: int):
    """Same header, categories, lots, positions and criteria; no deadlines."""
    tender = service.copy(*actor(), tender_id)
    commit()
    return tender


@route(
    api,
    "/tenders/<int:tender_id>/questions",
    "GET",
    summary="Clarifications",
    response=schemas.QuestionOut(many=True),
    auth="optional",
    tag="tenders",
)
def api_questions(tender_id: int):
    """Answered questions (never who asked), plus the caller's own unanswered ones."""
    tender = _visible(tender_id)
    published = service.public_questions(tender)
    org = getattr(g, "org", None) if getattr(g, "api_user", None) else None
    if org is not None:
        mine = [q for q in service.own_questions(org, tender) if q.answer is None]
        published = published + mine
    if service.sees_tender(getattr(g, "api_user", None), org, tender):
        published = service.all_questions(tender)
    return published


@route(
    api,
    "/tenders/<int:tender_id>/questions",
    "POST",
    summary="Ask a question",
    body=schemas.QuestionIn,
    response=schemas.QuestionOut,
    status=201,
    tag="tenders",
)
def api_ask(tender_id: int, body: dict):
    """Accredited suppliers, until the questions deadline."""
    question = service.ask(*actor(), tender_id, body["text"])
    commit()
    return question


@route(
    api,
    "/tenders/<int:tender_id>/questions/<int:question_id>/answer",
    "POST",
    summary="Answer a question",
    body=schemas.AnswerIn,
    response=schemas.QuestionOut,
    tag="tenders",
)
def api_answer(tender_id: int, question_id: int, body: dict):
    """The customer only; published on the notice without the asker."""
    question = service.answer(*actor(), tender_id, question_id, body["answer"])
    commit()
    return question


@route(
    api, "/categories", "GET", summary="Search the OKPD2 classifier", auth=False, tag="reference"
)
def api_categories():
    """?q=words or code prefix; ?parent=code lists children (sections without it)."""
    q, parent = request.args.get("q", "")[:100], request.args.get("parent")
    found = classifiers.search_categories(q) if q else classifiers.children(parent or None)
    return [{"code": c.code, "name": c.name, "parent": c.parent, "level": c.level} for c in found]


@route(api, "/units", "GET", summary="OKEI units of measure", auth=False, tag="reference")
def api_units():
    """All units the platform knows."""
    return [
        {"code": u.code, "name": u.name, "short": u.short, "short_en": u.short_en}
        for u in classifiers.units()
    ]
