"""The charts' pure arithmetic: price history replayed from offer changes, dashboard shares."""

import datetime as dt
from decimal import Decimal as D

import pytest

from reports import rules
from reports.rules import Change

T0 = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_position_history_best_and_each_bid():
    changes = [
        Change(at(0), 1, {10: D("90")}),
        Change(at(5), 2, {10: D("85")}),
        Change(at(9), 1, {10: D("84")}),
        Change(at(12), 2, {}, replace=True),  # bid 2 withdrew
    ]
    h = rules.price_history(changes, rules.POSITION)
    assert h.best == [(at(0), D("90")), (at(5), D("85")), (at(9), D("84"))]
    assert h.bids == {
        1: [(at(0), D("90")), (at(9), D("84"))],
        2: [(at(5), D("85")), (at(12), None)],
    }


def test_deltas_drop_and_change_single_positions():
    changes = [
        Change(at(0), 1, {10: D("90")}),
        Change(at(1), 1, {10: None}),  # the next revision no longer prices it
        Change(at(2), 1, {10: D("88")}),
    ]
    h = rules.price_history(changes, rules.POSITION)
    assert h.best == [(at(0), D("90")), (at(1), None), (at(2), D("88"))]


def test_a_change_that_moves_nothing_makes_no_step():
    changes = [Change(at(0), 1, {10: D("90")}), Change(at(3), 1, {10: D("90")})]
    h = rules.price_history(changes, rules.POSITION)
    assert h.best == [(at(0), D("90"))] and h.bids[1] == [(at(0), D("90"))]


def test_two_changes_at_one_moment_leave_the_later_state():
    changes = [Change(at(0), 1, {10: D("90")}), Change(at(0), 2, {10: D("80")})]
    assert rules.price_history(changes, rules.POSITION).best == [(at(0), D("80"))]


def test_whole_lot_counts_complete_offers_only():
    changes = [
        Change(at(0), 1, {1: D("100"), 2: D("50")}),
        Change(at(1), 2, {1: D("90")}),  # incomplete: not an offer on the whole lot
        Change(at(2), 2, {2: D("40")}),  # now complete: 130
    ]
    h = rules.price_history(changes, rules.WHOLE_LOT, positions=[1, 2])
    assert h.best == [(at(0), D("150")), (at(2), D("130"))]
    assert h.bids[2] == [(at(2), D("130"))]


def test_per_position_lot_sums_the_best_of_each_position():
    changes = [
        Change(at(0), 1, {1: D("100"), 2: D("50")}),
        Change(at(1), 2, {1: D("90")}),
        Change(at(2), 1, {1: None, 2: D("45")}),  # bid 1 drops position 1, lowers 2
        Change(at(3), 2, {}, replace=True),
    ]
    h = rules.price_history(changes, rules.PER_POSITION_LOT)
    assert [v for _, v in h.best] == [D("150"), D("140"), D("135"), D("45")]
    assert h.bids[1] == [(at(0), D("150")), (at(2), D("45"))]
    assert h.bids[2] == [(at(1), D("90")), (at(3), None)]


def test_no_changes_no_steps_and_unknown_kind_refused():
    assert rules.price_history([], rules.POSITION) == rules.History([], {})
    with pytest.raises(ValueError):
        rules.price_history([], "bogus")


def test_incremental_lowest_matches_a_full_recomputation():
    import random

    rnd = random.Random(7)
    changes, current = [], {}
    for i in range(400):
        bid = rnd.randint(1, 5)
        before = current.get(bid, {})
        after = {p: D(rnd.randint(50, 150)) for p in range(40) if rnd.random() < 0.7}
        if rnd.random() < 0.05:
            changes.append(Change(at(i), bid, {}, replace=True))
            after = {}
        else:
            delta = {p: v for p, v in after.items() if before.get(p) != v}
            delta.update({p: None for p in before if p not in after})
            changes.append(Change(at(i), bid, delta))
        current[bid] = after
    h = rules.price_history(changes, rules.PER_POSITION_LOT)
    lowest = {}
    for values in current.values():
        for p, v in values.items():
            lowest[p] = min(v, lowest.get(p, v))
    assert h.best[-1][1] == (sum(lowest.values()) if lowest else None)
    for bid, values in current.items():
        assert h.bids[bid][-1][1] == (sum(values.values()) if values else None)


def test_shares_averages_and_savings():
    assert rules.share(1, 3) == D("33.33")
    assert rules.share(2, 3) == D("66.67")
    assert rules.share(5, 0) is None
    assert rules.average(7, 2) == D("3.50")
    assert rules.average(0, 0) is None
    s = rules.savings(D("1000.00"), D("125.50"))
    assert (s.reference, s.savings, s.percent) == (D("1000.00"), D("125.50"), D("12.55"))
    assert rules.savings(None, None).percent is None


def test_months_and_periods():
    assert rules.months(dt.date(2025, 11, 15), dt.date(2026, 2, 1)) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert rules.months(dt.date(2026, 2, 1), dt.date(2026, 1, 1)) == []
    assert rules.default_period(dt.date(2026, 12, 6)) == (
        dt.date(2025, 12, 7),
        dt.date(2026, 12, 6),
    )
    assert rules.default_period(dt.date(2028, 2, 29)) == (dt.date(2027, 3, 1), dt.date(2028, 2, 29))
    assert rules.period_problem(dt.date(2026, 2, 1), dt.date(2026, 1, 1)) == "reversed"
    assert rules.period_problem(dt.date(2010, 1, 1), dt.date(2026, 1, 1)) == "too_long"
    assert rules.period_problem(dt.date(2026, 1, 1), dt.date(2026, 1, 1)) is None


def test_tender_figures_fold_the_groups_of_month_and_stage():
    G = rules.TenderGroup
    groups = [
        G("2026-01", "results_published", 2, 3, 2, 2, 2, D("1000.00"), D("100.00")),
        G("2026-01", "published", 1, 5, 1, 5, 0, None, None),  # open: no extensions counted
        G("2026-02", "closed", 1, 0, 0, 0, 0, None, None),
        G("2026-02", "results_published", 1, 1, 1, 1, 1, D("500.00"), D("25.50")),
        G("2026-03", "draft", 2, 0, 0, 0, 0, None, None),
    ]
    f = rules.tender_figures(groups, ("closed", "results_published", "unsuccessful"))
    assert f.tenders == 7
    assert f.stages == {"results_published": 3, "published": 1, "closed": 1, "draft": 2}
    assert (f.ended, f.extensions, f.extended, f.most) == (4, 4, 3, 2)
    assert (f.results, f.reference, f.saved) == (3, D("1500.00"), D("125.50"))
    assert f.months == {
        "2026-01": (3, D("1000.00"), D("100.00")),
        "2026-02": (2, D("500.00"), D("25.50")),
        "2026-03": (2, None, None),
    }
    empty = rules.tender_figures([], ("closed",))
    assert (empty.tenders, empty.ended, empty.most, empty.reference) == (0, 0, 0, None)
    assert empty.stages == {} and empty.months == {}
