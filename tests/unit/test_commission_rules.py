"""The commission's decision rules: exceptions against the ranking, digest, majority."""

from __future__ import annotations

import pytest

from results import commission_rules as cr


def unit(position="1", lot=1, offers=((10, 1, 1, "valid"), (20, 2, 2, "valid"))):
    return cr.Unit(lot, position, tuple(cr.Offer(*o) for o in offers))


DQ = (10, 1, 1, "valid"), (20, 2, 2, "valid"), (30, 3, None, "disqualified")


def test_confirm_is_the_ranking_and_no_deviation():
    d = cr.decide_unit(unit(), None)
    assert (d.outcome, d.winner_bid_id, d.winner_participant, d.deviation) == (
        "confirm",
        10,
        1,
        False,
    )
    assert cr.decide_unit(unit(), cr.Item(1, "1", "confirm", None, "")) == d


def test_choose_another_admissible_offer_is_a_deviation_with_its_reason():
    d = cr.decide_unit(unit(), cr.Item(1, "1", "choose", 2, "Опыт поставок"))
    assert (d.outcome, d.winner_bid_id, d.top_participant, d.reason, d.deviation) == (
        "choose",
        20,
        1,
        "Опыт поставок",
        True,
    )


def test_unsuccessful_with_offers_is_a_deviation_without_offers_not():
    d = cr.decide_unit(unit(), cr.Item(1, "1", "unsuccessful", None, "Цены выше рынка"))
    assert (d.winner_bid_id, d.deviation) == (None, True)
    empty = cr.decide_unit(unit(offers=()), cr.Item(1, "1", "unsuccessful", None, "Нет"))
    assert (empty.winner_bid_id, empty.deviation) == (None, False)


@pytest.mark.parametrize(
    ("outcome", "participant", "reason", "expected"),
    [
        ("choose", 2, "", "give the reason"),
        ("unsuccessful", None, "  ", None),  # the caller trims; blank -> refused below
        ("choose", None, "why", "name the participant"),
        ("choose", 9, "why", "made no offer here"),
        ("choose", 3, "why", "is disqualified here"),
        ("choose", 1, "why", "is ranked first"),
        ("maybe", 1, "why", "use confirm, choose or unsuccessful"),
        ("choose", 2, "x" * (cr.REASON_MAX + 1), "longer than 2000"),
        ("choose", 2, "why", None),
        ("unsuccessful", None, "why", None),
    ],
)
def test_check_item(outcome, participant, reason, expected):
    problem = cr.check_item(unit(offers=DQ), outcome, participant, reason.strip())
    if outcome == "unsuccessful" and not reason.strip():
        assert "give the reason" in str(problem)
    elif expected is None:
        assert problem is None
    else:
        assert expected in str(problem) and str(problem).startswith("position 1:")


def test_a_whole_lot_is_named_as_a_lot():
    problem = cr.check_item(unit(position=None, lot=2), "choose", 9, "why")
    assert str(problem) == "lot 2: participant 9 made no offer here."


def test_an_exception_the_ranking_no_longer_admits_lapses_to_the_ranking():
    item = cr.Item(1, "1", "choose", 3, "Лучшие сроки")
    d = cr.decide_unit(unit(offers=DQ), item)
    assert (d.outcome, d.winner_bid_id, d.deviation) == ("confirm", 10, False)
    assert "disqualified" in str(d.problem)
    assert cr.problems([d]) == [d.problem]


def test_resolve_and_unknown_items():
    units = [unit("1"), unit("2"), unit(None, lot=2)]
    items = [cr.Item(1, "2", "choose", 2, "r"), cr.Item(3, None, "unsuccessful", None, "r")]
    decided = cr.resolve(units, items)
    assert [d.outcome for d in decided] == ["confirm", "choose", "confirm"]
    assert [d.key for d in cr.deviations(decided)] == [(1, "2")]
    assert cr.unknown_items(units, items) == [items[1]]


def test_the_digest_binds_every_unit_outcome_winner_and_reason():
    units = [unit("1"), unit("2")]
    base = cr.digest(cr.resolve(units, []))
    assert base == cr.digest(cr.resolve(list(reversed(units)), []))  # order does not matter
    chosen = cr.digest(cr.resolve(units, [cr.Item(1, "2", "choose", 2, "r")]))
    reworded = cr.digest(cr.resolve(units, [cr.Item(1, "2", "choose", 2, "r2")]))
    assert len({base, chosen, reworded}) == 3
    # a disqualification that changes the top-ranked offer changes the decision too
    moved = [unit("1", offers=((20, 2, 1, "valid"), (10, 1, None, "disqualified"))), unit("2")]
    assert cr.digest(cr.resolve(moved, [])) != base


@pytest.mark.parametrize(
    ("members", "votes_for", "majority"),
    [
        (1, 1, True),
        (1, 0, False),
        (2, 1, False),
        (2, 2, True),
        (3, 2, True),
        (4, 2, False),
        (5, 3, True),
        (0, 0, False),
    ],
)
def test_majority_of_the_whole_commission(members, votes_for, majority):
    assert cr.has_majority(members, votes_for) is majority


def test_tally_counts_only_members():
    t = cr.tally([1, 2, 3], {1: "for", 2: "against", 9: "for"})
    assert (t.members, t.votes_for, t.votes_against, t.pending, t.needed, t.majority) == (
        3,
        1,
        1,
        1,
        2,
        False,
    )


def test_close_problem():
    yes = cr.Tally(3, 2, 1)
    assert cr.close_problem(yes, stale=False, open_problems=0) is None
    assert "prepare it again" in str(cr.close_problem(yes, stale=True, open_problems=0))
    assert "no longer admits" in str(cr.close_problem(yes, stale=False, open_problems=1))
    assert str(cr.close_problem(cr.Tally(3, 1, 0), False, 0)) == (
        "No majority yet: 1 of 3 members voted for, 2 are needed."
    )


def test_check_vote():
    assert cr.check_vote("for", "") is None
    assert cr.check_vote("against", "Цена завышена") is None
    assert "comment is required" in str(cr.check_vote("against", ""))
    assert "for or against" in str(cr.check_vote("abstain", ""))
    assert "longer than" in str(cr.check_vote("for", "x" * (cr.COMMENT_MAX + 1)))


def test_check_commission():
    eligible = {1, 2, 3}
    assert cr.check_commission([1, 2], 2, eligible) is None
    assert "at least one" in str(cr.check_commission([], None, eligible))
    assert "twice" in str(cr.check_commission([1, 1], 1, eligible))
    assert "User 7 is not a member" in str(cr.check_commission([1, 7], 1, eligible))
    assert "Name the chair" in str(cr.check_commission([1], None, eligible))
    assert "chair must be a member" in str(cr.check_commission([1], 2, eligible))
    too_many = list(range(1, cr.MEMBERS_MAX + 2))
    assert "at most" in str(cr.check_commission(too_many, 1, set(too_many)))
