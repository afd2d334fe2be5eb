"""Pure notification rules: reminders, digests, mail modes, facets, unsubscribe scopes."""

import datetime as dt
from decimal import Decimal

import pytest

from notifications import rules

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (dt.timedelta(hours=30), None),
        (dt.timedelta(hours=24), "24h"),
        (dt.timedelta(hours=2), "24h"),
        (dt.timedelta(hours=1), "1h"),
        (dt.timedelta(minutes=1), "1h"),
        (dt.timedelta(0), None),
        (dt.timedelta(minutes=-5), None),
    ],
)
def test_reminder_due_picks_the_narrowest_window(left, expected):
    assert rules.reminder_due(NOW + left, NOW) == expected


def test_no_reminder_without_deadline():
    assert rules.reminder_due(None, NOW) is None


def test_digest_cutoff_is_the_last_digest_hour():
    moscow = dt.timezone(dt.timedelta(hours=3))
    morning = dt.datetime(2026, 3, 10, 9, 30, tzinfo=moscow)
    assert rules.digest_cutoff(morning, 8) == dt.datetime(2026, 3, 10, 8, 0, tzinfo=moscow)
    early = dt.datetime(2026, 3, 10, 7, 59, tzinfo=moscow)
    assert rules.digest_cutoff(early, 8) == dt.datetime(2026, 3, 9, 8, 0, tzinfo=moscow)


def test_email_modes():
    assert rules.email_mode(False, "instant") == "none"
    assert rules.email_mode(True, "instant") == "instant"
    assert rules.email_mode(True, "daily") == "digest"
    assert rules.strongest_email_mode(["none", "digest"]) == "digest"
    assert rules.strongest_email_mode(["digest", "instant"]) == "instant"
    assert rules.strongest_email_mode([]) == "none"


def test_extension_mail_quiet_period():
    assert rules.extension_mail_due(None, NOW)
    assert not rules.extension_mail_due(NOW - dt.timedelta(minutes=20), NOW)
    assert rules.extension_mail_due(NOW - dt.timedelta(hours=1), NOW)


def test_subscription_needs_a_facet_and_a_sane_range():
    assert "categories" in rules.subscription_problems({"price_min": Decimal(1)})
    assert rules.subscription_problems({"keywords": ["кабель"]}) == {}
    problems = rules.subscription_problems(
        {"regions": ["77"], "price_min": Decimal(10), "price_max": Decimal(5)}
    )
    assert set(problems) == {"price_max"}
    problems = rules.subscription_problems(
        {"regions": ["77"], "by_email": False, "in_cabinet": False}
    )
    assert set(problems) == {"in_cabinet"}


def _within(code: str, ancestor: str) -> bool:
    """OKPD2-like: "27.32" is in "27.3"; section "C" holds classes 10-33."""
    if ancestor == "C":
        return code[:2].isdigit() and 10 <= int(code[:2]) <= 33
    return code.startswith(ancestor)


def test_adjust_facets_widens_regions_and_narrows_categories():
    facets = [
        {"categories": ["25.1", "27.3"], "regions": ["77"]},
        {"categories": [], "regions": [], "keywords": ["кабель"]},
        {"categories": ["27.32"], "regions": []},
    ]
    out = rules.adjust_facets(facets, ["50"], ["27.3"], _within)
    assert out[0] == {"categories": ["25.1"], "regions": ["50", "77"]}
    assert out[1]["regions"] == []  # "any region" stays any region
    assert len(out) == 2  # the third lost every category: left out, not widened
    assert rules.adjust_facets(facets, [], ["C"], _within) == [facets[1]]


@pytest.mark.parametrize(
    ("scope", "parsed"),
    [
        ("subscription:12", ("subscription", 12)),
        ("tender:5", ("tender", 5)),
        ("alerts", ("alerts", None)),
    ],
)
def test_parse_scope(scope, parsed):
    assert rules.parse_scope(scope) == parsed


@pytest.mark.parametrize("scope", ["", "alerts:1", "tender:", "tender:x", "everything", "sub:1"])
def test_parse_scope_refuses_malformed(scope):
    with pytest.raises(ValueError):
        rules.parse_scope(scope)
