"""The customer's cabinet: my tenders, the draft editor, publication, amendments, answers."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError
from sqlalchemy import func, select

from accounts.regions import REGION_OPTIONS
from core import clock
from core.api import flatten_messages
from core.errors import DomainError, Forbidden
from core.extensions import db
from core.forms import parse_form
from core.transaction import commit
from positions import classifiers
from positions.models import Position
from tenders import schemas, service
from tenders.models import STATUSES, Amendment

bp = Blueprint("cabinet", __name__, url_prefix="/cabinet/tenders")
POSITIONS_SHOWN = 50


@bp.before_request
@login_required
def customers_only():
    """Every page here acts for the active organization, which must be a customer."""
    if g.org is None or not g.org.is_customer:
        raise Forbidden("Choose an organization registered as a customer.")


@bp.get("")
def tenders():
    """My tenders by status, and the questions waiting for an answer."""
    mine = service.customer_tenders(g.org)
    by_status = {s: [t for t in mine if t.status == s] for s in STATUSES}
    return render_template(
        "tenders/cabinet_list.html", by_status=by_status, waiting=service.waiting_questions(g.org)
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Start a draft from its header."""
    if request.method == "GET":
        return _header_page({"region_code": g.org.region_code, "timezone": "Europe/Moscow"})
    data, errors = parse_form(schemas.TenderCreate(), request.form)
    if errors:
        return _header_page(request.form, errors, 422)
    try:
        tender = service.create_draft(current_user, g.org, data)
    except DomainError as exc:
        db.session.rollback()
        return _header_page(request.form, {**exc.fields, "_form": [exc.message]}, exc.status)
    commit()
    flash(
        f"Draft {tender.number} created. Add lots, positions and criteria, then publish.", "success"
    )
    return redirect(url_for("cabinet.edit", tender_id=tender.id))


def _header_page(values, errors: dict | None = None, status: int = 200):
    return render_template(
        "tenders/cabinet_new.html",
        values=values,
        errors=errors or {},
        regions_options=REGION_OPTIONS,
    ), status


@bp.get("/<int:tender_id>")
def edit(tender_id: int):
    """The editor of a draft, or the management page of a published tender."""
    return _edit_page(tender_id)


def _edit_page(tender_id: int, errors: dict | None = None, status: int = 200):
    tender = service.own_tender(current_user, g.org, tender_id, for_update=False)
    counts = dict(
        db.session.execute(
            select(Position.lot_id, func.count())
            .where(Position.tender_id == tender.id)
            .group_by(Position.lot_id)
        ).all()
    )
    shown = {
        lot.id: db.session.execute(
            select(Position)
            .where(Position.lot_id == lot.id)
            .order_by(Position.sort_key)
            .limit(POSITIONS_SHOWN)
        )
        .scalars()
        .all()
        for lot in tender.lots
    }
    return render_template(
        "tenders/cabinet_edit.html",
        tender=tender,
        counts=counts,
        shown=shown,
        errors=errors or {},
        values=request.form if errors else {},
        regions_options=REGION_OPTIONS,
        tree=_category_tree(),
        chosen={c.code for c in tender.categories},
        questions=service.all_questions(tender),
        unit_options=[(u.code, f"{u.short} ({u.code})") for u in classifiers.units()],
        amendments=db.session.execute(
            select(Amendment).where(Amendment.tender_id == tender.id).order_by(Amendment.number)
        )
        .scalars()
        .all(),
        local=lambda m: clock.local(m, tender.timezone).strftime("%Y-%m-%dT%H:%M") if m else "",
        unit=schemas.unit_short,
    ), status


def _category_tree() -> list:
    """Sections with their classes and subclasses (groups are searchable in the API)."""
    return [
        (s, [(c, classifiers.children(c.code)) for c in classifiers.children(s.code)])
        for s in classifiers.children(None)
    ]


def _act(tender_id: int, action: Callable[[], object], success: str, anchor: str = ""):
    """Run a service action for this page: commit and go back, or show every problem."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        return _edit_page(tender_id, {**exc.fields, "_form": [exc.message]}, exc.status)
    commit()
    flash(success, "success")
    return redirect(url_for("cabinet.edit", tender_id=tender_id, _anchor=anchor))


def _load(schema: Schema, raw: dict) -> tuple[dict, dict]:
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        return {}, flatten_messages(exc.messages)


def _with_form(
    tender_id: int,
    schema: Schema,
    then: Callable[[dict], object],
    success: str,
    anchor: str = "",
    raw: dict | None = None,
):
    data, errors = _load(schema, raw) if raw is not None else parse_form(schema, request.form)
    if errors:
        return _edit_page(tender_id, errors, 422)
    return _act(tender_id, lambda: then(data), success, anchor)


@bp.post("/<int:tender_id>/header")
def header(tender_id: int):
    """Save a draft's header and categories."""
    return _with_form(
        tender_id,
        schemas.TenderHeader(),
        lambda d: service.update_draft(current_user, g.org, tender_id, d),
        "Saved.",
        "header",
    )


@bp.post("/<int:tender_id>/lots")
def add_lot(tender_id: int):
    """Add a lot."""
    return _with_form(
        tender_id,
        schemas.LotIn(),
        lambda d: service.add_lot(current_user, g.org, tender_id, d),
        "Lot added.",
        "lots",
    )


@bp.post("/<int:tender_id>/lots/<int:lot_id>/delete")
def delete_lot(tender_id: int, lot_id: int):
    """Remove a lot with its positions."""
    return _act(
        tender_id,
        lambda: service.delete_lot(current_user, g.org, tender_id, lot_id),
        "Lot removed.",
        "lots",
    )


@bp.post("/<int:tender_id>/lots/<int:lot_id>/positions")
def add_position(tender_id: int, lot_id: int):
    """Add one position by hand."""
    raw = {k: v for k, v in request.form.items() if v != "" and k != "csrf_token"}
    data, errors = _load(schemas.PositionIn(), raw)
    if errors:
        return _edit_page(tender_id, errors, 422)
    return _act(
        tender_id,
        lambda: service.add_positions(current_user, g.org, tender_id, lot_id, [data]),
        f"Position {data['number']} added.",
        f"lot-{lot_id}",
    )


@bp.post("/<int:tender_id>/positions/<int:position_id>/delete")
def delete_position(tender_id: int, position_id: int):
    """Remove a position."""
    return _act(
        tender_id,
        lambda: service.delete_position(current_user, g.org, tender_id, position_id),
        "Position removed.",
        "lots",
    )


@bp.post("/<int:tender_id>/import")
def import_positions(tender_id: int):
    """Import positions from a CSV file."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _edit_page(tender_id, {"file": ["Choose a CSV file."]}, 422)
    encoding = request.form.get("encoding") or None
    if encoding not in (None, "utf-8", "windows-1251"):
        return _edit_page(tender_id, {"encoding": ["Use UTF-8 or Windows-1251."]}, 422)
    data = upload.read(current_app.config["CSV_MAX_BYTES"] + 1)
    return _act(
        tender_id,
        lambda: service.import_positions(current_user, g.org, tender_id, data, encoding),
        "Positions imported.",
        "lots",
    )


def parse_options(text: str) -> list[dict]:
    """'label = score' per line into options (the schema validates the values)."""
    options = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        label, sep, score = line.rpartition("=")
        if not sep:
            label, score = line, ""
        options.append({"label": label.strip(), "score": score.strip() or "missing"})
    return options


@bp.post("/<int:tender_id>/lots/<int:lot_id>/criteria")
def add_criterion(tender_id: int, lot_id: int):
    """Add a criterion (options as 'label = score' lines)."""
    raw = {
        k: v for k, v in request.form.items() if v != "" and k not in ("csrf_token", "options_text")
    }
    raw["required"] = "required" in request.form
    raw["options"] = parse_options(request.form.get("options_text", ""))
    return _with_form(
        tender_id,
        schemas.CriterionIn(),
        lambda d: service.add_criterion(current_user, g.org, tender_id, lot_id, d),
        "Criterion added.",
        f"lot-{lot_id}",
        raw=raw,
    )


@bp.post("/<int:tender_id>/criteria/<int:criterion_id>/delete")
def delete_criterion(tender_id: int, criterion_id: int):
    """Remove a criterion."""
    return _act(
        tender_id,
        lambda: service.delete_criterion(current_user, g.org, tender_id, criterion_id),
        "Criterion removed.",
        "lots",
    )


@bp.post("/<int:tender_id>/documents")
def add_document(tender_id: int):
    """Attach a document (an amendment once published)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _edit_page(tender_id, {"file": ["Choose a file."]}, 422)
    return _act(
        tender_id,
        lambda: service.add_document(
            current_user,
            g.org,
            tender_id,
            upload.filename,
            upload.stream,
            request.form.get("summary", ""),
        ),
        "Document added.",
        "documents",
    )


@bp.post("/<int:tender_id>/publish")
def publish(tender_id: int):
    """Publish the draft (every problem is listed if it cannot be)."""
    return _act(
        tender_id,
        lambda: service.publish(current_user, g.org, tender_id),
        "Published: suppliers can see it and bid.",
    )


@bp.post("/<int:tender_id>/amend")
def amend(tender_id: int):
    """A numbered amendment of a published tender."""
    raw = {k: v for k, v in request.form.items() if v != "" and k != "csrf_token"}
    specs = {}
    for line in request.form.get("specifications_text", "").splitlines():
        number, sep, text = line.partition(":")
        if sep and number.strip():
            specs[number.strip()] = text.strip()
    raw.pop("specifications_text", None)
    raw["specifications"] = specs
    return _with_form(
        tender_id,
        schemas.AmendmentIn(),
        lambda d: service.amend(current_user, g.org, tender_id, d),
        "Amendment published.",
        "amend",
        raw=raw,
    )


@bp.post("/<int:tender_id>/cancel")
def cancel(tender_id: int):
    """Cancel with a reason."""
    return _with_form(
        tender_id,
        schemas.CancelIn(),
        lambda d: service.cancel(current_user, g.org, tender_id, d["reason"]),
        "Tender cancelled.",
    )


@bp.post("/<int:tender_id>/copy")
def copy(tender_id: int):
    """Copy into a new draft."""
    try:
        draft = service.copy(current_user, g.org, tender_id)
    except DomainError as exc:
        db.session.rollback()
        return _edit_page(tender_id, {"_form": [exc.message]}, exc.status)
    commit()
    flash(f"Copied into the new draft {draft.number}.", "success")
    return redirect(url_for("cabinet.edit", tender_id=draft.id))


@bp.post("/<int:tender_id>/questions/<int:question_id>/answer")
def answer(tender_id: int, question_id: int):
    """Answer a clarification question (published without the asker)."""
    return _with_form(
        tender_id,
        schemas.AnswerIn(),
        lambda d: service.answer(current_user, g.org, tender_id, question_id, d["answer"]),
        "Answer published.",
        "questions",
    )
