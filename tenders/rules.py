"""Pure tender rules: the status machine, numbering, publication and amendment checks.

Functions read plain attributes (models or any object with the same names) and take the
current time as an argument; they import nothing from Flask or SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal

from core.messages import N_

# (field, message): every problem names the field it is about.
Problem = tuple[str, str]

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"published", "cancelled"}),
    "published": frozenset({"closed", "unsuccessful", "cancelled"}),
    "closed": frozenset({"results_published"}),
    "results_published": frozenset(),
    "cancelled": frozenset(),
    "unsuccessful": frozenset(),
}
HUNDRED = Decimal(100)
_POSITION_NUMBER = re.compile(r"[1-9][0-9]{0,5}(\.[1-9][0-9]{0,3}){0,2}")


class TransitionRefused(ValueError):
    """A status change the machine does not allow."""


def check_transition(current: str, target: str) -> None:
    """Refuse a transition the status machine does not allow, saying what is allowed."""
    allowed = TRANSITIONS.get(current, frozenset())
    if target not in allowed:
        options = ", ".join(sorted(allowed)) or "nothing (final status)"
        raise TransitionRefused(
            N_(
                "A %(current)s tender cannot become %(target)s; from %(current)s it can become "
                "%(options)s.",
                current=current,
                target=target,
                options=options,
            )
        )


def format_number(year: int, serial: int) -> str:
    """Human-readable tender number, e.g. T-2026-000123."""
    return f"T-{year}-{serial:06d}"


def valid_position_number(number: str) -> bool:
    """Position numbers: 1, 2, ... optionally with sub-items such as 3.1 or 3.1.2."""
    return bool(_POSITION_NUMBER.fullmatch(number or ""))


def position_sort_key(number: str) -> str:
    """A string that sorts position numbers naturally (2 before 10, 3 before 3.1)."""
    return ".".join(f"{int(part):06d}" for part in number.split("."))


def estimated_value(positions: Iterable) -> Decimal | None:
    """Sum of quantity x maximum unit price over the positions that have a maximum price."""
    total, any_price = Decimal(0), False
    for p in positions:
        if p.max_unit_price is not None:
            total += p.quantity * p.max_unit_price
            any_price = True
    return total.quantize(Decimal("0.01")) if any_price else None


def _schedule_problems(t, now: dt.datetime) -> list[Problem]:
    problems: list[Problem] = []
    if t.bid_deadline is None:
        problems.append(("bid_deadline", N_("Set the deadline for bids.")))
    elif t.bid_deadline <= now:
        problems.append(("bid_deadline", N_("The deadline for bids must be in the future.")))
    if t.questions_until is not None:
        if t.questions_until <= now:
            problems.append(
                ("questions_until", N_("The deadline for questions must be in the future."))
            )
        elif t.bid_deadline is not None and t.questions_until > t.bid_deadline:
            problems.append(
                ("questions_until", N_("Questions must close no later than the deadline for bids."))
            )
    return problems


def _policy_problems(t) -> list[Problem]:
    problems: list[Problem] = []
    if not 1 <= t.extension_window_minutes <= 24 * 60:
        problems.append(("extension_window_minutes", N_("The window must be 1 to 1440 minutes.")))
    if not 1 <= t.extension_minutes <= 24 * 60:
        problems.append(("extension_minutes", N_("The extension must be 1 to 1440 minutes.")))
    if t.max_extensions is not None and t.max_extensions < 0:
        problems.append(("max_extensions", N_("The cap on extensions cannot be negative.")))
    if t.extension_trigger_rank is not None and t.extension_trigger_rank < 1:
        problems.append(("extension_trigger_rank", N_("The triggering rank starts at 1.")))
    late = t.latest_close
    if late is not None and t.bid_deadline is not None and late < t.bid_deadline:
        problems.append(("latest_close", N_("The latest close cannot be before the deadline.")))
    return problems


def _criterion_problems(prefix: str, c) -> list[Problem]:
    problems: list[Problem] = []
    if c.kind == "text" and c.weight:
        problems.append(
            (
                f"{prefix}.weight",
                N_("'%(name)s' is a text criterion: it has no weight.", name=c.name),
            )
        )
    if c.kind == "number":
        if c.weight and c.direction not in ("higher_better", "lower_better"):
            problems.append(
                (
                    f"{prefix}.direction",
                    N_("Say whether more or less is better for '%(name)s'.", name=c.name),
                )
            )
        if c.min_value is not None and c.max_value is not None and c.min_value > c.max_value:
            problems.append(
                (
                    f"{prefix}.min_value",
                    N_("'%(name)s': the minimum exceeds the maximum.", name=c.name),
                )
            )
    if c.kind == "choice":
        if len(c.options) < 2:
            problems.append(
                (f"{prefix}.options", N_("'%(name)s' needs at least two options.", name=c.name))
            )
        elif c.weight and max(o.score for o in c.options) <= 0:
            problems.append(
                (
                    f"{prefix}.options",
                    N_("'%(name)s' needs an option with a positive score.", name=c.name),
                )
            )
        if any(o.score < 0 for o in c.options):
            problems.append(
                (f"{prefix}.options", N_("'%(name)s': scores cannot be negative.", name=c.name))
            )
    if c.weight < 0:
        problems.append(
            (f"{prefix}.weight", N_("'%(name)s': the weight cannot be negative.", name=c.name))
        )
    return problems


def _lot_problems(lot) -> list[Problem]:
    prefix = f"lots.{lot.number}"
    problems: list[Problem] = []
    if not lot.positions:
        problems.append(
            (f"{prefix}.positions", N_("Lot %(lot)s has no positions.", lot=lot.number))
        )
    for i, c in enumerate(lot.criteria):
        problems += _criterion_problems(f"{prefix}.criteria.{i}", c)
    total = lot.price_weight + sum((c.weight for c in lot.criteria), Decimal(0))
    if total != HUNDRED:
        problems.append(
            (
                f"{prefix}.price_weight",
                N_(
                    "Lot %(lot)s: the price weight and the criteria weights add up to "
                    "%(total)s, not 100.",
                    lot=lot.number,
                    total=total,
                ),
            )
        )
    if lot.price_weight <= 0:
        problems.append(
            (f"{prefix}.price_weight", N_("Lot %(lot)s: price must have a weight.", lot=lot.number))
        )
    for p in lot.positions:
        if p.quantity <= 0:
            problems.append(
                (
                    f"positions.{p.number}.quantity",
                    N_("Position %(number)s: quantity must be positive.", number=p.number),
                )
            )
        if p.max_unit_price is not None and p.max_unit_price <= 0:
            problems.append(
                (
                    f"positions.{p.number}.max_unit_price",
                    N_(
                        "Position %(number)s: the maximum unit price must be positive.",
                        number=p.number,
                    ),
                )
            )
    return problems


def publication_problems(t, now: dt.datetime) -> list[Problem]:
    """Everything that stops a draft from being published, all at once."""
    problems: list[Problem] = []
    if not (t.title or "").strip():
        problems.append(("title", N_("Give the tender a title.")))
    if not t.lots:
        problems.append(("lots", N_("Add at least one lot with positions.")))
    if not t.categories:
        problems.append(
            ("categories", N_("Choose at least one category (suppliers subscribe by them)."))
        )
    problems += _schedule_problems(t, now)
    problems += _policy_problems(t)
    for lot in t.lots:
        problems += _lot_problems(lot)
    return problems


def deadline_change_problem(
    current: dt.datetime, proposed: dt.datetime, now: dt.datetime, minimum_notice: dt.timedelta
) -> str | None:
    """An amendment may only move the deadline later, and not to less than the notice period."""
    if proposed < current:
        return N_("The deadline can only be moved later by an amendment.")
    if proposed < now + minimum_notice:
        hours = minimum_notice.total_seconds() / 3600
        return N_(
            "The new deadline must leave bidders at least %(hours)s hours.", hours=f"{hours:g}"
        )
    return None


def questions_open(
    status: str,
    questions_until: dt.datetime | None,
    bid_deadline: dt.datetime | None,
    now: dt.datetime,
) -> bool:
    """Questions are accepted while published, until the questions deadline (or bids deadline)."""
    until = questions_until or bid_deadline
    return status == "published" and until is not None and now < until


# -- problems in the user's words -------------------------------------------------------------

# The labels the draft editor shows for each field (keep in step with the templates); the
# page translates them (problem_label's `tr`).
HEADER_LABELS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "region_code": N_("Region"),
    "currency": N_("Currency"),
    "vat_mode": N_("Prices"),
    "timezone": N_("Time zone of the deadlines"),
    "questions_until": N_("Questions until"),
    "bid_deadline": N_("Deadline for bids"),
    "sme_only": N_("Only small and medium enterprises"),
    "qualified_signature_required": N_("Qualified electronic signature required"),
    "categories": N_("Categories (OKPD2)"),
    "extension_window_minutes": N_("Auto-extension window"),
    "extension_minutes": N_("Extension"),
    "extension_mode": N_("Extend"),
    "extension_trigger_rank": N_("Only if rank is at least"),
    "max_extensions": N_("At most N extensions"),
    "latest_close": N_("Latest close"),
    "visibility": N_("Competitors see"),
    "lots": N_("Lots"),
}
LOT_LABELS = {
    "number": N_("Lot number"),
    "title": N_("Title"),
    "award_mode": N_("Award"),
    "price_weight": N_("Price weight, %"),
    "positions": N_("Positions"),
    "criteria": N_("Criteria"),
}
POSITION_LABELS = {
    "number": N_("No."),
    "name": N_("Name"),
    "specification": N_("Specification"),
    "category_code": N_("OKPD2 code"),
    "quantity": N_("Quantity"),
    "unit_code": N_("Unit"),
    "max_unit_price": N_("Max unit price"),
    "delivery_place": N_("Delivery place"),
    "delivery_date": N_("Delivery date"),
}
CRITERION_LABELS = {
    "name": N_("Name"),
    "kind": N_("Kind"),
    "unit": N_("Unit"),
    "required": N_("Required"),
    "weight": N_("Weight, %"),
    "direction": N_("Better"),
    "min_value": N_("Min"),
    "max_value": N_("Max"),
    "options": N_("Options"),
    "label": N_("label"),
    "score": N_("score"),
}
OTHER_LABELS = {
    "file": N_("File"),
    "encoding": N_("Encoding"),
    "summary": N_("Summary"),
    "reason": N_("Reason"),
    "answer": N_("Answer"),
    "specifications": N_("Specifications"),
}
# The words of composed labels ("Lot 1, criterion 2, option 1, score").
_WORDS = (
    N_("Lot %(n)s"),
    N_("Position %(n)s"),
    N_("position %(n)s"),
    N_("criterion %(n)s"),
    N_("Option %(n)s"),
    N_("option %(n)s"),
    N_("Row %(n)s"),
)
_ROW = re.compile(r"row (\d+)(?:, (.*))?", re.DOTALL)


def _english(template: str, **params) -> str:
    return template % params if params else template


def _plain(name: str, labels: dict[str, str], tr=_english) -> str:
    """A label inside a longer one: "price weight, %", but "OKPD2 code" as it is."""
    label = tr(labels[name]) if name in labels else name.replace("_", " ")
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _criterion_label(rest: list[str], inner: bool = False, tr=_english) -> str:
    """'name', 'options', 'options.1.score' of a criterion ("option 2" inside a longer one)."""
    if len(rest) >= 2 and rest[0] == "options" and rest[1].isdigit():
        option = tr("option %(n)s" if inner else "Option %(n)s", n=int(rest[1]) + 1)
        return f"{option}, {_plain(rest[2], CRITERION_LABELS, tr)}" if len(rest) > 2 else option
    label = _plain(".".join(rest), CRITERION_LABELS, tr)
    return label if inner else label[:1].upper() + label[1:]


def _lot_label(lot: str, rest: list[str], tr=_english) -> str:
    if not rest:
        return lot
    if rest[0] == "criteria" and len(rest) >= 2 and rest[1].isdigit():
        where = f"{lot}, {tr('criterion %(n)s', n=int(rest[1]) + 1)}"
        return f"{where}, {_criterion_label(rest[2:], True, tr)}" if rest[2:] else where
    if rest[0] == "positions" and len(rest) >= 3:
        position = tr("position %(n)s", n=".".join(rest[1:-1]))
        return f"{lot}, {position}, {_plain(rest[-1], POSITION_LABELS, tr)}"
    return f"{lot}, {_plain('.'.join(rest), LOT_LABELS, tr)}"


def problem_label(key: str, tr=_english) -> str:
    """The label a user reads for the key of a problem: "lots.1.price_weight" is
    "Lot 1, price weight, %", "positions.2.category_code" "Position 2, OKPD2 code" (the
    position's number, as publication names it), "options.1.score" "Option 2, score",
    "row 3, Кол-во" (a CSV file's row and column as written) "Row 3, Кол-во";
    "" for the problems of the whole form ("_form", "_schema"). `tr(template, **params)`
    translates the words (gettext at the edge; English as written by default)."""
    if key in ("", "_form", "_schema"):
        return ""
    row = _ROW.fullmatch(key)
    if row:
        where = tr("Row %(n)s", n=row[1])
        return f"{where}, {row[2]}" if row[2] else where
    parts = key.split(".")
    if len(parts) == 1:
        for labels in (HEADER_LABELS, OTHER_LABELS, POSITION_LABELS, CRITERION_LABELS, LOT_LABELS):
            if key in labels:
                return tr(labels[key])
        return key[:1].upper() + key[1:].replace("_", " ")
    head = parts[0]
    if head == "lots" and parts[1].isdigit():
        return _lot_label(tr("Lot %(n)s", n=parts[1]), parts[2:], tr)
    if head == "positions" and len(parts) >= 3:
        number = ".".join(parts[1:-1])
        return f"{tr('Position %(n)s', n=number)}, {_plain(parts[-1], POSITION_LABELS, tr)}"
    if head == "options":
        return _criterion_label(parts, tr=tr)
    return key.replace("_", " ").replace(".", ", ")
