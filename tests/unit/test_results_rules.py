"""Ranking and scoring tables (results/rules.py): price-only, weighted scores with
exact decimals, ties, missing optional criteria, disqualification, whole-lot totals."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bids.rules import first_offered, line_total
from results import rules as ev

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
    assert line_total(D("0.05"), D("0.100")) == D("0.01")  # 0.005
    assert line_total(D("19.99"), D("3.333")) == D("66.63")  # 66.62667
    assert line_total(D("999999999.99"), D("1000")) == D("999999999990.00")


def test_evaluation_and_bidding_share_one_line_total():
    assert ev.line_total is line_total


def _cents_half_up(unit_price: D, quantity: D) -> D:
    """The evaluation's former rule, as it was: the exact product in integers, half-up."""
    pn, pd = unit_price.as_integer_ratio()
    qn, qd = quantity.as_integer_ratio()
    den = pd * qd
    cents, remainder = divmod(pn * qn * 100, den)
    if 2 * remainder >= den:
        cents += 1
    return D(cents).scaleb(-2)


# NUMERIC(18, 2) prices x quantities up to 10^10: products far beyond any stored total
# (NUMERIC(18, 2)); past 28 digits the former rule rounded in the default Decimal context.
@settings(max_examples=500, deadline=None)
@given(
    price=st.decimals(min_value=0, max_value=D("9999999999999999.99"), places=2),
    quantity=st.decimals(min_value=D("0.001"), max_value=D("9999999999.999"), places=3),
)
def test_line_total_equals_the_former_evaluation_rule(price, quantity):
    assert str(line_total(price, quantity)) == str(_cents_half_up(price, quantity))


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
    assert first_offered(history, {"1": 1, "2": 1}) == {"1": at(1), "2": at(2)}
    changed_criteria = [*history, (at(4), {"1": D("100"), "2": D("45")}, {1: {7: D(24)}})]
    assert first_offered(changed_criteria, {"1": 1, "2": 1}) == {"1": at(4), "2": at(4)}
    back_again = [
        (at(1), {"1": D("100")}, {}),
        (at(2), {"1": D("90")}, {}),
        (at(3), {"1": D("100")}, {}),
    ]
    assert first_offered(back_again, {"1": 1}) == {"1": at(3)}
    assert first_offered([], {}) == {}


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


# --------------------------------------------------------------------------- property test
# The fast per-position path (Decimal integer division in an exact context, per-bid criterion
# parts, sorting on precomputed keys) against a straightforward reference written here with
# Fraction: the same ranks, the same scores and parts to the last digit, the same exclusions.


def _half_up(value: Fraction) -> Fraction:
    """value (>= 0) rounded half-up to 6 places, as an exact fraction."""
    return Fraction(math.floor(value * 10**6 + Fraction(1, 2)), 10**6)


def _reference_ratio(c: ev.CriterionDef, value, best) -> Fraction:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Fraction(0)
    if c.kind == "boolean":
        return Fraction(1 if value is True else 0)
    if c.kind == "choice":
        score = c.options.get(value) if isinstance(value, str) else None
        if score is None or best is None or best <= 0:
            return Fraction(0)
        return Fraction(score) / Fraction(best)
    if not isinstance(value, D) or best is None:
        return Fraction(0)
    if best <= 0 or value <= 0:
        return Fraction(1 if value == best else 0)
    if c.direction == "lower_better":
        return Fraction(best) / Fraction(value)
    return Fraction(value) / Fraction(best)


def _reference_scores(lot: ev.LotDef, pool: list, scored: list) -> dict:
    """participant -> (score, price points, [(criterion id, ratio, points, best)])."""
    best_price = min(Fraction(line.unit_price) for _, line in pool)
    bests = {}
    for c in lot.criteria:
        if c.kind == "number":
            numbers = [
                v
                for b, _ in pool
                if isinstance(v := b.criteria.get((lot.number, c.id)), D)
                and not isinstance(v, bool)
            ]
            pick = min if c.direction == "lower_better" else max
            bests[c.id] = pick(numbers) if numbers else None
        elif c.kind == "choice":
            bests[c.id] = max(c.options.values(), default=D(0))
        else:
            bests[c.id] = None
    out = {}
    for b, line in scored:
        price_points = _half_up(Fraction(lot.price_weight) * best_price / Fraction(line.unit_price))
        parts = []
        for c in lot.criteria:
            if c.kind not in ("number", "boolean", "choice") or c.weight <= 0:
                continue
            ratio = _reference_ratio(c, b.criteria.get((lot.number, c.id)), bests[c.id])
            points = _half_up(Fraction(c.weight) * ratio)
            parts.append((c.id, _half_up(ratio), points, bests[c.id]))
        out[b.participant_number] = (
            price_points + sum(p[2] for p in parts),
            price_points,
            parts,
        )
    return out


def _reference_unit(lot: ev.LotDef, number: str, bids: list) -> tuple[list, list]:
    """(ranked offers, excluded offers) of one position, as comparable tuples."""
    entries = []
    for b in bids:
        line = b.lines.get(number)
        if line is not None:
            reason = b.disqualified or b.disqualified_lots.get(lot.number)
            entries.append((b, line, reason))
    valid = [(b, line) for b, line, reason in entries if reason is None]
    out = [(b, line, reason) for b, line, reason in entries if reason is not None]
    scores = _reference_scores(lot, valid, valid) if valid else {}
    order = sorted(
        range(len(valid)),
        key=lambda k: (
            -scores[valid[k][0].participant_number][0],
            valid[k][1].unit_price,
            valid[k][1].first_offered_at,
            valid[k][0].participant_number,
            k,
        ),
    )
    ranked = [
        (valid[k][0].participant_number, rank, *scores[valid[k][0].participant_number])
        for rank, k in enumerate(order, start=1)
    ]
    excluded = []
    for b, line, reason in sorted(out, key=lambda e: e[0].participant_number):
        pool = [*valid, (b, line)] if valid else [(b, line) for b, line, _ in entries]
        own = _reference_scores(lot, pool, [(b, line)])[b.participant_number]
        excluded.append((b.participant_number, None, *own, reason))
    return ranked, excluded


def _as_tuples(offers, with_reason: bool) -> list:
    rows = []
    for o in offers:
        bd = o.breakdown
        # exactly 6 places everywhere, and the parts add up to the score
        assert o.score.as_tuple().exponent == -6 == bd.price_points.as_tuple().exponent
        assert bd.price_points + sum(p.points for p in bd.criteria) == o.score
        row = (
            o.participant_number,
            o.rank,
            Fraction(o.score),
            Fraction(bd.price_points),
            [(p.criterion_id, Fraction(p.ratio), Fraction(p.points), p.best) for p in bd.criteria],
        )
        rows.append((*row, o.reason) if with_reason else row)
    return rows


_PRICES = st.one_of(
    # 100 x 1 / 512 = 0.1953125 and 100 x 0.01 / 128 = 0.0078125: exact halves at the 7th
    # place (half-up, not half-even); equal values written differently (80 and 80.00)
    st.sampled_from([D(1), D("5.12"), D(512), D("0.01"), D(128), D(80), D("80.00"), D(64)]),
    st.builds(
        lambda units, places: D(units).scaleb(-places),
        st.integers(min_value=1, max_value=200_000),
        st.integers(min_value=0, max_value=3),
    ),
)
_CRITERIA = (
    ev.CriterionDef(1, "Warranty", "number", D(20), "higher_better"),
    ev.CriterionDef(2, "Delivery days", "number", D("12.5"), "lower_better"),
    ev.CriterionDef(3, "Deferral", "choice", D(10), options={"no": 0, "30": D("0.5"), "60": 1}),
    ev.CriterionDef(4, "ISO 9001", "boolean", D("7.5")),
    ev.CriterionDef(5, "Comment", "text"),
)
_VALUES = {
    1: st.sampled_from([None, D(0), D(12), D(18), D("24.0"), D(36)]),
    2: st.sampled_from([None, D(1), D(5), D("7.5"), D(64)]),  # 12.5 x 1 / 64 = 0.1953125
    3: st.sampled_from([None, "no", "30", "60", "unknown"]),
    4: st.sampled_from([None, True, False]),
    5: st.sampled_from([None, "=1+1"]),
}


@st.composite
def _tenders(draw):
    picked = draw(st.lists(st.sampled_from(range(len(_CRITERIA))), unique=True, max_size=4))
    chosen = [_CRITERIA[k] for k in picked]
    price_weight = draw(st.sampled_from([D(100), D(100), D(70), D("33.3"), D(0)]))
    if not chosen:
        price_weight = draw(st.sampled_from([D(100), D("12.5")]))
    positions = tuple(pos(str(n)) for n in range(1, draw(st.integers(1, 4)) + 1))
    lot = ev.LotDef(1, "per_position", positions, price_weight, tuple(chosen))
    bids = []
    for n in draw(st.permutations(range(1, draw(st.integers(1, 7)) + 1))):
        # mostly every position priced (the bests of everyone), sometimes a gap
        numbers = [p.number for p in positions if draw(st.sampled_from([True] * 4 + [False]))]
        lines = {
            number: ev.OfferedLine(draw(_PRICES), at(draw(st.integers(0, 2)))) for number in numbers
        }
        criteria = {(1, c.id): draw(_VALUES[c.id]) for c in chosen}
        reason = draw(st.sampled_from([None, None, None, "Forged licence"]))
        lot_reason = draw(st.sampled_from([{}, {}, {}, {1: "No certificate"}, {2: "Other lot"}]))
        bids.append(ev.BidInput(100 + n, n, 1000 + n, lines, criteria, reason, lot_reason))
    return lot, bids


@settings(max_examples=300, deadline=None)
@given(_tenders())
def test_fast_path_matches_a_fraction_reference(tender):
    lot, bids = tender
    evaluation = ev.evaluate([lot], bids)
    assert [r.position_number for r in evaluation.results] == [p.number for p in lot.positions]
    for result in evaluation.results:
        ranked, excluded = _reference_unit(lot, result.position_number, bids)
        assert _as_tuples(result.offers, False) == ranked
        assert _as_tuples(result.excluded, True) == excluded
        assert result.status == ("awarded" if ranked else "unsuccessful")
        if result.offers:
            best = min(o.unit_price for o in result.offers)
            assert all(o.breakdown.best_price == best for o in result.offers)
        quantity = next(p.quantity for p in lot.positions if p.number == result.position_number)
        by_participant = {b.participant_number: b for b in bids}
        for o in result.offers + result.excluded:
            # the rest of each record: the bid's own line, and the breakdown from its fields
            b = by_participant[o.participant_number]
            line = b.lines[result.position_number]
            assert (o.bid_id, o.organization_id) == (b.bid_id, b.organization_id)
            assert (o.unit_price, o.first_offered_at) == (line.unit_price, line.first_offered_at)
            assert o.total == line_total(line.unit_price, quantity)
            assert o.status == ("valid" if o.reason is None else "disqualified")
            assert o.breakdown == (o.price_weight, o.best_price, o.price_points, o.criteria)
