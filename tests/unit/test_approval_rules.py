"""The approval chains' pure rules: settings, who decides, versions, time left."""

import datetime as dt

import pytest

from approvals import rules
from approvals.rules import Settings

V1, V2 = "a" * 64, "b" * 64


def _decide(**overrides):
    values = dict(
        state="pending",
        requested_by=1,
        actor=2,
        may_approve=True,
        already_approved=False,
        other_approver=True,
        request_version=V1,
        current_version=V1,
    )
    values.update(overrides)
    return rules.decision_refusal(**values)


def test_a_manager_other_than_the_requester_may_approve():
    assert _decide() is None


@pytest.mark.parametrize(
    ("overrides", "code", "status"),
    [
        ({"may_approve": False}, "forbidden", 403),
        ({"actor": 1}, "own_request", 403),
        ({"state": "returned"}, "approval_closed", 409),
        ({"state": "approved"}, "approval_closed", 409),
        ({"current_version": V2}, "approval_stale", 409),
        ({"claimed_version": V2}, "approval_stale", 409),
        ({"already_approved": True}, "approval_closed", 409),
    ],
    ids=["no-role", "own", "returned", "approved", "changed", "other-version", "twice"],
)
def test_refusals_name_their_reason(overrides, code, status):
    refused = _decide(**overrides)
    assert (refused.code, refused.status) == (code, status)


def test_a_stale_version_is_named_with_both_hashes():
    refused = _decide(current_version=V2)
    assert V1[:12] in refused.message and V2[:12] in refused.message


def test_own_request_is_allowed_when_the_setting_allows_it():
    assert _decide(actor=1, other_approver=False) is None


def test_the_role_is_checked_before_anything_else():
    assert _decide(may_approve=False, actor=1, state="done").code == "forbidden"


def test_settings_are_checked_against_the_managers():
    assert rules.settings_problems(Settings(publication=True, approvers=2), 2) == {}
    problems = rules.settings_problems(Settings(publication=True, approvers=3), 2)
    assert "approvers" in problems and "(2)" in problems["approvers"]
    assert "approvers" in rules.settings_problems(Settings(approvers=0), 5)
    assert "approvers" in rules.settings_problems(Settings(approvers=rules.MAX_APPROVERS + 1), 99)
    assert "bids" in rules.settings_problems(Settings(bids=True), 0)
    # Without publication approval the number is not bound to the managers.
    assert rules.settings_problems(Settings(publication=False, approvers=3), 1) == {}


def test_required_approvals_follow_the_settings():
    off, on = Settings(), Settings(publication=True, approvers=2, bids=True)
    assert [rules.required_approvals(a, off) for a in rules.ACTIONS] == [0, 0, 0, 0]
    assert [rules.required_approvals(a, on) for a in rules.ACTIONS] == [2, 2, 2, 1]


def test_a_request_is_approved_once_enough_managers_approved():
    assert rules.state_after_approval(1, 2) == "pending"
    assert rules.state_after_approval(2, 2) == "approved"
    assert rules.state_after_approval(1, 0) == "approved"


def test_use_needs_the_exact_approved_version():
    assert (
        rules.use_refusal(required=0, approved_versions=set(), current_version=V1, action="bid")
        is None
    )
    assert (
        rules.use_refusal(required=1, approved_versions={V1}, current_version=V1, action="publish")
        is None
    )
    for action in rules.ACTIONS:
        refused = rules.use_refusal(
            required=1, approved_versions={V2}, current_version=V1, action=action
        )
        assert refused is not None and V1[:12] in refused


def test_comment_is_mandatory_to_return():
    assert rules.comment_problem("  ", required=True) is not None
    assert rules.comment_problem("", required=False) is None
    assert rules.comment_problem("x" * (rules.COMMENT_MAX + 1), required=False) is not None


def test_time_left_before_the_deadline():
    now = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
    assert rules.time_left(now + dt.timedelta(minutes=95, seconds=30), now) == (1, 35)
    assert rules.time_left(now, now) is None
    assert rules.time_left(None, now) is None
    assert rules.deadline_close(now + dt.timedelta(hours=2), now)
    assert not rules.deadline_close(now + dt.timedelta(days=2), now)


def test_managers_sign_directly():
    assert rules.may_sign_directly(["manager"])
    assert not rules.may_sign_directly(["specialist"])
    assert not rules.may_sign_directly(["observer", "administrator"])
