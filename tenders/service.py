"""Tender use cases for customers and suppliers: drafts, publication, amendments,
cancellation, copies, clarifications. Services flush; the entrypoint commits once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from accounts.models import Organization, User
from accounts.rules import acts_on
from accounts.service import (
    membership,
    require_accredited,
    require_member,
    require_right,
    require_sight,
)
from audit.service import record
from core import clock
from core.chains import tender_chain
from core.errors import Conflict, Forbidden, Invalid, NotFound, Refused
from core.events import record_event
from core.extensions import db
from core.files import document_type, save_stream
from core.i18n import label, language, supported
from core.messages import N_
from core.transaction import lock, lock_or_create
from positions import classifiers
from positions.csv_import import parse_positions
from positions.csv_rules import CsvRefused, Problem
from positions.models import Criterion, CriterionOption, Position
from tenders import closing, rules, search
from tenders.models import (
    Amendment,
    Counter,
    Lot,
    Question,
    Tender,
    TenderCategory,
    TenderDocument,
)
from tenders.sight import in_charge, sees_tender

HEADER_FIELDS = (
    "title",
    "description",
    "region_code",
    "currency",
    "vat_mode",
    "sme_only",
    "qualified_signature_required",
    "timezone",
    "questions_until",
    "bid_deadline",
    "extension_window_minutes",
    "extension_minutes",
    "extension_mode",
    "extension_trigger_rank",
    "max_extensions",
    "latest_close",
    "visibility",
)
_signals = Namespace()
# Sent with the tender before a draft is published or a published tender is amended or
# cancelled (action "publish", "amend", "cancel"; content: the amendment's data or the
# cancellation's reason). approvals answers by raising when the organization requires an
# approval this exact version lacks (approvals/guards.py: tenders builds below it).
changing = _signals.signal("tender-changing")

# What may change after publication (everything else is fixed once suppliers may have bid).
AMENDABLE = ("description", "bid_deadline", "questions_until")


def chain(tender: Tender) -> str:
    """The tender's own audit chain."""
    return tender_chain(tender.id)


def audit(tender: Tender, action: str, user: User, payload: dict | None = None) -> None:
    """Record an event in the tender's chain."""
    record(
        action,
        "tender",
        tender.id,
        payload or {},
        actor_user_id=user.id,
        actor_org_id=tender.customer_id,
        chain=chain(tender),
    )


def _next_number() -> str:
    year = clock.now().year
    name = f"tender-number-{year}"
    counter = lock_or_create(Counter, "name", name, value=0)
    counter.value += 1
    return rules.format_number(year, counter.value)


# -- access --------------------------------------------------------------------------------


def get_tender(tender_id: int) -> Tender:
    """A tender by id, or NotFound."""
    tender = db.session.get(Tender, tender_id)
    if tender is None:
        raise NotFound(_("No such tender."))
    return tender


def by_number(number: str) -> Tender:
    """A tender by its public number, or NotFound."""
    tender = db.session.execute(select(Tender).where(Tender.number == number)).scalar_one_or_none()
    if tender is None:
        raise NotFound(_("No such tender."))
    return tender


def visible_tender(tender: Tender, org: Organization | None, user: User | None = None) -> Tender:
    """Drafts exist only for their customer (with user: only for the members who see it);
    everything else is public."""
    if tender.status == "draft" and (org is None or org.id != tender.customer_id):
        raise NotFound(_("No such tender."))
    if tender.status == "draft" and user is not None and not sees_tender(user, org, tender):
        raise NotFound(_("No such tender."))
    return tender


def own_tender(
    user: User,
    org: Organization | None,
    tender_id: int,
    *,
    for_update: bool = True,
    right: str | None = None,
) -> Tender:
    """The customer's own tender, locked for the change; anyone else is refused. right:
    "prepare" (the default for a change: a manager, or the specialist responsible for it)
    or "see" (the default for a read: see accounts.rules.sees), or "member" (any member of
    the customer: a commission member votes whatever their roles)."""
    tender = lock(Tender, tender_id) if for_update else db.session.get(Tender, tender_id)
    if tender is None:
        raise NotFound(_("No such tender."))
    if org is None or tender.customer_id != org.id:
        if tender.status == "draft":
            raise NotFound(_("No such tender."))
        raise Forbidden(_("Only the customer who published this tender can change it."))
    right = right or ("prepare" if for_update else "see")
    if right == "member":
        require_member(user, org.id)
    elif right == "see":
        require_sight(user, org.id, in_charge(tender))
    else:
        require_right(user, org.id, right, tender.responsible_id)
    return tender


def may_prepare(user: User | None, org: Organization | None, tender: Tender) -> bool:
    """Whether the pages offer this user the tender's changes (the services decide anyway)."""
    if user is None or org is None or tender.customer_id != org.id:
        return False
    m = membership(user, org.id)
    return m is not None and acts_on(m.roles, "prepare", tender.responsible_id, user.id)


def _require_draft(tender: Tender) -> None:
    if tender.status != "draft":
        raise Conflict(
            _(
                "Tender %(number)s is %(status)s: only a draft can be edited this way; "
                "a published tender is changed by an amendment.",
                number=tender.number,
                status=label("tender_status", tender.status),
            )
        )


# -- drafts --------------------------------------------------------------------------------


def create_draft(user: User, org: Organization | None, data: dict) -> Tender:
    """A new draft with its header, categories and (optionally) lots, positions, criteria."""
    require_accredited(org, "customer")
    require_right(user, org.id, "prepare")
    tender = Tender(
        number=_next_number(),
        customer_id=org.id,
        created_by_id=user.id,
        status="draft",
        region_code=data.get("region_code") or org.region_code,
    )
    db.session.add(tender)
    _apply_header(tender, data)
    db.session.flush()
    set_categories(tender, data.get("categories", []))
    for lot_data in data.get("lots", []):
        _add_lot(tender, lot_data)
    _refresh_derived(tender)
    audit(tender, "tender.created", user, {"number": tender.number, "title": tender.title})
    return tender


def _apply_header(tender: Tender, data: dict) -> dict:
    changed = {}
    for key in HEADER_FIELDS:
        if key in data and getattr(tender, key) != data[key]:
            changed[key] = data[key]
            setattr(tender, key, data[key])
    if "bid_deadline" in changed:
        tender.original_deadline = tender.bid_deadline
    tender.updated_at = clock.now()
    return changed


def update_draft(user: User, org: Organization | None, tender_id: int, data: dict) -> Tender:
    """Change a draft's header and categories."""
    tender = own_tender(user, org, tender_id)
    _require_draft(tender)
    changed = _apply_header(tender, data)
    if "categories" in data:
        set_categories(tender, data["categories"])
        changed["categories"] = data["categories"]
    db.session.flush()
    if changed:
        audit(tender, "tender.draft_updated", user, _jsonable(changed))
    return tender


def set_categories(tender: Tender, codes: list[str]) -> None:
    """Replace the tender's chosen categories (unknown codes are refused)."""
    unknown = [c for c in codes if classifiers.category(c) is None]
    if unknown:
        raise Invalid(
            _("Unknown categories."),
            {"categories": _("Unknown codes: %(codes)s", codes=", ".join(unknown))},
        )
    tender.categories.clear()
    db.session.flush()
    for code in sorted(set(codes)):
        tender.categories.append(TenderCategory(code=code, path=category_path(code)))
    _sync_category_codes(tender)


def _sync_category_codes(tender: Tender) -> None:
    tender.category_codes = sorted({part for c in tender.categories for part in c.path.split("/")})


def category_path(code: str) -> str:
    """'C/25/25.1/25.11': the code's ancestors, so a subtree is a path prefix."""
    return "/".join([c.code for c in classifiers.ancestors(code)] + [code])


def _refresh_derived(tender: Tender) -> None:
    """Estimated value and the positions' categories (columns only: lots can be huge)."""
    db.session.flush()
    rows = db.session.execute(
        select(Position.quantity, Position.max_unit_price, Position.category_code).where(
            Position.tender_id == tender.id
        )
    ).all()
    tender.estimated_value = rules.estimated_value(rows)
    chosen = {c.code for c in tender.categories}
    for code in {r.category_code for r in rows if r.category_code} - chosen:
        tender.categories.append(TenderCategory(code=code, path=category_path(code)))
    _sync_category_codes(tender)


# -- lots, positions, criteria ---------------------------------------------------------------


def _default_lot_title(number: int) -> str:
    """The title of a lot given none: "Лот 2" (stored in the language of the request)."""
    return _("Lot %(number)s", number=number)


def _add_lot(tender: Tender, data: dict) -> Lot:
    numbers = {lot.number for lot in tender.lots}
    number = data.get("number") or (max(numbers, default=0) + 1)
    if number in numbers:
        raise Invalid(
            _("Lot numbers are unique."),
            {"number": _("Lot %(number)s already exists.", number=number)},
        )
    lot = Lot(
        number=number,
        title=data.get("title") or _default_lot_title(number),
        award_mode=data.get("award_mode", "per_position"),
        price_weight=data.get("price_weight", Decimal(100)),
    )
    tender.lots.append(lot)
    db.session.flush()
    _add_positions(tender, lot, data.get("positions", []))
    for c in data.get("criteria", []):
        _add_criterion(lot, c)
    return lot


def add_lot(user: User, org: Organization | None, tender_id: int, data: dict) -> Lot:
    """Add a lot (with positions and criteria, if given) to a draft."""
    tender = own_tender(user, org, tender_id)
    _require_draft(tender)
    lot = _add_lot(tender, data)
    _refresh_derived(tender)
    audit(tender, "tender.lot_added", user, {"lot": lot.number, "title": lot.title})
    return lot


def _lot(tender: Tender, lot_id: int) -> Lot:
    lot = db.session.get(Lot, lot_id)
    if lot is None or lot.tender_id != tender.id:
        raise NotFound(_("No such lot in this tender."))
    return lot


def update_lot(
    user: User, org: Organization | None, tender_id: int, lot_id: int, data: dict
) -> Lot:
    """Change a draft lot's title, award mode or price weight."""
    tender = own_tender(user, org, tender_id)
    _require_draft(tender)
    lot = _lot(tender, lot_id)
    for key in ("title", "award_mode", "price_weight"):
        if key in data:
            setattr(lot, key, data[key])
    if not lot.title:
        lot.title = _default_lot_title(lot.number)
    db.session.flush()
    audit(tender, "tender.lot_updated", user, _jsonable({"lot": lot.number, **data}))
    return lot


def delete_lot(user: User, org: Organization | None, tender_id: int, lot_id: int) -> None:
    """Remove a lot and its positions from a draft."""
    tender = own_tender(user, org, tender_id)
    _require_draft(tender)
    lot = _lot(tender, lot_id)
    tender.lots.remove(lot)
    db.session.flush()
    renumbered = _renumber_lots(tender)
    _refresh_derived(tender)
    audit(tender, "tender.lot_removed", user, {"lot": lot.number, "renumbered": renumbered})


def _renumber_lots(tender: Tender) -> dict[str, int]:
    """Number the lots 1, 2, 3... in their order, keeping a default title in step ("Lot 3"
    becomes "Lot 2"); returns {old number: new number} of the lots that moved."""
    lots = sorted(tender.lots, key=lambda lot: lot.number)
    moved = {lot.number: i for i, lot in enumerate(lots, start=1) if lot.number != i}
    if not moved:
        return {}
    for lot in lots:  # out of the way first: (tender, number) is unique at every flush
        if lot.number in moved:
            lot.number = -lot.number
    db.session.flush()
    for lot in lots:
        if lot.number < 0:
            old, lot.number = -lot.number, moved[-lot.number]
            if lot.title in (f"Lot {old}", f"Лот {old}", _default_lot_title(old)):
                lot.title = _default_lot_title(lot.number)
    db.session.flush()
    return {str(old): new for old, new in moved.items()}


def _add_positions(tender: Tender, lot: Lot, items: list[dict]) -> list[str]:
    """Validate and bulk-insert positions (all or none); returns their numbers."""
    taken = set(
        db.session.execute(select(Position.number).where(Position.tender_id == tender.id)).scalars()
    )
    problems: dict[str, str] = {}
    for i, item in enumerate(items):
        number = item["number"]
        if not rules.valid_position_number(number):
            problems[f"positions.{i}.number"] = _(
                "'%(number)s' is not a position number (1, 2, 3.1...).", number=number
            )
        elif number in taken:
            problems[f"positions.{i}.number"] = _(
                "Position %(number)s already exists in this tender.", number=number
            )
        taken.add(number)
        if classifiers.unit(item["unit_code"]) is None:
            problems[f"positions.{i}.unit_code"] = _(
                "Unknown unit of measure '%(unit)s'.", unit=item["unit_code"]
            )
        code = item.get("category_code")
        if code and classifiers.category(code) is None:
            problems[f"positions.{i}.category_code"] = _("Unknown category '%(code)s'.", code=code)
    if problems:
        raise Invalid(_("Some positions are invalid; none was added."), problems)
    rows = [
        {
            "tender_id": tender.id,
            "lot_id": lot.id,
            "sort_key": rules.position_sort_key(item["number"]),
            "specification": "",
            "delivery_place": "",
            "category_code": None,
            "max_unit_price": None,
            "delivery_date": None,
            **item,
        }
        for item in items
    ]
    if rows:
        db.session.execute(Position.__table__.insert(), [_bind_row(r) for r in rows])
        db.session.expire(lot, ["positions", "positions_count"])
    return [r["number"] for r in rows]


def _positions_by_number(tender: Tender, numbers: list[str]) -> list[Position]:
    added = []
    for start in range(0, len(numbers), 1000):  # IN lists stay short
        added += (
            db.session.execute(
                select(Position).where(
                    Position.tender_id == tender.id,
                    Position.number.in_(numbers[start : start + 1000]),
                )
            )
            .scalars()
            .all()
        )
    return sorted(added, key=lambda p: p.sort_key)


def _bind_row(row: dict) -> dict:
    """Core inserts bypass the ORM, so values pass through the column types explicitly."""
    return {k: v for k, v in row.items() if k in Position.__table__.c}


def add_positions(
    user: User, org: Organization | None, tender_id: int, lot_id: int, items: list[dict]
) -> list[Position]:
    """Add positions to a draft lot (all or none)."""
    tender = own_tender(user, org, tender_id)
    _require_draft(tender)
    lot = _lot(tender, lot_id)
    added = _positions_by_number(tender, _add_positions(tender, lot, items))
    _refresh_derived(tender)
    audit(
        tender,
        "tender.positions_added",
        user,
        {"lot": lot.number, "numbers": [i["number"] for i in items][:1000], "count": len(items)},
    )
    return added


def delete_position(user: User, org: Organization | None, tender_id: int, position_id: int) -> None:
    """Remove a position from a draft."""
    tender = own_tender(user, org, tender_id)
    _require_draft(tender)
    position = db.session.get(Position, position_id)
    if position is None or position.tender_id != tender.id:
        raise NotFound(_("No such position in this tender."))
    db.session.delete(position)
    db.session.flush()
    db.session.expire(position.lot, ["positions"])
    _refresh_derived(tender)
    audit(tender, "tender.position_removed", user, {"number": position.number})


def import_positions(
    user: User, org: Organization | None, tender_id: int, data: bytes, encoding: str | None = None
) -> int:
    """Import positions from CSV or .xlsx into a draft: every problem with its line (and
    a workbook's cell), or all rows."""
    tender = own_tender(user, org, tender_id)
    _require_draft(tender)
    cfg = current_app.config
    try:
        parsed, problems = parse_positions(
            data,
            find_unit=_unit_code,
            known_category=lambda c: classifiers.category(c) is not None,
            max_rows=cfg["CSV_MAX_ROWS"],
            max_bytes=cfg["CSV_MAX_BYTES"],
            encoding=encoding,
            max_unzipped=cfg.get("XLSX_MAX_UNZIPPED_BYTES", 100 * 1024 * 1024),
        )
    except CsvRefused as exc:
        raise Invalid(str(exc), {"file": str(exc)}) from None  # a Text: translated
    existing = set(
        db.session.execute(select(Position.number).where(Position.tender_id == tender.id)).scalars()
    )
    for row in parsed:
        if row.number in existing:
            problems.append(
                _csv_problem(
                    row.line,
                    "number",
                    N_("position %(number)s already exists in this tender", number=row.number),
                )
            )
    if problems:
        raise Invalid(
            ngettext(
                "The file has %(num)d problem; nothing was imported.",
                "The file has %(num)d problems; nothing was imported.",
                len(problems),
            ),
            {
                (p.cell or f"row {p.line}") + (f", {p.column}" if p.column else ""): p.message
                for p in problems
            },
        )
    by_lot: dict[str, list[dict]] = {}
    for row in parsed:
        by_lot.setdefault(row.lot, []).append(_row_item(row))
    lots = {str(lot.number): lot for lot in tender.lots}
    for lot_number, items in by_lot.items():
        lot = lots.get(lot_number) or _add_lot(tender, {"number": int(lot_number)})
        _add_positions(tender, lot, items)
    _refresh_derived(tender)
    audit(tender, "tender.positions_imported", user, {"count": len(parsed)})
    return len(parsed)


def _csv_problem(line: int, column: str, message: str) -> Problem:
    return Problem(line=line, column=column, message=message)


def _unit_code(text: str) -> str | None:
    found = classifiers.find_unit(text)
    return found.code if found else None


def _row_item(row) -> dict:
    return {
        "number": row.number,
        "name": row.name,
        "specification": row.specification,
        "category_code": row.category,
        "quantity": row.quantity,
        "unit_code": row.unit,
        "max_unit_price": row.max_unit_price,
        "delivery_place": row.delivery_place,
        "delivery_date": row.delivery_date,
    }


def _add_criterion(lot: Lot, data: dict) -> Criterion:
    criterion = Criterion(
        sort_order=len(lot.criteria),
        name=data["name"],
        kind=data["kind"],
        unit=data.get("unit", ""),
        required=data.get("required", False),
        weight=data.get("weight", Decimal(0)),
        direction=data.get("direction"),
        min_value=data.get("min_value"),
        max_value=data.get("max_value"),
    )
    for i, option in enumerate(data.get("options", [])):
        criterion.options.append(
            CriterionOption(sort_order=i, label=option["label"], score=option["score"])
        )
    lot.criteria.append(criterion)
    db.session.flush()
    return criterion


def add_criterion(
    user: User, org: Organization | None, tender_id: int, lot_id: int, data: dict
) -> Criterion:
    """Add a non-price criterion to a draft lot."""
    tender = own_tender(user, org, tender_id)
    _require_draft(tender)
    lot = _lot(tender, lot_id)
    criterion = _add_criterion(lot, data)
    audit(
        tender,
        "tender.criterion_added",
        user,
        _jsonable(
            {
                "lot": lot.number,
                "name": criterion.name,
                "kind": criterion.kind,
                "weight": criterion.weight,
                "required": criterion.required,
            }
        ),
    )
    return criterion


def delete_criterion(
    user: User, org: Organization | None, tender_id: int, criterion_id: int
) -> None:
    """Remove a criterion from a draft lot."""
    tender = own_tender(user, org, tender_id)
    _require_draft(tender)
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.lot.tender_id != tender.id:
        raise NotFound(_("No such criterion in this tender."))
    criterion.lot.criteria.remove(criterion)
    db.session.flush()
    audit(tender, "tender.criterion_removed", user, {"name": criterion.name})


# -- lifecycle -----------------------------------------------------------------------------


def _transition(tender: Tender, target: str) -> None:
    try:
        rules.check_transition(tender.status, target)
    except rules.TransitionRefused as exc:
        raise Conflict(exc.args[0]) from None  # a core.messages.Text
    tender.status = target


def document_language(user: User) -> str:
    """The language of a tender's documents: the publisher's setting, else the language the
    publisher works in (Accept-Language, then the platform's default, Russian)."""
    return supported(getattr(user, "locale", None)) or language()


def publish(user: User, org: Organization | None, tender_id: int) -> Tender:
    """Publish a draft after checking everything; every problem is listed at once."""
    tender = own_tender(user, org, tender_id)
    require_accredited(org, "customer")
    _transition(tender, "published")
    problems = rules.publication_problems(tender, clock.now())
    if problems:
        fields: dict[str, list[str]] = {}
        for field, message in problems:
            fields.setdefault(field, []).append(message)
        raise Invalid(
            ngettext(
                "The tender cannot be published yet: %(num)d problem.",
                "The tender cannot be published yet: %(num)d problems.",
                len(problems),
            ),
            fields,
        )
    changing.send(tender, user=user, action="publish", content=None)
    tender.published_at = clock.now()
    tender.original_deadline = tender.bid_deadline
    tender.language = document_language(user)
    _renumber_lots(tender)  # a draft's lots may have been numbered 2, 5 through the API
    db.session.flush()
    search.index_tender(tender)
    audit(
        tender,
        "tender.published",
        user,
        {"deadline": tender.bid_deadline.isoformat(), "lots": len(tender.lots)},
    )
    record_event("tender.published", tender.id, {"number": tender.number})
    closing.schedule_close(tender)
    return tender


def amend(user: User, org: Organization | None, tender_id: int, data: dict) -> Amendment:
    """A numbered amendment of a published tender: description, deadlines, specifications."""
    tender = own_tender(user, org, tender_id)
    if tender.status != "published":
        raise Conflict(
            _(
                "Only a published tender can be amended (this one is %(status)s).",
                status=label("tender_status", tender.status),
            )
        )
    now = clock.now()
    if now >= tender.bid_deadline:
        raise Refused("bidding_closed", deadline=tender.bid_deadline, zone=tender.timezone)
    changing.send(tender, user=user, action="amend", content=data)
    changes = _amended_fields(tender, data, now)
    changes.update(_amended_specifications(tender, data.get("specifications", {})))
    if data.get("documents_added"):
        changes["documents_added"] = data["documents_added"]
    if not changes:
        raise Invalid(_("The amendment changes nothing."))
    tender.amendment_count += 1
    amendment = Amendment(
        tender_id=tender.id,
        number=tender.amendment_count,
        summary=data["summary"],
        changes=_jsonable(changes),
        author_id=user.id,
    )
    db.session.add(amendment)
    tender.updated_at = now
    db.session.flush()
    search.index_tender(tender)
    audit(
        tender, "tender.amended", user, {"number": amendment.number, "changes": amendment.changes}
    )
    record_event(
        "tender.amended",
        tender.id,
        {"number": tender.number, "amendment": amendment.number, "summary": data["summary"]},
    )
    if "bid_deadline" in changes:
        closing.schedule_close(tender)
    return amendment


def _amended_fields(tender: Tender, data: dict, now: dt.datetime) -> dict:
    changes: dict = {}
    problems: dict[str, str] = {}
    notice = dt.timedelta(hours=current_app.config["AMENDMENT_MIN_NOTICE_HOURS"])
    if data.get("bid_deadline") and data["bid_deadline"] != tender.bid_deadline:
        problem = rules.deadline_change_problem(
            tender.bid_deadline, data["bid_deadline"], now, notice
        )
        if problem:
            problems["bid_deadline"] = problem
        else:
            changes["bid_deadline"] = {"from": tender.bid_deadline, "to": data["bid_deadline"]}
    if data.get("questions_until") and data["questions_until"] != tender.questions_until:
        deadline = data.get("bid_deadline") or tender.bid_deadline
        if data["questions_until"] > deadline or data["questions_until"] <= now:
            problems["questions_until"] = _("Questions must close in the future, before the bids.")
        else:
            changes["questions_until"] = {
                "from": tender.questions_until,
                "to": data["questions_until"],
            }
    if "description" in data and data["description"] != tender.description:
        changes["description"] = {"from": tender.description, "to": data["description"]}
    if problems:
        raise Invalid(_("The amendment was refused."), problems)
    for key, change in changes.items():
        setattr(tender, key, change["to"])
    return changes


def _amended_specifications(tender: Tender, specs: dict[str, str]) -> dict:
    if not specs:
        return {}
    positions = {
        p.number: p
        for p in db.session.execute(
            select(Position).where(
                Position.tender_id == tender.id, Position.number.in_(list(specs))
            )
        ).scalars()
    }
    unknown = sorted(set(specs) - set(positions))
    if unknown:
        raise Invalid(
            _("Unknown positions."),
            {"specifications": _("No positions %(numbers)s.", numbers=", ".join(unknown))},
        )
    changed = {}
    for number, text in specs.items():
        if positions[number].specification != text:
            changed[number] = {"from": positions[number].specification, "to": text}
            positions[number].specification = text
    return {"specifications": changed} if changed else {}


def cancel(user: User, org: Organization | None, tender_id: int, reason: str) -> Tender:
    """Cancel a draft or a published tender, with a reason."""
    tender = own_tender(user, org, tender_id)
    if not reason.strip():
        raise Invalid(
            _("Give a reason for the cancellation."), {"reason": _("A reason is required.")}
        )
    if tender.status == "published":
        changing.send(tender, user=user, action="cancel", content={"reason": reason})
    _transition(tender, "cancelled")
    tender.cancel_reason = reason.strip()
    tender.cancelled_at = clock.now()
    db.session.flush()
    if tender.published_at:
        search.index_tender(tender)
        record_event("tender.cancelled", tender.id, {"number": tender.number, "reason": reason})
    audit(tender, "tender.cancelled", user, {"reason": reason})
    return tender


def copy(user: User, org: Organization | None, tender_id: int) -> Tender:
    """A new draft with the same header, categories, lots, positions and criteria."""
    source = own_tender(user, org, tender_id, for_update=False, right="see")
    draft = create_draft(
        user,
        org,
        {
            **{
                k: getattr(source, k)
                for k in HEADER_FIELDS
                if k not in ("bid_deadline", "questions_until", "latest_close")
            },
            "title": source.title,
            "categories": [c.code for c in source.categories],
        },
    )
    draft.copied_from_id = source.id
    for lot in source.lots:
        new_lot = _add_lot(
            draft,
            {
                "number": lot.number,
                "title": lot.title,
                "award_mode": lot.award_mode,
                "price_weight": lot.price_weight,
            },
        )
        _add_positions(draft, new_lot, [_position_item(p) for p in lot.positions])
        for c in lot.criteria:
            _add_criterion(
                new_lot,
                {
                    "name": c.name,
                    "kind": c.kind,
                    "unit": c.unit,
                    "required": c.required,
                    "weight": c.weight,
                    "direction": c.direction,
                    "min_value": c.min_value,
                    "max_value": c.max_value,
                    "options": [{"label": o.label, "score": o.score} for o in c.options],
                },
            )
    _refresh_derived(draft)
    audit(draft, "tender.copied", user, {"from": source.number})
    return draft


def _position_item(p: Position) -> dict:
    return {
        k: getattr(p, k)
        for k in (
            "number",
            "name",
            "specification",
            "category_code",
            "quantity",
            "unit_code",
            "max_unit_price",
            "delivery_place",
            "delivery_date",
        )
    }


# -- clarifications ------------------------------------------------------------------------


def ask(user: User, org: Organization | None, tender_id: int, text: str) -> Question:
    """An accredited supplier asks a question until the questions deadline."""
    require_accredited(org, "supplier")
    require_right(user, org.id, "prepare")
    tender = get_tender(tender_id)
    visible_tender(tender, org)
    if tender.customer_id == org.id:
        raise Forbidden(_("A customer does not ask questions about its own tender."))
    if not rules.questions_open(
        tender.status, tender.questions_until, tender.bid_deadline, clock.now()
    ):
        raise Conflict(_("Questions about this tender are closed."))
    question = Question(
        tender_id=tender.id, asker_org_id=org.id, asker_user_id=user.id, text=text.strip()
    )
    db.session.add(question)
    db.session.flush()
    record(
        "tender.question_asked",
        "question",
        question.id,
        {"tender": tender.number},
        actor_user_id=user.id,
        actor_org_id=org.id,
        chain=chain(tender),
    )
    # the customer hears of it (inbox and mail); the asker stays anonymous to it
    record_event(
        "tender.question_asked",
        tender.id,
        {"number": tender.number, "question_id": question.id, "text": question.text[:500]},
    )
    return question


def answer(
    user: User, org: Organization | None, tender_id: int, question_id: int, text: str
) -> Question:
    """The customer answers; the answer is published, the asker stays anonymous."""
    tender = own_tender(user, org, tender_id)
    question = db.session.get(Question, question_id)
    if question is None or question.tender_id != tender.id:
        raise NotFound(_("No such question in this tender."))
    if question.answer is not None:
        raise Conflict(_("This question has already been answered."))
    question.answer, question.answered_at, question.answered_by_id = (
        text.strip(),
        clock.now(),
        user.id,
    )
    db.session.flush()
    audit(tender, "tender.question_answered", user, {"question": question.id})
    record_event(
        "tender.question_answered",
        tender.id,
        {
            "number": tender.number,
            "question_id": question.id,
            "asker_user_id": question.asker_user_id,
        },
    )
    return question


def public_questions(tender: Tender) -> list[Question]:
    """Answered questions, as published on the notice."""
    return list(
        db.session.execute(
            select(Question)
            .where(Question.tender_id == tender.id, Question.answer.is_not(None))
            .order_by(Question.answered_at)
        ).scalars()
    )


def own_questions(org: Organization, tender: Tender) -> list[Question]:
    """The questions an organization asked about a tender (answered or not)."""
    return list(
        db.session.execute(
            select(Question)
            .where(Question.tender_id == tender.id, Question.asker_org_id == org.id)
            .order_by(Question.asked_at)
        ).scalars()
    )


def waiting_questions(org: Organization, user: User | None = None) -> list[Question]:
    """Questions about the customer's tenders that wait for an answer (with user: about
    those the member sees)."""
    query = (
        select(Question)
        .join(Tender, Tender.id == Question.tender_id)
        .where(Tender.customer_id == org.id, Question.answer.is_(None))
    )
    if user is not None:
        query = _seen_by(query, require_member(user, org.id), user)
    return list(db.session.execute(query.order_by(Question.asked_at)).scalars())


def _seen_by(query, member, user: User):
    """Restrict a query of the organization's tenders to those the member sees."""
    if member.may("see_all"):
        return query
    return _mine(query, user.id)


def _mine(query, user_id: int):
    return query.where((Tender.responsible_id == user_id) | (Tender.created_by_id == user_id))


def default_scope(member) -> str:
    """What the cabinet lists first: everything for those who see all, else their own."""
    return "all" if member.may("see_all") else "mine"


def customer_tenders(
    org: Organization,
    status: str | None = None,
    *,
    user: User | None = None,
    scope: str | None = None,
    responsible_id: int | None = None,
) -> list[Tender]:
    """The customer's tenders, newest first, optionally of one status. With user: "mine"
    (those it is responsible for or prepared) or "all" (managers, observers and
    administrators), optionally of one responsible person."""
    query = select(Tender).where(Tender.customer_id == org.id)
    if user is not None:
        member = require_member(user, org.id)
        scope = scope or default_scope(member)
        if scope == "all" and not member.may("see_all"):
            raise Forbidden(
                _("Only a manager, an observer or an administrator sees all the tenders.")
            )
        query = _mine(query, user.id) if scope == "mine" else query
        if responsible_id is not None:
            query = query.where(Tender.responsible_id == responsible_id)
    if status:
        query = query.where(Tender.status == status)
    return list(db.session.execute(query.order_by(Tender.id.desc()).limit(500)).scalars())


def reassign(user: User, org: Organization | None, tender_id: int, responsible_id: int) -> Tender:
    """A manager puts another member with the right to prepare in charge of the tender."""
    tender = own_tender(user, org, tender_id, right="see")
    require_right(user, org.id, "approve")  # managers only
    if tender.status not in ("draft", "published", "closed"):
        raise Conflict(
            _(
                "Tender %(number)s is %(status)s: nobody needs to be in charge of it any more.",
                number=tender.number,
                status=label("tender_status", tender.status),
            )
        )
    person = db.session.get(User, responsible_id)
    target = membership(person, org.id) if person is not None else None
    if target is None or not target.may("prepare"):
        message = _("Choose a member of the organization who prepares tenders.")
        raise Invalid(message, {"user_id": [message]})
    previous = tender.responsible_id
    if previous == responsible_id:
        return tender
    tender.responsible_id = responsible_id
    db.session.flush()
    audit(tender, "tender.responsible_changed", user, {"from": previous, "to": responsible_id})
    return tender


def _jsonable(value):
    """Audit payloads are JSON: decimals and times become strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal | dt.datetime | dt.date):
        return str(value) if not isinstance(value, dt.datetime) else value.isoformat()
    return value


# -- documents -------------------------------------------------------------------------------


def add_document(
    user: User,
    org: Organization | None,
    tender_id: int,
    filename: str,
    stream,
    summary: str = "",
) -> TenderDocument:
    """Attach a document: freely to a draft, by an amendment (with a summary) once published."""
    tender = own_tender(user, org, tender_id)
    if tender.status not in ("draft", "published"):
        raise Conflict(
            _(
                "Documents cannot be added to a tender that is %(status)s.",
                status=label("tender_status", tender.status),
            )
        )
    name, content_type = document_type(filename)
    if tender.status == "published" and len(summary.strip()) < 3:
        raise Invalid(
            _("Say what the new document changes (it is published as an amendment)."),
            {"summary": _("A summary is required after publication.")},
        )
    sha, size = save_stream(stream, current_app.config["DOCUMENT_MAX_BYTES"])
    document = TenderDocument(
        tender_id=tender.id,
        filename=name,
        content_type=content_type,
        size=size,
        sha256=sha,
        uploaded_by_id=user.id,
    )
    tender.documents.append(document)
    db.session.flush()
    if tender.status == "published":
        amendment = amend(user, org, tender.id, {"summary": summary, "documents_added": [name]})
        document.amendment_number = amendment.number
    audit(tender, "tender.document_added", user, {"filename": name, "sha256": sha, "size": size})
    return document


def document_for_download(tender: Tender, document_id: int) -> TenderDocument:
    """A document of a tender (the caller has checked the tender is visible)."""
    document = db.session.get(TenderDocument, document_id)
    if document is None or document.tender_id != tender.id:
        raise NotFound(_("No such document."))
    return document


def all_questions(tender: Tender) -> list[Question]:
    """Every question of a tender (for its customer)."""
    return list(
        db.session.execute(
            select(Question).where(Question.tender_id == tender.id).order_by(Question.asked_at)
        ).scalars()
    )


def positions_page(
    tender: Tender, page: int, per_page: int, lot_number: int | None = None, q: str = ""
) -> dict:
    """One page of a tender's positions in notice order, optionally of one lot or matching a
    number or words of the name (the notice, the API and the bid form)."""
    condition = [Position.tender_id == tender.id]
    if lot_number:
        condition.append(
            Position.lot_id.in_(
                select(Lot.id).where(Lot.tender_id == tender.id, Lot.number == lot_number)
            )
        )
    if q:
        condition.append((Position.number == q) | Position.name.icontains(q, autoescape=True))
    total = db.session.execute(select(func.count()).where(*condition)).scalar_one()
    items = (
        db.session.execute(
            select(Position)
            .where(*condition)
            .order_by(Position.lot_id, Position.sort_key)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        .scalars()
        .all()
    )
    return {"items": items, "total": total, "page": page, "per_page": per_page}
