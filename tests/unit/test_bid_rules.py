"""Pure bidding rules: the 30-minute auto-extension, offer checks, triggering and price ranks."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bids.rules import (
    CriterionSpec,
    Decision,
    ExtensionPolicy,
    Line,
    LotSpec,
    Offer,
    PositionSpec,
    Refusal,
    bidding_refusal,
    decide,
    decimal_places,
    is_triggering,
    line_total,
    offer_problems,
    price_ranks,
    visibility_level,
)

D = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)
SEC = dt.timedelta(seconds=1)
US = dt.timedelta(microseconds=1)
DEFAULT = ExtensionPolicy()


def change(at, policy=DEFAULT, *, triggering=True, rank=None, count=0, deadline=D):
    return decide(deadline, at, policy, triggering=triggering, rank=rank, extensions_so_far=count)


# --------------------------------------------------------------------------- decide


def test_policy_defaults_are_the_30_minute_rule():
    expected = ExtensionPolicy(
        window=30 * MIN,
        extension=30 * MIN,
        mode="from_deadline",
        trigger_rank=None,
        max_extensions=None,
        latest_close=None,
    )
    assert expected == DEFAULT


@pytest.mark.parametrize(
    ("at", "accepted", "extended", "deadline"),
    [
        (D - 2 * dt.timedelta(hours=1), True, False, D),
        (D - 30 * MIN - US, True, False, D),
        (D - 30 * MIN, True, True, D + 30 * MIN),
        (D - 10 * MIN, True, True, D + 30 * MIN),
        (D - SEC, True, True, D + 30 * MIN),
        (D - US, True, True, D + 30 * MIN),
        (D, False, False, D),
        (D + US, False, False, D),
        (D + dt.timedelta(days=1), False, False, D),
    ],
)
def test_from_deadline_table(at, accepted, extended, deadline):
    decision = change(at)
    assert (decision.accepted, decision.extended, decision.deadline) == (
        accepted,
        extended,
        deadline,
    )
    assert decision.previous_deadline == D


@pytest.mark.parametrize("at", [D, D + US, D + 5 * MIN])
def test_refused_at_or_after_the_deadline_says_when_bidding_closed(at):
    decision = change(at)
    assert decision == Decision(
        accepted=False,
        deadline=D,
        extended=False,
        previous_deadline=D,
        refusal=Refusal("bidding_closed", {"deadline": D}),
    )


@pytest.mark.parametrize("status", ["closed", "unsuccessful", "results_published"])
def test_a_closed_tender_refuses_as_a_late_change_does(status):
    # whatever the close job did, the refusal names the deadline
    for now in (None, D - SEC, D, D + MIN):
        assert bidding_refusal(status, D, now) == Refusal("bidding_closed", {"deadline": D})


def test_a_published_tender_refuses_from_its_deadline_on():
    assert bidding_refusal("published", D, D - US) is None
    assert bidding_refusal("published", D, None) is None
    assert bidding_refusal("published", D, D) == Refusal("bidding_closed", {"deadline": D})


def test_a_cancelled_tender_is_not_open():
    assert bidding_refusal("cancelled", D, D - MIN) == Refusal(
        "tender_not_open", {"status": "cancelled"}
    )


def test_accepted_change_has_no_refusal():
    assert change(D - SEC).refusal is None
    assert change(D - dt.timedelta(hours=1)).refusal is None


FROM_CHANGE = ExtensionPolicy(mode="from_change")
CLOSED_AT_D = Refusal("bidding_closed", {"deadline": D})


@pytest.mark.parametrize(
    ("at", "extended", "deadline"),
    [
        (D - 30 * MIN - US, False, D),
        (D - 30 * MIN, False, D),  # t + 30 min == D: nothing to move
        (D - 29 * MIN, True, D + MIN),
        (D - SEC, True, D - SEC + 30 * MIN),
        (D - US, True, D - US + 30 * MIN),
    ],
)
def test_from_change_table(at, extended, deadline):
    decision = change(at, FROM_CHANGE)
    assert decision.accepted
    assert (decision.extended, decision.deadline) == (extended, deadline)


def test_from_change_refuses_at_the_deadline_too():
    assert change(D, FROM_CHANGE) == Decision(False, D, False, D, CLOSED_AT_D)


def test_from_change_never_moves_the_deadline_earlier_with_a_short_extension():
    policy = ExtensionPolicy(window=60 * MIN, extension=10 * MIN, mode="from_change")
    assert change(D - 50 * MIN, policy) == Decision(True, D, False, D)
    assert change(D - 5 * MIN, policy).deadline == D + 5 * MIN


def test_repeated_extensions_chain_from_the_new_deadline():
    first = change(D - SEC)
    second = change(first.deadline - SEC, deadline=first.deadline, count=1)
    assert second.extended and second.deadline == D + 60 * MIN
    assert second.previous_deadline == D + 30 * MIN


@pytest.mark.parametrize("at", [D - SEC, D - 30 * MIN, D - 2 * dt.timedelta(hours=1)])
def test_non_triggering_change_is_accepted_without_extension(at):
    assert change(at, triggering=False) == Decision(True, D, False, D)


def test_non_triggering_change_is_still_refused_after_the_deadline():
    assert change(D, triggering=False) == Decision(False, D, False, D, CLOSED_AT_D)


@pytest.mark.parametrize(
    ("rank", "extended"),
    [(1, True), (2, True), (3, False), (10, False), (None, False)],
)
def test_trigger_rank(rank, extended):
    policy = ExtensionPolicy(trigger_rank=2)
    decision = change(D - MIN, policy, rank=rank)
    assert decision.accepted
    assert decision.extended is extended
    assert decision.deadline == (D + 30 * MIN if extended else D)


@pytest.mark.parametrize("rank", [None, 1, 7])
def test_without_trigger_rank_any_triggering_change_extends(rank):
    assert change(D - MIN, rank=rank).extended


@pytest.mark.parametrize(("count", "extended"), [(0, True), (2, True), (3, False), (4, False)])
def test_max_extensions(count, extended):
    policy = ExtensionPolicy(max_extensions=3)
    decision = change(D - MIN, policy, count=count)
    assert decision.accepted and decision.extended is extended


def test_zero_max_extensions_never_extends():
    assert not change(D - MIN, ExtensionPolicy(max_extensions=0)).extended


def test_latest_close_caps_the_new_deadline():
    policy = ExtensionPolicy(latest_close=D + 10 * MIN)
    decision = change(D - MIN, policy)
    assert decision.extended and decision.deadline == D + 10 * MIN


def test_latest_close_caps_from_change_too():
    policy = ExtensionPolicy(mode="from_change", latest_close=D + 10 * MIN)
    assert change(D - SEC, policy).deadline == D + 10 * MIN


@pytest.mark.parametrize("latest", [D, D - MIN])
def test_latest_close_reached_blocks_the_extension(latest):
    decision = change(D - MIN, ExtensionPolicy(latest_close=latest))
    assert decision == Decision(True, D, False, D)


def test_latest_close_beyond_the_extension_does_not_matter():
    assert change(D - MIN, ExtensionPolicy(latest_close=D + 2 * 30 * MIN)).deadline == (
        D + 30 * MIN
    )


def test_other_time_zones_compare_as_instants_and_keep_the_deadline_zone():
    moscow = dt.timezone(dt.timedelta(hours=3))
    at = (D - SEC).astimezone(moscow)
    decision = change(at, FROM_CHANGE)
    assert decision.deadline == D - SEC + 30 * MIN
    assert decision.deadline.utcoffset() == dt.timedelta(0)
    assert not change(D.astimezone(moscow)).accepted


@pytest.mark.parametrize(
    ("deadline", "at"),
    [
        (D.replace(tzinfo=None), D - SEC),
        (D, (D - SEC).replace(tzinfo=None)),
        (D.replace(tzinfo=None), (D - SEC).replace(tzinfo=None)),
    ],
)
def test_naive_datetimes_are_refused(deadline, at):
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(deadline, at, DEFAULT, triggering=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "from_start"},
        {"extension": dt.timedelta(0)},
        {"window": -MIN},
        {"trigger_rank": 0},
        {"max_extensions": -1},
        {"latest_close": D.replace(tzinfo=None)},
    ],
)
def test_policy_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        ExtensionPolicy(**kwargs)


# --------------------------------------------------------------------------- is_triggering


def offer(prices=None, criteria=None, notes=None):
    prices = {"1": "10.00", "2": "4.50"} if prices is None else prices
    notes = notes or {}
    return Offer(
        lines={n: Line(Decimal(p), notes.get(n, "")) for n, p in prices.items()},
        criteria={} if criteria is None else criteria,
    )


BASE_CRITERIA = {(1, 11): Decimal(24), (1, 12): True, (1, 13): "advance", (1, 14): "ok"}


def test_first_bid_triggers():
    assert is_triggering(None, offer())


def test_identical_offer_does_not_trigger():
    assert not is_triggering(offer(criteria=BASE_CRITERIA), offer(criteria=dict(BASE_CRITERIA)))


def test_notes_only_do_not_trigger():
    assert not is_triggering(offer(), offer(notes={"1": "delivery in 3 days", "2": "new"}))


def test_same_price_written_differently_does_not_trigger():
    assert not is_triggering(offer({"1": "10"}), offer({"1": "10.00"}))
    assert not is_triggering(offer({"1": "1E+1"}), offer({"1": "10.0"}))


def test_changed_price_triggers():
    assert is_triggering(offer({"1": "10.00"}), offer({"1": "9.99"}))
    assert is_triggering(offer({"1": "10.00"}), offer({"1": "10.01"}))


def test_added_or_removed_position_triggers():
    assert is_triggering(offer({"1": "10"}), offer({"1": "10", "2": "5"}))
    assert is_triggering(offer({"1": "10", "2": "5"}), offer({"1": "10"}))
    assert is_triggering(offer({"1": "10"}), offer({"2": "10"}))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ((1, 11), Decimal(36)),
        ((1, 12), False),
        ((1, 13), "on delivery"),
        ((1, 14), "ok, revised"),
        ((1, 15), Decimal(1)),
    ],
)
def test_changed_criterion_value_triggers(key, value):
    assert is_triggering(
        offer(criteria=BASE_CRITERIA), offer(criteria={**BASE_CRITERIA, key: value})
    )


def test_removed_criterion_value_triggers():
    fewer = {k: v for k, v in BASE_CRITERIA.items() if k != (1, 11)}
    assert is_triggering(offer(criteria=BASE_CRITERIA), offer(criteria=fewer))


def test_criterion_number_written_differently_does_not_trigger():
    assert not is_triggering(
        offer(criteria={(1, 11): Decimal("24")}), offer(criteria={(1, 11): Decimal("24.0")})
    )


def test_boolean_is_not_the_same_value_as_the_number_one():
    assert is_triggering(offer(criteria={(1, 11): True}), offer(criteria={(1, 11): Decimal(1)}))


def test_absent_and_empty_criterion_values_are_the_same():
    assert not is_triggering(offer(criteria={}), offer(criteria={(1, 14): None, (1, 13): "  "}))


# --------------------------------------------------------------------------- validation

WARRANTY = CriterionSpec(
    id=11,
    name="Warranty, months",
    kind="number",
    required=True,
    min_value=Decimal(12),
    max_value=Decimal(60),
    options=(),
)
DELIVERY = CriterionSpec(12, "Delivery included", "boolean", True, None, None, ())
PAYMENT = CriterionSpec(13, "Payment", "choice", False, None, None, ("advance", "on delivery"))
COMMENT = CriterionSpec(14, "Comment", "text", False, None, None, ())
LOT1 = LotSpec(
    number=1,
    award_mode="per_position",
    positions=(
        PositionSpec("1", Decimal(10), Decimal("5.00")),
        PositionSpec("2", Decimal(3), None),
    ),
    criteria=(WARRANTY, DELIVERY, PAYMENT, COMMENT),
)
LOT2 = LotSpec(
    number=2,
    award_mode="whole_lot",
    positions=(
        PositionSpec("3", Decimal(1), None),
        PositionSpec("4", Decimal(2), None),
        PositionSpec("5", Decimal("0.5"), None),
    ),
    criteria=(CriterionSpec(21, "Lead time, days", "number", True, Decimal(1), None, ()),),
)
LOTS = (LOT1, LOT2)
GOOD_CRITERIA = {(1, 11): Decimal(24), (1, 12): True}


def problems(prices, criteria=None, lots=LOTS, places=2):
    criteria = GOOD_CRITERIA if criteria is None else criteria
    return offer_problems(lots, offer(prices, criteria), places)


def test_a_good_offer_has_no_problems():
    assert problems({"1": "4.99", "2": "1000"}) == []
    assert problems({"2": "0.01"}) == []
    full = {**GOOD_CRITERIA, (1, 13): "on delivery", (1, 14): "x" * 2000, (2, 21): Decimal(3)}
    assert problems({"1": "5.00", "3": "1", "4": "2", "5": "3"}, full) == []


def test_unknown_position():
    assert problems({"1": "1", "9": "1"}) == [("lines.9", "Position 9 is not in this tender.")]


@pytest.mark.parametrize("price", ["0", "-1", "-0.01"])
def test_price_must_be_positive(price):
    assert problems({"2": price}) == [
        ("lines.2.unit_price", "Position 2: the unit price must be positive.")
    ]


@pytest.mark.parametrize("price", ["NaN", "Infinity", "sNaN"])
def test_price_must_be_a_number(price):
    assert problems({"2": price}) == [
        ("lines.2.unit_price", "Position 2: the unit price must be a number.")
    ]


def test_too_many_decimals():
    assert problems({"2": "1.005"}) == [
        ("lines.2.unit_price", "Position 2: the unit price 1.005 has more than 2 decimal places.")
    ]
    assert problems({"2": "1.005"}, places=3) == []
    assert problems({"2": "1.5"}, places=0) == [
        ("lines.2.unit_price", "Position 2: the unit price 1.5 has more than 0 decimal places.")
    ]


def test_trailing_zeros_are_not_extra_decimals():
    assert problems({"2": "1.50000"}) == []
    assert problems({"2": "1E+3"}, places=0) == []


@pytest.mark.parametrize(
    ("value", "places"),
    [("1", 0), ("1.5", 1), ("1.50", 1), ("1.05", 2), ("100", 0), ("1E+2", 0), ("0.000", 0)],
)
def test_decimal_places(value, places):
    assert decimal_places(Decimal(value)) == places


def test_above_the_maximum_unit_price_names_both_prices():
    assert problems({"1": "5.01"}) == [
        (
            "lines.1.unit_price",
            "Position 1: the unit price 5.01 is above the maximum unit price 5.00.",
        )
    ]
    assert problems({"1": "5"}) == []


def test_several_problems_of_one_price():
    assert problems({"1": "5.001"}) == [
        ("lines.1.unit_price", "Position 1: the unit price 5.001 has more than 2 decimal places."),
        (
            "lines.1.unit_price",
            "Position 1: the unit price 5.001 is above the maximum unit price 5.00.",
        ),
    ]


def test_empty_offer():
    assert problems({}, {}) == [("lines", "Price at least one position.")]


def test_offer_of_unknown_positions_only_is_empty_too():
    assert problems({"9": "1"}, {}) == [
        ("lines.9", "Position 9 is not in this tender."),
        ("lines", "Price at least one position."),
    ]


def test_whole_lot_priced_partially_lists_the_missing_positions():
    assert problems({"4": "1"}, {(2, 21): Decimal(5)}) == [
        ("lots.2", "Lot 2 is awarded as a whole: price every position. Missing: 3, 5.")
    ]


def test_whole_lot_missing_list_stops_at_20():
    positions = tuple(PositionSpec(str(n), Decimal(1), None) for n in range(1, 26))
    lot = LotSpec(7, "whole_lot", positions, ())
    [(where, message)] = problems({"1": "1"}, {}, lots=(lot,))
    assert where == "lots.7"
    listed = ", ".join(str(n) for n in range(2, 22))
    assert message == (
        f"Lot 7 is awarded as a whole: price every position. Missing: {listed} and 4 more."
    )


def test_per_position_lot_may_be_priced_partially():
    assert problems({"1": "1"}) == []


def test_required_criteria_of_a_lot_bid_on():
    assert problems({"1": "1", "3": "1", "4": "1", "5": "1"}, {(1, 13): "  "}) == [
        ("criteria.1.11", "Lot 1, 'Warranty, months': required."),
        ("criteria.1.12", "Lot 1, 'Delivery included': required."),
        ("criteria.2.21", "Lot 2, 'Lead time, days': required."),
    ]


def test_criteria_of_a_lot_not_bid_on_are_not_required():
    assert problems({"3": "1", "4": "1", "5": "1"}, {(2, 21): Decimal(1)}) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal(11), "at least 12 (got 11)."),
        (Decimal("60.5"), "at most 60 (got 60.5)."),
        ("24", "give a number."),
        (True, "give a number."),
        (Decimal("NaN"), "give a number."),
    ],
)
def test_number_criterion(value, message):
    assert problems({"1": "1"}, {**GOOD_CRITERIA, (1, 11): value}) == [
        ("criteria.1.11", f"Lot 1, 'Warranty, months': {message}")
    ]


@pytest.mark.parametrize("value", [Decimal(12), Decimal(60), Decimal("36.5")])
def test_number_criterion_bounds_are_inclusive(value):
    assert problems({"1": "1"}, {**GOOD_CRITERIA, (1, 11): value}) == []


@pytest.mark.parametrize("value", ["yes", Decimal(1), 1])
def test_boolean_criterion(value):
    assert problems({"1": "1"}, {**GOOD_CRITERIA, (1, 12): value}) == [
        ("criteria.1.12", "Lot 1, 'Delivery included': answer yes or no.")
    ]


def test_boolean_false_is_an_answer():
    assert problems({"1": "1"}, {**GOOD_CRITERIA, (1, 12): False}) == []


@pytest.mark.parametrize("value", ["Advance", "credit", Decimal(1)])
def test_choice_criterion(value):
    assert problems({"1": "1"}, {**GOOD_CRITERIA, (1, 13): value}) == [
        ("criteria.1.13", "Lot 1, 'Payment': choose one of: advance, on delivery.")
    ]


def test_text_criterion_up_to_2000_characters():
    assert problems({"1": "1"}, {**GOOD_CRITERIA, (1, 14): "é" * 2000}) == []
    assert problems({"1": "1"}, {**GOOD_CRITERIA, (1, 14): "x" * 2001}) == [
        ("criteria.1.14", "Lot 1, 'Comment': at most 2000 characters (got 2001).")
    ]
    assert problems({"1": "1"}, {**GOOD_CRITERIA, (1, 14): 5}) == [
        ("criteria.1.14", "Lot 1, 'Comment': give a text.")
    ]


def test_criterion_values_for_a_lot_not_bid_on():
    assert problems({"1": "1"}, {**GOOD_CRITERIA, (2, 21): Decimal(3)}) == [
        ("criteria.2.21", "Lot 2: you do not bid on this lot, so leave its criteria out.")
    ]


def test_unknown_criterion_or_lot():
    assert problems({"1": "1"}, {**GOOD_CRITERIA, (1, 99): "x", (8, 11): True}) == [
        ("criteria.1.99", "Lot 1 has no criterion 99."),
        ("criteria.8.11", "Lot 8 has no criterion 11."),
    ]


def test_every_problem_at_once():
    criteria = {
        (1, 11): Decimal(100),
        (1, 13): "credit",
        (1, 14): "x" * 2001,
        (2, 21): Decimal(0),
        (1, 99): Decimal(1),
    }
    found = problems({"1": "6.001", "2": "0", "4": "1", "42": "1"}, criteria)
    assert found == [
        ("lines.1.unit_price", "Position 1: the unit price 6.001 has more than 2 decimal places."),
        (
            "lines.1.unit_price",
            "Position 1: the unit price 6.001 is above the maximum unit price 5.00.",
        ),
        ("lines.2.unit_price", "Position 2: the unit price must be positive."),
        ("criteria.1.11", "Lot 1, 'Warranty, months': at most 60 (got 100)."),
        ("criteria.1.12", "Lot 1, 'Delivery included': required."),
        ("criteria.1.13", "Lot 1, 'Payment': choose one of: advance, on delivery."),
        ("criteria.1.14", "Lot 1, 'Comment': at most 2000 characters (got 2001)."),
        ("lots.2", "Lot 2 is awarded as a whole: price every position. Missing: 3, 5."),
        ("criteria.2.21", "Lot 2, 'Lead time, days': at least 1 (got 0)."),
        ("lines.42", "Position 42 is not in this tender."),
        ("criteria.1.99", "Lot 1 has no criterion 99."),
    ]


def test_specs_refuse_unknown_kinds_and_modes():
    with pytest.raises(ValueError, match="criterion kind"):
        CriterionSpec(1, "Colour", "colour", False, None, None, ())
    with pytest.raises(ValueError, match="award mode"):
        LotSpec(1, "cheapest", (), ())


@pytest.mark.parametrize(
    ("price", "quantity", "places", "total"),
    [
        ("1.005", "1", 2, "1.01"),
        ("0.125", "1", 2, "0.13"),
        ("0.124", "1", 2, "0.12"),
        ("2.50", "3", 2, "7.50"),
        ("3.33", "0.5", 2, "1.67"),
        ("19.99", "1000000", 2, "19990000.00"),
        ("2.5", "1", 0, "3"),
        ("0.0005", "1", 3, "0.001"),
        ("123456789012345.6789", "9876543210.98765", 2, "1219326311370217418780678.48"),
        # the exact product, not one rounded to 28 digits first (that would give 1.01)
        ("1.004999999999999999999999999999", "1", 2, "1.00"),
    ],
)
def test_line_total_rounds_half_up(price, quantity, places, total):
    # The text, not just the value: Decimal("7.5") == Decimal("7.50"), but the places differ.
    assert str(line_total(Decimal(price), Decimal(quantity), places)) == total


# --------------------------------------------------------------------------- price_ranks

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def at(minutes):
    return T0 + dt.timedelta(minutes=minutes)


def test_lowest_price_ranks_first():
    offers = {"a": offer({"1": "4"}), "b": offer({"1": "3"}), "c": offer({"1": "5"})}
    made = {("a", "1"): at(0), ("b", "1"): at(1), ("c", "1"): at(2)}
    assert price_ranks(offers, made, LOTS) == {"a": 2, "b": 1, "c": 3}


def test_equal_prices_rank_by_the_moment_first_made():
    offers = {"a": offer({"1": "4.00"}), "b": offer({"1": "4"}), "c": offer({"1": "3"})}
    made = {("a", "1"): at(5), ("b", "1"): at(2), ("c", "1"): at(9)}
    assert price_ranks(offers, made, LOTS) == {"c": 1, "b": 2, "a": 3}


def test_identical_price_and_moment_share_a_rank():
    offers = {"a": offer({"1": "4"}), "b": offer({"1": "4"}), "c": offer({"1": "5"})}
    made = {("a", "1"): at(1), ("b", "1"): at(1), ("c", "1"): at(0)}
    assert price_ranks(offers, made, LOTS) == {"a": 1, "b": 1, "c": 3}


def test_missing_moment_ranks_after_known_ones_at_equal_price():
    offers = {"a": offer({"1": "4"}), "b": offer({"1": "4"})}
    assert price_ranks(offers, {("b", "1"): at(9)}, LOTS) == {"a": 2, "b": 1}


def test_best_rank_over_all_positions():
    offers = {"a": offer({"1": "4", "2": "9"}), "b": offer({"1": "3", "2": "10"})}
    made = {(b, n): at(0) for b in "ab" for n in "12"}
    assert price_ranks(offers, made, LOTS) == {"a": 1, "b": 1}
    offers = {"a": offer({"1": "4", "2": "11"}), "b": offer({"1": "3", "2": "10"})}
    assert price_ranks(offers, made, LOTS) == {"a": 2, "b": 1}


def test_bidder_pricing_nothing_has_no_rank():
    offers = {"a": offer({"1": "4"}), "b": offer({})}
    assert price_ranks(offers, {("a", "1"): at(0)}, LOTS) == {"a": 1, "b": None}


def test_whole_lot_ranks_on_the_lot_total():
    # lot 2 quantities: 3 x1, 4 x2, 5 x0.5
    offers = {
        "a": offer({"3": "10", "4": "1", "5": "1"}),  # 10 + 2 + 0.5 = 12.50
        "b": offer({"3": "1", "4": "5", "5": "1"}),  # 1 + 10 + 0.5 = 11.50
        "c": offer({"3": "1", "4": "1", "5": "20"}),  # 1 + 2 + 10 = 13.00
    }
    made = {(b, n): at(0) for b in "abc" for n in "345"}
    assert price_ranks(offers, made, (LOT2,)) == {"a": 2, "b": 1, "c": 3}


def test_whole_lot_uses_rounded_line_totals():
    lot = LotSpec(3, "whole_lot", (PositionSpec("7", Decimal("0.5"), None),), ())
    # 0.01 x 0.5 = 0.005 -> 0.01 (half-up), so both totals are 0.01: a tie decided by time
    offers = {"a": offer({"7": "0.01"}), "b": offer({"7": "0.02"})}
    made = {("a", "7"): at(1), ("b", "7"): at(0)}
    assert price_ranks(offers, made, (lot,)) == {"a": 2, "b": 1}


def test_whole_lot_tie_goes_to_the_earlier_latest_line():
    offers = {
        "a": offer({"3": "2", "4": "1", "5": "2"}),  # 2 + 2 + 1 = 5
        "b": offer({"3": "1", "4": "1", "5": "4"}),  # 1 + 2 + 2 = 5
    }
    # a's lines: 0, 1, 8 -> 8; b's lines: 3, 4, 5 -> 5 (b's complete total is older)
    made = {
        ("a", "3"): at(0),
        ("a", "4"): at(1),
        ("a", "5"): at(8),
        ("b", "3"): at(3),
        ("b", "4"): at(4),
        ("b", "5"): at(5),
    }
    assert price_ranks(offers, made, (LOT2,)) == {"a": 2, "b": 1}


def test_incomplete_whole_lot_offer_is_ignored():
    offers = {
        "a": offer({"3": "0.01", "4": "0.01"}),  # position 5 missing
        "b": offer({"3": "10", "4": "10", "5": "10"}),
    }
    made = {(b, n): at(0) for b in "ab" for n in "345"}
    assert price_ranks(offers, made, (LOT2,)) == {"a": None, "b": 1}


def test_ranks_over_per_position_and_whole_lot_lots_together():
    offers = {
        "a": offer({"1": "3", "3": "9", "4": "9", "5": "9"}),
        "b": offer({"1": "2", "3": "1", "4": "1", "5": "1"}),
        "c": offer({"2": "7"}),
    }
    made = {(b, n): at(0) for b in "abc" for n in "12345"}
    assert price_ranks(offers, made, LOTS) == {"a": 2, "b": 1, "c": 1}


# --------------------------------------------------------------------------- property


EDGES = ("at_deadline", "window_edge", "just_before", "just_after")
step = st.one_of(
    st.integers(min_value=0, max_value=90 * 60 * 1_000_000).map(
        lambda us: dt.timedelta(microseconds=us)
    ),
    st.sampled_from(EDGES),
)
events = st.lists(
    st.tuples(step, st.booleans(), st.one_of(st.none(), st.integers(1, 5))), max_size=40
)
policies = st.builds(
    ExtensionPolicy,
    window=st.integers(0, 120).map(lambda m: dt.timedelta(minutes=m)),
    extension=st.integers(1, 120).map(lambda m: dt.timedelta(minutes=m)),
    mode=st.sampled_from(("from_deadline", "from_change")),
    trigger_rank=st.one_of(st.none(), st.integers(1, 3)),
    max_extensions=st.one_of(st.none(), st.integers(0, 6)),
    latest_close=st.one_of(
        st.none(), st.integers(-60, 600).map(lambda m: D + dt.timedelta(minutes=m))
    ),
)


def next_moment(now, move, deadline, policy):
    if move == "at_deadline":
        target = deadline
    elif move == "window_edge":
        target = deadline - policy.window
    elif move == "just_before":
        target = deadline - US
    elif move == "just_after":
        target = deadline + US
    else:
        target = now + move
    return max(now, target)  # server time never goes back


def moved_to(policy, deadline, now):
    """The rule restated independently: where an extension would move the deadline."""
    if policy.mode == "from_deadline":
        target = deadline + policy.extension
    else:
        target = now + policy.extension
    if policy.latest_close is not None:
        target = min(target, policy.latest_close)
    return target


def should_extend(policy, deadline, now, triggering, rank, count):
    """The rule restated independently: every condition under which the deadline moves."""
    if not (triggering and deadline - policy.window <= now < deadline):
        return False
    if policy.trigger_rank is not None and (rank is None or rank > policy.trigger_rank):
        return False
    if policy.max_extensions is not None and count >= policy.max_extensions:
        return False
    return moved_to(policy, deadline, now) > deadline


@settings(max_examples=300, deadline=None)
@given(policy=policies, stream=events, lead=st.integers(0, 240))
def test_replayed_changes_keep_the_rule(policy, stream, lead):
    deadline, count = D, 0
    now = D - dt.timedelta(minutes=lead)
    for move, triggering, rank in stream:
        now = next_moment(now, move, deadline, policy)
        decision = decide(
            deadline, now, policy, triggering=triggering, rank=rank, extensions_so_far=count
        )
        # Each field against the restated rule, once: accepted, refusal, extended, deadline.
        assert decision.previous_deadline == deadline
        assert decision.accepted is (now < deadline)
        closed = Refusal("bidding_closed", {"deadline": deadline})
        assert decision.refusal == (None if decision.accepted else closed)
        extended = should_extend(policy, deadline, now, triggering, rank, count)
        assert decision.extended is extended
        assert decision.deadline == (moved_to(policy, deadline, now) if extended else deadline)
        count += extended
        deadline = decision.deadline


@pytest.mark.parametrize(
    ("mode", "viewer", "own", "open_", "level"),
    [
        ("open_after_own_bid", "supplier", False, True, "count"),
        ("open_after_own_bid", "supplier", True, True, "offers"),
        ("open_after_own_bid", "customer", False, True, "offers"),
        ("open_after_own_bid", "public", False, True, "count"),
        ("rank_only", "supplier", True, True, "rank"),
        ("rank_only", "supplier", False, True, "count"),
        ("sealed", "supplier", True, True, "count"),
        ("sealed", "customer", False, True, "count"),
        ("sealed", "customer", False, False, "named"),
        ("open_after_own_bid", "customer", False, False, "named"),
        ("rank_only", "supplier", True, False, "rank"),
    ],
)
def test_visibility_levels(mode, viewer, own, open_, level):
    assert visibility_level(mode, viewer=viewer, has_own_bid=own, bidding_open=open_) == level


def test_unknown_visibility_mode_is_refused():
    with pytest.raises(ValueError):
        visibility_level("peek", viewer="supplier", has_own_bid=True, bidding_open=True)
