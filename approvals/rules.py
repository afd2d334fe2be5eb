"""Approval chains inside an organization, as pure rules: the settings, who may decide a
request, when it counts as approved, and how long is left before a deadline. No Flask, no
SQLAlchemy: the service passes everything in, the current time included."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from accounts.rules import may
from core.messages import N_, Text

# What a request asks for: the publication of a draft, an amendment or the cancellation of a
# published tender (customer), the signing of one exact bid payload (supplier).
ACTIONS = ("publish", "amend", "cancel", "bid")
TENDER_ACTIONS = ("publish", "amend", "cancel")
# pending: waiting for decisions; approved: enough approvals; returned: sent back with a
# comment; superseded: a newer request for the same object and action replaced it; done: the
# approved change was carried out (published, amended, cancelled, signed).
STATES = ("pending", "approved", "returned", "superseded", "done")
OPEN_STATES = ("pending", "approved")
STEPS = ("requested", "approved", "returned", "superseded", "done")
STATE_WORDS = {
    "pending": N_("waiting for approval"),
    "approved": N_("approved"),
    "returned": N_("returned"),
    "superseded": N_("replaced by a newer request"),
    "done": N_("carried out"),
}

COMMENT_MAX = 2000
MAX_APPROVERS = 20


@dataclass(frozen=True)
class Settings:
    """An organization's approval settings (the defaults: no approval anywhere)."""

    publication: bool = False  # publication, amendments, cancellation need approval
    approvers: int = 1  # how many different managers must approve
    other_approver: bool = True  # the requester may not approve its own request
    bids: bool = False  # a bid payload needs a manager's approval before it is signed


@dataclass(frozen=True)
class Refusal:
    """Why a decision is refused: a stable code, the HTTP status and the sentence."""

    code: str
    status: int
    message: Text


def settings_problems(settings: Settings, managers: int) -> dict[str, Text]:
    """What is wrong with settings an administrator saves, by field (empty: nothing)."""
    problems: dict[str, Text] = {}
    if not 1 <= settings.approvers <= MAX_APPROVERS:
        problems["approvers"] = N_(
            "The number of approvers must be between 1 and %(max)s.", max=MAX_APPROVERS
        )
    elif settings.publication and settings.approvers > managers:
        problems["approvers"] = N_(
            "The organization has fewer managers (%(managers)s) than the approvers "
            "required (%(wanted)s): give more members the manager role first.",
            wanted=settings.approvers,
            managers=managers,
        )
    if settings.bids and managers < 1:
        problems["bids"] = N_("Bid approval needs at least one manager in the organization.")
    return problems


def required_approvals(action: str, settings: Settings) -> int:
    """How many approvals a request of this action needs (0: none, act directly)."""
    if action == "bid":
        return 1 if settings.bids else 0
    return settings.approvers if settings.publication else 0


def needs_approval(action: str, settings: Settings) -> bool:
    """Whether the organization's settings put this action under approval."""
    return required_approvals(action, settings) > 0


def comment_problem(comment: str, *, required: bool) -> Text | None:
    """A comment too long, or missing where it is mandatory (returning a request)."""
    text = (comment or "").strip()
    if required and not text:
        return N_("Say why the request is returned: the comment is mandatory.")
    if len(text) > COMMENT_MAX:
        return N_("The comment is longer than %(max)s characters.", max=COMMENT_MAX)
    return None


def decision_refusal(
    *,
    state: str,
    requested_by: int,
    actor: int,
    may_approve: bool,
    already_approved: bool,
    other_approver: bool,
    request_version: str,
    current_version: str | None,
    claimed_version: str | None = None,
) -> Refusal | None:
    """Why `actor` may not approve or return a request now (None: it may). current_version:
    the hash of the object as it is now (None when it cannot change any more, a bid payload);
    claimed_version: the hash the approver saw (the API's `version`), if given."""
    if not may_approve:
        return Refusal(
            "forbidden", 403, N_("Only a manager of the organization can approve or return this.")
        )
    if state != "pending":
        return Refusal(
            "approval_closed",
            409,
            N_(
                "This request is no longer waiting for a decision (it is %(state)s).",
                state=STATE_WORDS.get(state, state),
            ),
        )
    if other_approver and actor == requested_by:
        return Refusal(
            "own_request",
            403,
            N_(
                "You sent this request yourself: the organization's settings require another "
                "manager to decide it."
            ),
        )
    if claimed_version and claimed_version != request_version:
        return Refusal(
            "approval_stale",
            409,
            N_(
                "Version %(claimed)s is not the one waiting for approval (%(version)s): reload "
                "and check what you approve.",
                claimed=claimed_version[:12],
                version=request_version[:12],
            ),
        )
    if current_version is not None and current_version != request_version:
        return Refusal(
            "approval_stale",
            409,
            N_(
                "Version %(version)s was sent for approval but it has changed since (now "
                "%(current)s): it must be sent for approval again.",
                version=request_version[:12],
                current=current_version[:12],
            ),
        )
    if already_approved:
        return Refusal("approval_closed", 409, N_("You have already approved this request."))
    return None


def state_after_approval(approvals: int, required: int) -> str:
    """The state of a request once it has this many approvals."""
    return "approved" if approvals >= max(required, 1) else "pending"


def use_refusal(
    *, required: int, approved_versions: set[str], current_version: str, action: str
) -> Text | None:
    """Why an action under approval may not be carried out with this exact version (None:
    it may, or the action needs no approval)."""
    if required <= 0 or current_version in approved_versions:
        return None
    if action == "bid":
        return N_(
            "This offer (payload %(version)s) has not been approved by a manager: your "
            "organization requires approval before a bid is signed. Send it for approval, or "
            "let a manager sign it.",
            version=current_version[:12],
        )
    texts = {
        "publish": N_(
            "This draft (version %(version)s) is not approved: your organization requires "
            "approval before publication. Send it for approval first.",
            version=current_version[:12],
        ),
        "amend": N_(
            "This amendment (version %(version)s) is not approved: your organization requires "
            "approval of amendments. Send it for approval first.",
            version=current_version[:12],
        ),
        "cancel": N_(
            "This cancellation (version %(version)s) is not approved: your organization "
            "requires approval before a published tender is cancelled. Send it for approval "
            "first.",
            version=current_version[:12],
        ),
    }
    return texts[action]


def time_left(deadline: dt.datetime | None, now: dt.datetime) -> tuple[int, int] | None:
    """(hours, minutes) left before a deadline, rounded down; None once it has passed."""
    if deadline is None or now >= deadline:
        return None
    minutes = int((deadline - now).total_seconds() // 60)
    return minutes // 60, minutes % 60


def deadline_close(deadline: dt.datetime | None, now: dt.datetime, hours: int = 24) -> bool:
    """Whether the deadline is near enough that the bid form warns about approval."""
    return deadline is not None and now < deadline <= now + dt.timedelta(hours=hours)


def may_sign_directly(roles) -> bool:
    """A manager signs a bid without anybody's approval (its own submission needs none)."""
    return may(roles, "approve")
