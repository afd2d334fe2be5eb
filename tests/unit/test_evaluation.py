"""Ranking and scoring tables (positions/evaluation.py): price-only, weighted scores with
exact decimals, ties, missing optional criteria, disqualification, whole-lot totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from positions import evaluation as ev

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def pos(number: str, qty: str = "10", cap: str | None = None) -> ev.PositionDef:
    return ev.PositionDef(number, D(qty), D(cap) if cap else None)


def bid(n: int, prices: dict, criteria=None, moments=None, **kw) -> ev.BidInput:
    moments = moments or {}
    return ev.BidInput(
        bid_id=100 + n,
        participant_number=n,
        organization_id=1000 + n,
        lines={k: ev.OfferedLine(D(v), moments.get(k, at(n))) for k, v in prices.items()},
        criteria=criteria or {},
        **kw,
    )


def ranking(result: ev.UnitResult) -> list[tuple[int, int]]:
    return [(o.participant_number, o.rank) for o in result.offers]


PRICE_ONLY = ev.LotDef(1, "per_position", (pos("1", "10", "100"), pos("2", "5")))


@pytest.mark.parametrize(
    ("prices", "expected"),
    [
        # lowest price wins
        ({1: "90", 2: "80", 3: "85"}, [(2, 1), (3, 2), (1, 3)]),
        # equal prices: the earlier first offer wins (participant n offered at minute n)
        ({1: "80", 2: "80", 3: "79.99"}, [(3, 1), (1, 2), (2, 3)]),
    ],
)
def test_price_only_ranking(prices, expected):
    bids = [bid(n, {"1": p}) for n, p in prices.items()]
    result = ev.evaluate([PRICE_ONLY], bids).results[0]
    assert ranking(result) == expected
    assert result.status == "awarded"
    assert result.winner.participant_number == expected[0][0]


def test_tie_on_price_goes_to_the_moment_the_offer_was_first_made_not_the_bid_number():
    early = bid(2, {"1": "50"}, moments={"1": at(1)})
    late = bid(1, {"1": "50"}, moments={"1": at(5)})
    result = ev.evaluate_position(PRICE_ONLY, PRICE_ONLY.positions[0], [late, early])
    assert ranking(result) == [(2, 1), (1, 2)]


def test_identical_offers_at_the_same_moment_are_still_ranked_totally():
    a = bid(2, {"1": "50"}, moments={"1": at(1)})
    b = bid(1, {"1": "50"}, moments={"1": at(1)})
    result = ev.evaluate_position(PRICE_ONLY, PRICE_ONLY.positions[0], [a, b])
    assert ranking(result) == [(1, 1), (2, 2)]


def test_position_without_offer_is_unsuccessful_and_savings_need_a_maximum_price():
    result = ev.evaluate([PRICE_ONLY], [bid(1, {"1": "80"})])
    first, second = result.results
    assert first.status == "awarded"
    assert first.reference_total == D("1000.00")
    assert first.savings == D("200.00")  # (100 - 80) x 10
    assert second.status == "unsuccessful"
    assert second.winner is None and second.offers == () and second.savings is None
    assert result.awarded == 1 and result.unsuccessful == 1
    assert result.savings == D("200.00") and result.reference_total == D("1000.00")


def test_price_only_score_is_the_price_part():
    result = ev.evaluate([PRICE_ONLY], [bid(1, {"1": "80"}), bid(2, {"1": "100"})]).results[0]
    assert [o.score for o in result.offers] == [D("100.000000"), D("80.000000")]
    assert result.offers[1].breakdown.price_points == D("80.000000")
    assert result.offers[1].breakdown.criteria == ()


WARRANTY = ev.CriterionDef(7, "Warranty", "number", D(20), "higher_better")
DEFERRAL = ev.CriterionDef(
    8, "Deferral", "choice", D(10), options={"none": D(0), "30 days": D("0.5"), "60 days": D(1)}
)
SCORED = ev.LotDef(1, "per_position", (pos("1"),), D(70), (WARRANTY, DEFERRAL))


def test_weighted_score_with_breakdown():
    a = bid(1, {"1": "100"}, {(1, 7): D(24), (1, 8): "30 days"})
    b = bid(2, {"1": "90"}, {(1, 7): D(36), (1, 8): "none"})
    result = ev.evaluate([SCORED], [a, b]).results[0]
    winner, second = result.offers
    assert winner.participant_number == 2 and winner.score == D("90.000000")
    assert second.score == D("81.333333")  # 63 + 13.333333 + 5
    bd = second.breakdown
    assert bd.price_points == D("63.000000")  # 70 x 90 / 100
    assert bd.price_ratio(D("100")) == D("0.900000")
    assert [(p.name, p.value, p.ratio, p.points) for p in bd.criteria] == [
        ("Warranty", D(24), D("0.666667"), D("13.333333")),
        ("Deferral", "30 days", D("0.500000"), D("5.000000")),
    ]
    assert bd.criteria[0].best == D(36)
    # the parts shown add up exactly to the score shown
    assert bd.price_points + sum(p.points for p in bd.criteria) == second.score


def test_equal_scores_go_to_the_lower_price():
    lot = ev.LotDef(
        1,
        "per_position",
        (pos("1"),),
        D(50),
        (ev.CriterionDef(1, "Experience", "number", D(50), "higher_better"),),
    )
    cheap = bid(2, {"1": "100"}, {(1, 1): D(10)})  # 50 + 25
    dear = bid(1, {"1": "200"}, {(1, 1): D(20)})  # 25 + 50
    result = ev.evaluate([lot], [dear, cheap]).results[0]
    assert [o.score for o in result.offers] == [D("75.000000"), D("75.000000")]
    assert ranking(result) == [(2, 1), (1, 2)]


def test_missing_optional_criterion_scores_zero_and_is_not_the_best():
    lot = ev.LotDef(
        1,
        "per_position",
        (pos("1"),),
        D(80),
        (ev.CriterionDef(1, "Delivery days", "number", D(20), "lower_better"),),
    )
    given = bid(1, {"1": "100"}, {(1, 1): D(10)})
    missing = bid(2, {"1": "100"})
    faster = bid(3, {"1": "100"}, {(1, 1): D(5)})
    result = ev.evaluate([lot], [given, missing, faster]).results[0]
    scores = {o.participant_number: o.score for o in result.offers}
    assert scores == {3: D("100.000000"), 1: D("90.000000"), 2: D("80.000000")}
    part = next(o for o in result.offers if o.participant_number == 2).breakdown.criteria[0]
    assert part.value is None and part.points == D("0.000000")


def test_boolean_and_text_criteria():
    lot = ev.LotDef(
        1,
        "per_position",
        (pos("1"),),
        D(90),
        (
            ev.CriterionDef(1, "ISO 9001", "boolean", D(10)),
            ev.CriterionDef(2, "Comment", "text"),
        ),
    )
    yes = bid(1, {"1": "100"}, {(1, 1): True, (1, 2): "=HYPERLINK()"})
    no = bid(2, {"1": "100"}, {(1, 1): False})
    result = ev.evaluate([lot], [yes, no]).results[0]
    assert [(o.participant_number, o.score) for o in result.offers] == [
        (1, D("100.000000")),
        (2, D("90.000000")),
    ]
    assert [p.name for p in result.offers[0].breakdown.criteria] == ["ISO 9001"]


@pytest.mark.parametrize(
    ("best", "price", "points"),
    [
        ("1.00", "3.00", "33.333333"),
        ("2.00", "3.00", "66.666667"),
        ("1.00", "12800.00", "0.007813"),  # 0.0078125: half-up, not half-even
        ("99999999.99", "100000000.00", "100.000000"),  # 99.99999999
        ("99999999.00", "100000000.00", "99.999999"),
        ("0.01", "999999999999.99", "0.000000"),
    ],
)
def test_price_points_are_rounded_half_up_to_six_places_exactly(best, price, points):
    assert ev.ratio_points(D(100), D(best), D(price)) == D(points)


def test_line_totals_are_exact_cents_half_up():
    assert ev.line_total(D("0.05"), D("0.100")) == D("0.01")  # 0.005
    assert ev.line_total(D("19.99"), D("3.333")) == D("66.63")  # 66.62667
    assert ev.line_total(D("999999999.99"), D("1000")) == D("999999999990.00")


def test_whole_bid_disqualification_drops_out_and_the_ranking_recomputes():
    a = bid(1, {"1": "80"})
    b = bid(2, {"1": "90"}, disqualified="Forged licence")
    c = bid(3, {"1": "95"})
    before = ev.evaluate([PRICE_ONLY], [a, bid(2, {"1": "70"}), c]).results[0]
    assert before.winner.participant_number == 2
    after = ev.evaluate([PRICE_ONLY], [a, b, c]).results[0]
    assert ranking(after) == [(1, 1), (3, 2)]
    (out,) = after.excluded
    assert (out.participant_number, out.rank, out.status, out.reason) == (
        2,
        None,
        "disqualified",
        "Forged licence",
    )


def test_lot_disqualification_applies_to_that_lot_only():
    lot2 = ev.LotDef(2, "per_position", (pos("3"),))
    a = bid(1, {"1": "50", "3": "50"}, disqualified_lots={2: "No certificate"})
    b = bid(2, {"1": "60", "3": "60"})
    results = ev.evaluate([PRICE_ONLY, lot2], [a, b]).results
    by_position = {r.position_number: r for r in results}
    assert by_position["1"].winner.participant_number == 1
    assert by_position["3"].winner.participant_number == 2
    assert by_position["3"].excluded[0].reason == "No certificate"


def test_all_offers_disqualified_makes_the_position_unsuccessful():
    a = bid(1, {"1": "50"}, disqualified="x")
    result = ev.evaluate_position(PRICE_ONLY, PRICE_ONLY.positions[0], [a])
    assert result.status == "unsuccessful" and result.offers == ()
    assert len(result.excluded) == 1


WHOLE = ev.LotDef(
    1,
    "whole_lot",
    (pos("1", "200", "7800"), pos("2", "120", "6900")),
)


def test_whole_lot_is_ranked_on_the_total_of_complete_offers():
    cheap_first = bid(1, {"1": "7000", "2": "6900"})  # 1,400,000 + 828,000 = 2,228,000
    cheap_total = bid(2, {"1": "7100", "2": "6500"})  # 1,420,000 + 780,000 = 2,200,000
    incomplete = bid(3, {"1": "1"})  # a whole lot is priced completely or not at all
    result = ev.evaluate([WHOLE], [cheap_first, cheap_total, incomplete]).results[0]
    assert result.position_number is None and result.award_mode == "whole_lot"
    assert ranking(result) == [(2, 1), (1, 2)]
    assert result.winner.total == D("2200000.00") and result.winner.unit_price is None
    assert result.winner.price == D("2200000.00")
    assert result.reference_total == D("2388000.00")
    assert result.savings == D("188000.00")


def test_whole_lot_tie_uses_the_latest_first_offer_of_its_lines():
    a = bid(1, {"1": "7000", "2": "6900"}, moments={"1": at(1), "2": at(30)})
    b = bid(2, {"1": "7000", "2": "6900"}, moments={"1": at(10), "2": at(10)})
    result = ev.evaluate([WHOLE], [a, b]).results[0]
    assert ranking(result) == [(2, 1), (1, 2)]
    assert result.offers[1].first_offered_at == at(30)


def test_positions_subset_evaluates_a_page():
    bids = [bid(1, {"1": "80", "2": "9"}), bid(2, {"1": "70"})]
    page = ev.evaluate_lots([PRICE_ONLY], bids, positions=["2"])
    assert [r.position_number for r in page.results] == ["2"]


def test_first_offered_follows_unchanged_price_and_criteria():
    history = [
        (at(1), {"1": D("100"), "2": D("50")}, {1: {7: D(12)}}),
        (at(2), {"1": D("100"), "2": D("45")}, {1: {7: D(12)}}),
        (at(3), {"1": D("100"), "2": D("45")}, {1: {7: D(12)}}),
    ]
    assert ev.first_offered(history, {"1": 1, "2": 1}) == {"1": at(1), "2": at(2)}
    changed_criteria = [*history, (at(4), {"1": D("100"), "2": D("45")}, {1: {7: D(24)}})]
    assert ev.first_offered(changed_criteria, {"1": 1, "2": 1}) == {"1": at(4), "2": at(4)}
    back_again = [
        (at(1), {"1": D("100")}, {}),
        (at(2), {"1": D("90")}, {}),
        (at(3), {"1": D("100")}, {}),
    ]
    assert ev.first_offered(back_again, {"1": 1}) == {"1": at(3)}
    assert ev.first_offered([], {}) == {}


def test_unknown_award_mode_is_refused():
    with pytest.raises(ValueError, match="award mode"):
        ev.LotDef(1, "lottery", ())


def test_choice_scores_relative_to_the_best_option_even_given_as_integers():
    deferral = ev.CriterionDef(1, "Deferral", "choice", 10, options={"no": 0, "30": 1, "60": 2})
    lot = ev.LotDef(1, "per_position", (pos("1"),), D(90), (deferral,))
    a = bid(1, {"1": "100"}, {(1, 1): "30"})
    b = bid(2, {"1": "100"}, {(1, 1): "60"})
    result = ev.evaluate([lot], [a, b]).results[0]
    assert [(o.participant_number, o.score) for o in result.offers] == [
        (2, D("100.000000")),
        (1, D("95.000000")),
    ]


def test_a_disqualified_offer_shows_the_score_it_would_have_had_but_no_rank():
    valid = bid(1, {"1": "80"})
    out = bid(2, {"1": "40"}, disqualified="Forged licence")
    result = ev.evaluate_position(PRICE_ONLY, PRICE_ONLY.positions[0], [valid, out])
    (winner,) = result.offers
    assert winner.score == D("100.000000")  # ranked among the valid offers only
    (excluded,) = result.excluded
    assert excluded.rank is None and excluded.status == "disqualified"
    assert excluded.score == D("100.000000") and excluded.breakdown.best_price == D("40")
