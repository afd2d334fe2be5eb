"""The customer's cabinet: my tenders, the draft editor, publication, amendments, answers."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError
from sqlalchemy import func, select

from accounts.regions import REGIONS
from accounts.service import members, require_member
from core import clock, formats
from core.api import flatten_messages, translate
from core.errors import DomainError, Forbidden
from core.extensions import db
from core.forms import parse_form, parse_query
from core.transaction import commit
from positions import classifiers
from positions import xlsx_template as positions_xlsx
from positions.models import Position
from positions.xlsx_rules import CONTENT_TYPE as XLSX_CONTENT_TYPE
from tenders import rules, schemas, service
from tenders.models import STATUSES, Amendment

bp = Blueprint("cabinet", __name__, url_prefix="/cabinet/tenders")
POSITIONS_SHOWN = 50
DEFAULT_ZONE = "Europe/Moscow"
# The zones of Russia's regions, west to east (the picker of the header).
ZONES = [
    ("Europe/Kaliningrad", _l("Kaliningrad (UTC+2)")),
    ("Europe/Moscow", _l("Moscow (UTC+3)")),
    ("Europe/Samara", _l("Samara (UTC+4)")),
    ("Asia/Yekaterinburg", _l("Yekaterinburg (UTC+5)")),
    ("Asia/Omsk", _l("Omsk (UTC+6)")),
    ("Asia/Novosibirsk", _l("Novosibirsk (UTC+7)")),
    ("Asia/Krasnoyarsk", _l("Krasnoyarsk (UTC+7)")),
    ("Asia/Irkutsk", _l("Irkutsk (UTC+8)")),
    ("Asia/Yakutsk", _l("Yakutsk (UTC+9)")),
    ("Asia/Vladivostok", _l("Vladivostok (UTC+10)")),
    ("Asia/Magadan", _l("Magadan (UTC+11)")),
    ("Asia/Kamchatka", _l("Kamchatka (UTC+12)")),
]
# The header's inputs: their problems stand beside them (the rest are listed on top).
HEADER_INPUTS = frozenset(rules.HEADER_LABELS) - {"categories", "lots", "latest_close"}


@bp.before_request
@login_required
def customers_only():
    """Every page here acts for the active organization, which must be a customer."""
    if g.org is None or not g.org.is_customer:
        raise Forbidden(_("Choose an organization registered as a customer."))


@bp.get("")
def tenders():
    """My tenders by status ("mine", or "all" for those who see all, by responsible person),
    and the questions waiting for an answer."""
    data, errors = parse_query(schemas.CabinetQuery(), request.args)
    member = require_member(current_user, g.org.id)
    scope = data.get("scope") or service.default_scope(member)
    listed = service.customer_tenders(
        g.org, user=current_user, scope=scope, responsible_id=data.get("responsible")
    )
    by_status = {s: [t for t in listed if t.status == s] for s in STATUSES}
    return render_template(
        "tenders/cabinet_list.html",
        by_status=by_status,
        waiting=service.waiting_questions(g.org, current_user),
        scope=scope,
        sees_all=member.may("see_all"),
        may_prepare_any=member.may("prepare"),
        responsible=data.get("responsible"),
        people=_people(),
        errors=errors,
    ), (422 if errors else 200)


def _people(listed=None) -> dict[int, str]:
    """The organization's members (or those listed) by user id: name (email)."""
    listed = members(g.org.id) if listed is None else listed
    return {m.user_id: f"{m.user.name} ({m.user.email})" for m in listed}


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Start a draft from its header and categories."""
    if request.method == "GET":
        return _header_page({"region_code": g.org.region_code, "timezone": DEFAULT_ZONE})
    data, errors = parse_form(schemas.TenderCreate(), request.form)
    if errors:
        return _header_page(request.form, errors, 422)
    try:
        tender = service.create_draft(current_user, g.org, data)
    except DomainError as exc:
        db.session.rollback()
        return _header_page(request.form, _problems(exc), exc.status)
    commit()
    flash(
        _(
            "Draft %(number)s created. Add lots, positions and criteria, then publish.",
            number=tender.number,
        ),
        "success",
    )
    return redirect(url_for("cabinet.edit", tender_id=tender.id))


def _header_page(values, errors: dict | None = None, status: int = 200):
    errors = errors or {}
    chosen = set(values.getlist("categories")) if hasattr(values, "getlist") else set()
    return render_template(
        "tenders/cabinet_new.html",
        values=values,
        errors=errors,
        notes=_notes(errors),
        regions_options=region_options(),
        zone_options=zone_options(values.get("timezone")),
        tree=classifiers.category_tree(),
        chosen=chosen,
        deeper=_deeper(chosen),
    ), status


def zone_options(current: str | None = None) -> list[tuple[str, str]]:
    """The time zones of Russia for the picker (and the draft's own, when it is another)."""
    options = list(ZONES)
    if current and current not in {z for z, _ in options}:
        options.append((current, current))
    return options


def region_options() -> list[tuple[str, str]]:
    """The regions for the picker, named in the page's language."""
    return [(r.code, f"{r.code} {formats.region(r.code)}") for r in REGIONS]


def problem_label(key: str) -> str:
    """The label of a problem's key in the page's language (tenders.rules.problem_label)."""
    return rules.problem_label(key, _)


def _problems(exc: DomainError) -> dict:
    """A service's refusal in the page's language: its fields and, on top, its message."""
    fields = {k: [translate(m) for m in v] for k, v in exc.fields.items()}
    return {**fields, "_form": [translate(exc.message)]}


def _notes(errors: dict) -> list[tuple[str, str]]:
    """The problems of a form in the user's words, (label, message), for the list on top of
    the form (those of its inputs also stand beside them)."""
    notes = []
    for key, messages in errors.items():
        if key in ("_form", "_schema"):
            continue
        text = " ".join(messages) if isinstance(messages, list | tuple) else str(messages)
        notes.append((problem_label(key), text))
    return notes


def _scatter(tender, failed: str | None, errors: dict) -> dict[str, dict]:
    """The errors of each form of the editor, by form id: all of them go to the form that
    failed; a failed Publish also marks the header's and the lots' own fields."""
    by_form: dict[str, dict] = {failed: errors} if failed else {}
    if failed == "publish":
        lots = {str(lot.number): lot.id for lot in tender.lots}
        for key, messages in errors.items():
            parts = key.split(".")
            if key in HEADER_INPUTS:
                by_form.setdefault("header", {})[key] = messages
            elif len(parts) == 3 and parts[0] == "lots" and parts[1] in lots:
                by_form.setdefault(f"lot-{lots[parts[1]]}", {})[parts[2]] = messages
    return by_form


@bp.get("/<int:tender_id>")
def edit(tender_id: int):
    """The editor of a draft, or the management page of a published tender."""
    return _edit_page(tender_id)


def _edit_page(
    tender_id: int, errors: dict | None = None, status: int = 200, failed: str | None = None
):
    """The editor; `failed` names the form whose `errors` these are (its typed input is
    shown again, every other form shows the saved draft)."""
    tender = service.own_tender(current_user, g.org, tender_id, for_update=False)
    member = require_member(current_user, g.org.id)
    listed = members(g.org.id)
    people = _people(listed)
    errors = errors or {}
    failed = failed or ("page" if errors else None)
    chosen = (
        set(request.form.getlist("categories"))
        if failed == "header"
        else {c.code for c in tender.categories}
    )
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
        failed=failed,
        errors=errors,
        by_form=_scatter(tender, failed, errors),
        notes=_notes(errors),
        label=problem_label,
        values=request.form if failed else {},
        regions_options=region_options(),
        zone_options=zone_options(tender.timezone),
        tree=classifiers.category_tree(),
        chosen=chosen,
        deeper=_deeper(chosen),
        questions=service.all_questions(tender),
        unit_options=[(u.code, f"{u.short} ({u.code})") for u in classifiers.units()],
        amendments=db.session.execute(
            select(Amendment).where(Amendment.tender_id == tender.id).order_by(Amendment.number)
        )
        .scalars()
        .all(),
        local=lambda m: clock.local(m, tender.timezone).strftime("%Y-%m-%dT%H:%M") if m else "",
        unit=schemas.unit_short,
        can_prepare=service.may_prepare(current_user, g.org, tender),
        may_prepare_any=member.may("prepare"),
        may_reassign=member.may("approve"),
        people=people,
        preparers=[(m.user_id, people[m.user_id]) for m in listed if m.may("prepare")],
    ), status


def _deeper(chosen: set[str]) -> list:
    """The chosen groupings the tree does not show (groups, subgroups: four levels and more)."""
    found = (classifiers.category(code) for code in sorted(chosen))
    return [c for c in found if c is not None and c.level > 2]


def _act(
    tender_id: int,
    action: Callable[[], object],
    success: str,
    anchor: str = "",
    failed: str | None = None,
    fields: Callable[[dict], dict] | None = None,
):
    """Run a service action for this page: commit and go back, or show every problem beside
    the form `failed` (`fields` renames the service's keys to the form's inputs)."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        problems = _problems(exc)
        if exc.status == 403:
            failed = "page"  # a refused right: said on top (the form may not be shown)
        return _edit_page(tender_id, fields(problems) if fields else problems, exc.status, failed)
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
    failed: str | None = None,
):
    data, errors = _load(schema, raw) if raw is not None else parse_form(schema, request.form)
    failed = failed or anchor or "page"
    if errors:
        return _edit_page(tender_id, errors, 422, failed)
    return _act(tender_id, lambda: then(data), success, anchor, failed)


@bp.post("/<int:tender_id>/header")
def header(tender_id: int):
    """Save a draft's header and categories."""
    return _with_form(
        tender_id,
        schemas.TenderHeader(),
        lambda d: service.update_draft(current_user, g.org, tender_id, d),
        _("Saved."),
        "header",
    )


@bp.post("/<int:tender_id>/lots")
def add_lot(tender_id: int):
    """Add a lot."""
    return _with_form(
        tender_id,
        schemas.LotIn(),
        lambda d: service.add_lot(current_user, g.org, tender_id, d),
        _("Lot added."),
        "lots",
        failed="lot-new",
    )


@bp.post("/<int:tender_id>/lots/<int:lot_id>")
def edit_lot(tender_id: int, lot_id: int):
    """Change a lot's title, award mode or price weight (its positions and criteria stay)."""
    return _with_form(
        tender_id,
        schemas.LotUpdate(),
        lambda d: service.update_lot(current_user, g.org, tender_id, lot_id, d),
        _("Lot saved."),
        f"lot-{lot_id}",
    )


@bp.post("/<int:tender_id>/lots/<int:lot_id>/delete")
def delete_lot(tender_id: int, lot_id: int):
    """Remove a lot with its positions."""
    return _act(
        tender_id,
        lambda: service.delete_lot(current_user, g.org, tender_id, lot_id),
        _("Lot removed."),
        "lots",
    )


@bp.post("/<int:tender_id>/lots/<int:lot_id>/positions")
def add_position(tender_id: int, lot_id: int):
    """Add one position by hand."""
    raw = {k: v for k, v in request.form.items() if v != "" and k != "csrf_token"}
    data, errors = _load(schemas.PositionIn(), raw)
    failed = f"position-{lot_id}"
    if errors:
        return _edit_page(tender_id, errors, 422, failed)
    return _act(
        tender_id,
        lambda: service.add_positions(current_user, g.org, tender_id, lot_id, [data]),
        _("Position %(number)s added.", number=data["number"]),
        f"lot-{lot_id}",
        failed,
        # one position: "positions.0.number" is this form's "number"
        lambda problems: {k.removeprefix("positions.0."): v for k, v in problems.items()},
    )


@bp.post("/<int:tender_id>/positions/<int:position_id>/delete")
def delete_position(tender_id: int, position_id: int):
    """Remove a position."""
    return _act(
        tender_id,
        lambda: service.delete_position(current_user, g.org, tender_id, position_id),
        _("Position removed."),
        "lots",
    )


@bp.get("/<int:tender_id>/positions-template.xlsx")
def positions_template(tender_id: int):
    """The positions import template as an Excel workbook (Russian or English headers)."""
    service.own_tender(current_user, g.org, tender_id, for_update=False)
    language = "en" if request.args.get("lang") == "en" else "ru"
    return Response(
        positions_xlsx.template(language),
        content_type=XLSX_CONTENT_TYPE,
        headers={"Content-Disposition": 'attachment; filename="positions-template.xlsx"'},
    )


@bp.post("/<int:tender_id>/import")
def import_positions(tender_id: int):
    """Import positions from a CSV file or an Excel workbook (.xlsx)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _edit_page(tender_id, {"file": [_("Choose a CSV or .xlsx file.")]}, 422, "import")
    encoding = request.form.get("encoding") or None
    if encoding not in (None, "utf-8", "windows-1251"):
        return _edit_page(tender_id, {"encoding": [_("Use UTF-8 or Windows-1251.")]}, 422, "import")
    data = upload.read(current_app.config["CSV_MAX_BYTES"] + 1)
    return _act(
        tender_id,
        lambda: service.import_positions(current_user, g.org, tender_id, data, encoding),
        _("Positions imported."),
        "lots",
        "import",
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
        _("Criterion added."),
        f"lot-{lot_id}",
        raw=raw,
        failed=f"criterion-{lot_id}",
    )


@bp.post("/<int:tender_id>/criteria/<int:criterion_id>/delete")
def delete_criterion(tender_id: int, criterion_id: int):
    """Remove a criterion."""
    return _act(
        tender_id,
        lambda: service.delete_criterion(current_user, g.org, tender_id, criterion_id),
        _("Criterion removed."),
        "lots",
    )


@bp.post("/<int:tender_id>/documents")
def add_document(tender_id: int):
    """Attach a document (an amendment once published)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _edit_page(tender_id, {"file": [_("Choose a file.")]}, 422, "documents")
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
        _("Document added."),
        "documents",
        "documents",
    )


@bp.post("/<int:tender_id>/publish")
def publish(tender_id: int):
    """Publish the draft (every problem is listed if it cannot be)."""
    return _act(
        tender_id,
        lambda: service.publish(current_user, g.org, tender_id),
        _("Published: suppliers can see it and bid."),
        failed="publish",
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
        _("Amendment published."),
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
        _("Tender cancelled."),
        failed="cancel",
    )


@bp.post("/<int:tender_id>/copy")
def copy(tender_id: int):
    """Copy into a new draft."""
    try:
        draft = service.copy(current_user, g.org, tender_id)
    except DomainError as exc:
        db.session.rollback()
        return _edit_page(tender_id, {"_form": [translate(exc.message)]}, exc.status)
    commit()
    flash(_("Copied into the new draft %(number)s.", number=draft.number), "success")
    return redirect(url_for("cabinet.edit", tender_id=draft.id))


@bp.post("/<int:tender_id>/questions/<int:question_id>/answer")
def answer(tender_id: int, question_id: int):
    """Answer a clarification question (published without the asker)."""
    return _with_form(
        tender_id,
        schemas.AnswerIn(),
        lambda d: service.answer(current_user, g.org, tender_id, question_id, d["answer"]),
        _("Answer published."),
        "questions",
        failed=f"answer-{question_id}",
    )


@bp.post("/<int:tender_id>/responsible")
def reassign(tender_id: int):
    """A manager puts another member in charge of the tender."""
    return _with_form(
        tender_id,
        schemas.ResponsibleIn(),
        lambda d: service.reassign(current_user, g.org, tender_id, d["user_id"]),
        _("Responsible person changed."),
        "responsible",
    )
