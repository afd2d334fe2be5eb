"""Pure tender rules: the status machine, numbering, publication and amendment checks.

Functions read plain attributes (models or any object with the same names) and take the
current time as an argument; they import nothing from Flask or SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal

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
            f"A {current} tender cannot become {target}; from {current} it can become {options}."
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
        problems.append(("bid_deadline", "Set the deadline for bids."))
    elif t.bid_deadline <= now:
        problems.append(("bid_deadline", "The deadline for bids must be in the future."))
    if t.questions_until is not None:
        if t.questions_until <= now:
            problems.append(
                ("questions_until", "The deadline for questions must be in the future.")
            )
        elif t.bid_deadline is not None and t.questions_until > t.bid_deadline:
            problems.append(
                ("questions_until", "Questions must close no later than the deadline for bids.")
            )
    return problems


def _policy_problems(t) -> list[Problem]:
    problems: list[Problem] = []
    if not 1 <= t.extension_window_minutes <= 24 * 60:
        problems.append(("extension_window_minutes", "The window must be 1 to 1440 minutes."))
    if not 1 <= t.extension_minutes <= 24 * 60:
        problems.append(("extension_minutes", "The extension must be 1 to 1440 minutes."))
    if t.max_extensions is not None and t.max_extensions < 0:
        problems.append(("max_extensions", "The cap on extensions cannot be negative."))
    if t.extension_trigger_rank is not None and t.extension_trigger_rank < 1:
        problems.append(("extension_trigger_rank", "The triggering rank starts at 1."))
    late = t.latest_close
    if late is not None and t.bid_deadline is not None and late < t.bid_deadline:
        problems.append(("latest_close", "The latest close cannot be before the deadline."))
    return problems


def _criterion_problems(prefix: str, c) -> list[Problem]:
    problems: list[Problem] = []
    if c.kind == "text" and c.weight:
        problems.append((f"{prefix}.weight", f"'{c.name}' is a text criterion: it has no weight."))
    if c.kind == "number":
        if c.weight and c.direction not in ("higher_better", "lower_better"):
            problems.append(
                (f"{prefix}.direction", f"Say whether more or less is better for '{c.name}'.")
            )
        if c.min_value is not None and c.max_value is not None and c.min_value > c.max_value:
            problems.append(
                (f"{prefix}.min_value", f"'{c.name}': the minimum exceeds the maximum.")
            )
    if c.kind == "choice":
        if len(c.options) < 2:
            problems.append((f"{prefix}.options", f"'{c.name}' needs at least two options."))
        elif c.weight and max(o.score for o in c.options) <= 0:
            problems.append(
                (f"{prefix}.options", f"'{c.name}' needs an option with a positive score.")
            )
        if any(o.score < 0 for o in c.options):
            problems.append((f"{prefix}.options", f"'{c.name}': scores cannot be negative."))
    if c.weight < 0:
        problems.append((f"{prefix}.weight", f"'{c.name}': the weight cannot be negative."))
    return problems


def _lot_problems(lot) -> list[Problem]:
    prefix = f"lots.{lot.number}"
    problems: list[Problem] = []
    if not lot.positions:
        problems.append((f"{prefix}.positions", f"Lot {lot.number} has no positions."))
    for i, c in enumerate(lot.criteria):
        problems += _criterion_problems(f"{prefix}.criteria.{i}", c)
    total = lot.price_weight + sum((c.weight for c in lot.criteria), Decimal(0))
    if total != HUNDRED:
        problems.append(
            (
                f"{prefix}.price_weight",
                f"Lot {lot.number}: the price weight and the criteria weights "
                f"add up to {total}, not 100.",
            )
        )
    if lot.price_weight <= 0:
        problems.append((f"{prefix}.price_weight", f"Lot {lot.number}: price must have a weight."))
    for p in lot.positions:
        if p.quantity <= 0:
            problems.append(
                (
                    f"positions.{p.number}.quantity",
                    f"Position {p.number}: quantity must be positive.",
                )
            )
        if p.max_unit_price is not None and p.max_unit_price <= 0:
            problems.append(
                (
                    f"positions.{p.number}.max_unit_price",
                    f"Position {p.number}: the maximum unit price must be positive.",
                )
            )
    return problems


def publication_problems(t, now: dt.datetime) -> list[Problem]:
    """Everything that stops a draft from being published, all at once."""
    problems: list[Problem] = []
    if not (t.title or "").strip():
        problems.append(("title", "Give the tender a title."))
    if not t.lots:
        problems.append(("lots", "Add at least one lot with positions."))
    if not t.categories:
        problems.append(
            ("categories", "Choose at least one category (suppliers subscribe by them).")
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
        return "The deadline can only be moved later by an amendment."
    if proposed < now + minimum_notice:
        hours = minimum_notice.total_seconds() / 3600
        return f"The new deadline must leave bidders at least {hours:g} hours."
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
