"""The re-bidding round's pure rules: when a round may be announced, its deadline, whom it
invites, and what an improved offer may change (prices down, criteria never worse)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bids.rules import Line, Offer
from results.rebidding import rules
from results.rules import CriterionDef

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
WARRANTY = CriterionDef(1, "Гарантия", "number", Decimal(20), "higher_better")
DELIVERY = CriterionDef(2, "Срок поставки", "number", Decimal(10), "lower_better")
PREPAID = CriterionDef(3, "Без предоплаты", "boolean", Decimal(5))
DEFERRAL = CriterionDef(4, "Отсрочка", "choice", Decimal(5), options={"нет": 0, "30 дней": 1})
NOTE = CriterionDef(5, "Комментарий", "text")
LOT = rules.RoundLot(1, ("1", "2"), (WARRANTY, DELIVERY, PREPAID, DEFERRAL, NOTE))
PREVIOUS = Offer(
    lines={
        "1": Line(Decimal("100.00"), "склад"),
        "2": Line(Decimal("50.00")),
        "3": Line(Decimal(7)),
    },
    criteria={
        (1, 1): Decimal(24),
        (1, 2): Decimal(10),
        (1, 3): True,
        (1, 4): "30 дней",
        (1, 5): "как есть",
    },
)


def fields(problems) -> dict[str, str]:
    out: dict[str, str] = {}
    for field, message in problems:
        out[field] = f"{out[field]} | {message}" if field in out else str(message)
    return out


def improve(prices=None, values=None, criteria_allowed=True):
    prices = {k: Decimal(v) for k, v in (prices or {}).items()}
    return fields(
        rules.improvement_problems(
            PREVIOUS, prices, values, [LOT], criteria_allowed=criteria_allowed
        )
    )


@pytest.mark.parametrize(
    ("status", "running", "code"),
    [
        ("published", None, "rebidding_not_closed"),
        ("draft", None, "rebidding_not_closed"),
        ("unsuccessful", None, "rebidding_not_closed"),
        ("results_published", None, "rebidding_published"),
        ("closed", 1, "rebidding_running"),
    ],
)
def test_a_round_is_announced_only_between_the_close_and_publication(status, running, code):
    assert rules.announce_refusal(status, running).code == code


def test_a_closed_tender_without_a_running_round_may_announce_one():
    assert rules.announce_refusal("closed", None) is None


def test_the_deadline_is_at_least_an_hour_ahead_exactly():
    assert rules.deadline_problems(NOW + dt.timedelta(hours=1), NOW) == []
    late = rules.deadline_problems(NOW + dt.timedelta(minutes=59, seconds=59), NOW)
    assert "at least 60 minutes" in fields(late)["deadline"]
    assert rules.deadline_problems(NOW + dt.timedelta(days=31), NOW)
    assert rules.deadline_problems(dt.datetime(2026, 12, 7, 9, 0), NOW)  # no zone
    assert (
        rules.deadline_problems(NOW + dt.timedelta(minutes=5), NOW, dt.timedelta(minutes=5)) == []
    )


def test_everyone_admissible_is_invited_by_default_and_a_subset_on_request():
    admissible = {1: {1, 2, 3}, 2: {2}}
    chosen, problems = rules.invitation_problems([1, 2], {1, 2}, admissible, None)
    assert problems == [] and chosen == {1: [1, 2, 3], 2: [2]}
    chosen, problems = rules.invitation_problems([1], {1, 2}, admissible, [3, 1])
    assert problems == [] and chosen == {1: [1, 3]}


def test_inviting_someone_without_an_admissible_offer_is_refused():
    admissible = {1: {1, 2}, 2: {2}, 3: set()}
    _, problems = rules.invitation_problems([1], {1, 2, 3}, admissible, [4])
    assert "Participant 4" in fields(problems)["participants"]
    _, problems = rules.invitation_problems([2], {1, 2, 3}, admissible, [1])
    assert "Participant 1" in fields(problems)["participants"]
    _, problems = rules.invitation_problems([3], {1, 2, 3}, admissible, None)
    assert "no admissible offer" in fields(problems)["lots"]
    _, problems = rules.invitation_problems([9], {1, 2, 3}, admissible, None)
    assert "no lot 9" in fields(problems)["lots"]
    _, problems = rules.invitation_problems([], {1}, admissible, None)
    assert "at least one lot" in fields(problems)["lots"]
    _, problems = rules.invitation_problems([1], {1}, admissible, [])
    assert "at least one participant" in fields(problems)["participants"]


def test_lower_or_equal_prices_are_an_improvement():
    assert improve({"1": "99.99"}) == {}
    assert improve({"1": "100.00", "2": "1"}) == {}


def test_each_refused_position_is_named_with_its_reason():
    problems = improve({"1": "100.01", "3": "5", "9": "1"})
    assert "above your previous price 100.00" in problems["lines.1.unit_price"]
    assert "not in this re-bidding round" in problems["lines.3.unit_price"]
    assert "not in this re-bidding round" in problems["lines.9.unit_price"]


def test_a_position_not_offered_before_cannot_be_added():
    lot = rules.RoundLot(1, ("1", "2", "4"))
    problems = rules.improvement_problems(
        PREVIOUS, {"4": Decimal(1)}, None, [lot], criteria_allowed=False
    )
    assert "did not offer it before" in fields(problems)["lines.4.unit_price"]


def test_an_offer_that_changes_nothing_is_refused():
    assert "changes no price" in improve({})["lines"]


@pytest.mark.parametrize(
    ("criterion", "value", "worse"),
    [
        (1, Decimal(36), False),
        (1, Decimal(24), False),
        (1, Decimal(12), True),
        (2, Decimal(5), False),
        (2, Decimal(14), True),
        (3, True, False),
        (3, False, True),
        (4, "30 дней", False),
        (4, "нет", True),
        (5, "иначе", False),
        (1, None, True),
    ],
)
def test_criterion_values_never_worse_by_their_definition(criterion, value, worse):
    problems = improve({"1": "99"}, {(1, criterion): value})
    assert (f"criteria.1.{criterion}" in problems) is worse


def test_a_prices_only_round_keeps_every_criterion_value():
    problems = improve({"1": "99"}, {(1, 1): Decimal(36)}, criteria_allowed=False)
    assert "prices only" in problems["criteria.1.1"]
    assert improve({"1": "99"}, {(1, 1): Decimal(24)}, criteria_allowed=False) == {}


def test_a_criterion_of_another_lot_is_refused():
    assert (
        "not in this re-bidding round"
        in improve({"1": "99"}, {(2, 1): Decimal(36)})["criteria.2.1"]
    )


def test_the_merged_offer_keeps_everything_not_improved():
    merged = rules.merged_offer(PREVIOUS, {"1": Decimal(90)}, {(1, 1): Decimal(36)})
    assert merged.lines["1"] == Line(Decimal(90), "склад")  # the note stays
    assert merged.lines["2"] == PREVIOUS.lines["2"] and merged.lines["3"] == PREVIOUS.lines["3"]
    assert merged.criteria[(1, 1)] == 36 and merged.criteria[(1, 3)] is True
    assert rules.improved_positions(PREVIOUS, merged) == {"1": (Decimal(100), Decimal(90))}


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2))
def test_a_price_is_accepted_exactly_when_it_is_at_most_the_previous(price):
    problems = improve({"1": price})
    assert ("lines.1.unit_price" in problems) == (price > Decimal(100))
