"""The pure rules of "My bids": stages, ranges, a lot's standing, results (issue 22)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from workspaces import rules

T0 = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def test_every_status_but_draft_has_a_stage():
    assert rules.stage_of("published") == "bidding"
    assert rules.stage_of("closed") == "review"
    assert rules.stage_of("results_published") == "results"
    assert rules.stage_of("draft") is None
    assert {rules.stage_of(s) for s in ("cancelled", "unsuccessful")} == {
        "cancelled",
        "unsuccessful",
    }


def test_a_range_ending_before_it_starts_is_refused():
    day = dt.date(2026, 12, 6)
    assert rules.check_range(day, day) is None
    assert rules.check_range(None, day) is None and rules.check_range(day, None) is None
    assert rules.check_range(day, day - dt.timedelta(days=1)) == rules.RANGE_MESSAGE


def test_standing_is_shown_exactly_where_the_offers_table_shows_prices_or_ranks():
    assert [
        lvl for lvl in ("count", "rank", "offers", "named", "results") if rules.shows_standing(lvl)
    ] == [
        "rank",
        "offers",
        "named",
    ]


def test_lot_rank_by_total_ties_to_the_earlier_revision():
    offers = [
        rules.Offer(1, Decimal("100"), T0 + dt.timedelta(minutes=5)),
        rules.Offer(2, Decimal("90"), T0),
        rules.Offer(3, Decimal("100"), T0),
    ]
    assert rules.lot_rank(1, offers) == (3, Decimal("90"))
    assert rules.lot_rank(3, offers) == (2, Decimal("90"))
    assert rules.lot_rank(2, offers) == (1, Decimal("90"))
    assert rules.lot_rank(9, offers) == (None, Decimal("90"))
    assert rules.lot_rank(1, []) == (None, None)


def test_lot_standing_per_position_and_whole():
    per = rules.lot_standing(1, "A", "per_position", 3, Decimal(10), Decimal(8), 1, None)
    assert (per.own_rank, per.leading, per.best_total) == (None, 1, Decimal(8))
    whole = rules.lot_standing(2, "B", "whole_lot", 2, Decimal(10), Decimal(9), 0, (2, Decimal(9)))
    assert (whole.own_rank, whole.leading, whole.best_total) == (2, None, Decimal(9))


def test_unit_outcomes_and_their_summary():
    assert rules.unit_outcome(1, 1, "valid", "awarded") == "won"
    assert rules.unit_outcome(1, 2, "valid", "awarded") == "lost"
    assert rules.unit_outcome(1, None, "valid", "unsuccessful") == "unsuccessful"
    assert rules.unit_outcome(1, 1, "disqualified", "awarded") == "disqualified"
    units = [
        rules.Unit(1, str(n), "per_position", outcome, None, None, None)
        for n, outcome in enumerate(["won"] * 3 + ["lost"] * 20 + ["disqualified"])
    ]
    summary = rules.summarize(units, [Decimal("1.50"), Decimal("2.25")])
    assert (summary.won, summary.lost, summary.disqualified, summary.units_total) == (3, 20, 1, 24)
    assert summary.won_total == Decimal("3.75")
    assert len(summary.units) == rules.RESULT_UNITS_SHOWN
    assert rules.summarize([], []).won_total == Decimal(0)


def test_sorts_come_in_pairs():
    assert set(rules.SORTS) == {k for key in rules.SORT_KEYS for k in (key, "-" + key)}
