"""Pure tender rules: status machine, numbering, publication checks, amendments."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace as NS

import pytest

from tenders import rules

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def position(number="1", quantity="10", price="5.00"):
    return NS(
        number=number, quantity=Decimal(quantity), max_unit_price=Decimal(price) if price else None
    )


def criterion(**kw):
    base = dict(
        name="Гарантия",
        kind="number",
        weight=Decimal(20),
        direction="higher_better",
        min_value=None,
        max_value=None,
        options=[],
    )
    base.update(kw)
    return NS(**base)


def lot(number=1, price_weight="80", positions=None, criteria=None):
    return NS(
        number=number,
        price_weight=Decimal(price_weight),
        positions=[position()] if positions is None else positions,
        criteria=[criterion()] if criteria is None else criteria,
    )


def tender(**kw):
    base = dict(
        title="Поставка",
        lots=[lot()],
        categories=["27.3"],
        bid_deadline=NOW + dt.timedelta(days=5),
        questions_until=None,
        extension_window_minutes=30,
        extension_minutes=30,
        max_extensions=None,
        extension_trigger_rank=None,
        latest_close=None,
    )
    base.update(kw)
    return NS(**base)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("draft", "published"),
        ("draft", "cancelled"),
        ("published", "closed"),
        ("published", "cancelled"),
        ("published", "unsuccessful"),
        ("closed", "results_published"),
    ],
)
def test_allowed_transitions(current, target):
    rules.check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("draft", "closed"),
        ("published", "draft"),
        ("closed", "cancelled"),
        ("cancelled", "published"),
        ("results_published", "closed"),
        ("unsuccessful", "published"),
    ],
)
def test_refused_transitions_say_what_is_allowed(current, target):
    with pytest.raises(rules.TransitionRefused) as exc:
        rules.check_transition(current, target)
    assert current in str(exc.value) and target in str(exc.value)


def test_numbers_and_position_order():
    assert rules.format_number(2026, 123) == "T-2026-000123"
    numbers = ["10", "2", "3.1", "3", "1", "3.10", "3.2"]
    assert sorted(numbers, key=rules.position_sort_key) == [
        "1",
        "2",
        "3",
        "3.1",
        "3.2",
        "3.10",
        "10",
    ]
    assert all(rules.valid_position_number(n) for n in ("1", "25", "3.1", "3.1.2"))
    assert not any(rules.valid_position_number(n) for n in ("0", "01", "1.", "a", "", "1.0"))


def test_estimated_value_counts_only_priced_positions():
    assert rules.estimated_value(
        [position(quantity="3", price="1.10"), position(price=None)]
    ) == Decimal("3.30")
    assert rules.estimated_value([position(price=None)]) is None


def test_a_complete_tender_has_no_problems():
    assert rules.publication_problems(tender(), NOW) == []


def test_every_problem_is_listed_at_once():
    bad = tender(
        title=" ",
        categories=[],
        bid_deadline=NOW - dt.timedelta(minutes=1),
        extension_minutes=0,
        lots=[
            lot(
                price_weight="70",
                positions=[],
                criteria=[
                    criterion(
                        kind="choice", name="Отсрочка", options=[NS(label="нет", score=Decimal(0))]
                    ),
                    criterion(kind="text", name="Комментарий", weight=Decimal(5)),
                ],
            )
        ],
    )
    fields = {f for f, _ in rules.publication_problems(bad, NOW)}
    assert {
        "title",
        "categories",
        "bid_deadline",
        "extension_minutes",
        "lots.1.positions",
        "lots.1.criteria.0.options",
        "lots.1.criteria.1.weight",
        "lots.1.price_weight",
    } <= fields


def test_weights_must_sum_to_100():
    problems = rules.publication_problems(tender(lots=[lot(price_weight="70")]), NOW)
    assert any("add up to 90" in m for _, m in problems)


def test_questions_deadline_must_precede_bids():
    t = tender(questions_until=NOW + dt.timedelta(days=6))
    assert ("questions_until", "Questions must close no later than the deadline for bids.") in (
        rules.publication_problems(t, NOW)
    )


def test_number_criterion_needs_direction_and_sane_bounds():
    t = tender(
        lots=[lot(criteria=[criterion(direction=None, min_value=Decimal(5), max_value=Decimal(1))])]
    )
    fields = {f for f, _ in rules.publication_problems(t, NOW)}
    assert {"lots.1.criteria.0.direction", "lots.1.criteria.0.min_value"} <= fields


def test_deadline_amendments_only_move_later_with_notice():
    d = NOW + dt.timedelta(days=3)
    notice = dt.timedelta(hours=24)
    assert rules.deadline_change_problem(d, d - dt.timedelta(hours=1), NOW, notice)
    assert rules.deadline_change_problem(d, NOW + dt.timedelta(hours=2), NOW, notice)
    assert rules.deadline_change_problem(d, d + dt.timedelta(days=1), NOW, notice) is None


def test_questions_close_at_their_deadline():
    until = NOW + dt.timedelta(hours=1)
    assert rules.questions_open("published", until, None, NOW)
    assert not rules.questions_open("published", until, None, until)
    assert not rules.questions_open("draft", until, None, NOW)
    assert rules.questions_open("published", None, NOW + dt.timedelta(days=1), NOW)


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("lots.1.price_weight", "Lot 1, price weight, %"),
        ("positions.0.category_code", "Position 0, OKPD2 code"),
        ("positions.1.2.max_unit_price", "Position 1.2, max unit price"),
        ("lots.2.criteria.0.direction", "Lot 2, criterion 1, better"),
        ("lots.2.criteria.1.options.0.score", "Lot 2, criterion 2, option 1, score"),
        ("lots.1.positions", "Lot 1, positions"),
        ("options.1.score", "Option 2, score"),
        ("max_unit_price", "Max unit price"),
        ("price_weight", "Price weight, %"),
        ("timezone", "Time zone of the deadlines"),
        ("categories", "Categories (OKPD2)"),
        ("row 3, quantity", "Row 3, quantity"),
        ("_form", ""),
    ],
)
def test_problem_label_speaks_the_users_words(key, label):
    assert rules.problem_label(key) == label
