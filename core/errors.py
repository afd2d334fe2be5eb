"""Domain errors: services raise them, entrypoints turn them into 4xx answers."""

from __future__ import annotations

from collections.abc import Mapping

from core import messages


class DomainError(Exception):
    """A refusal a user can understand; nothing has been stored."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: Mapping[str, list[str] | str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = {
            k: ([v] if isinstance(v, str) else list(v)) for k, v in (fields or {}).items()
        }


class Invalid(DomainError):
    """Input that breaks a rule; fields name what is wrong."""

    status = 422
    code = "invalid"


class Unauthorized(DomainError):
    """No valid credentials."""

    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    """Authenticated, but not allowed to do this."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """No such object, or not one the user may see."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The state of an object does not allow this."""

    status = 409
    code = "conflict"


class Refused(Conflict):
    """A refusal of the object's state named by its own stable code (bidding_closed,
    tender_not_open, bid_changed, no_active_bid); params hold what its message names."""

    def __init__(self, code: str, **params):
        super().__init__(messages.refusal_text(code, params))
        self.code = code
        self.params = params


class TooManyAttempts(DomainError):
    """Throttled; try again later."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


# Every error code the API answers with, its status and what it means (the OpenAPI document
# lists them per operation: core/api.py).
CODES: dict[str, tuple[int, str]] = {
    "bad_request": (400, "The request cannot be read (say, a JSON body nested too deep)."),
    "csrf": (400, "A session request without a valid CSRF token."),
    "unauthorized": (401, "No valid credentials."),
    "forbidden": (403, "Authenticated, but not allowed to do this."),
    "not_found": (404, "No such object, or not one the caller may see."),
    "method_not_allowed": (405, "The path does not take this method."),
    "conflict": (409, "The object's state does not allow this (the message says why)."),
    "bidding_closed": (
        409,
        "The bid deadline has passed (whether or not the tender is closed yet); the message "
        "names the deadline in the tender's time zone.",
    ),
    "tender_not_open": (409, "The tender takes no bids (cancelled)."),
    "bid_changed": (409, "The bid changed while this revision was signed: prepare, sign again."),
    "no_active_bid": (409, "There is no active bid to withdraw."),
    "approval_required": (
        409,
        "The organization requires approval of this exact version (draft, amendment, "
        "cancellation or bid payload) and it has none: send it for approval first.",
    ),
    "approval_stale": (
        409,
        "The version approved is not the current one (the draft changed since it was sent, or "
        "another version was named): the message names both.",
    ),
    "approval_closed": (409, "The approval request is no longer waiting for a decision."),
    "approval_not_required": (409, "The organization requires no approval for this."),
    "own_request": (
        403,
        "The organization requires another manager to decide a request than the one who sent it.",
    ),
    "evaluation_pending": (409, "The offers are being evaluated (a background job); retry."),
    "rebidding_not_closed": (409, "A re-bidding round needs a closed tender, results unpublished."),
    "rebidding_published": (409, "The results are published: no re-bidding round any more."),
    "rebidding_running": (409, "A re-bidding round of the tender is still running."),
    "rebidding_closed": (409, "The re-bidding round's deadline has passed; the message names it."),
    "rebidding_none": (409, "The tender has no re-bidding round running."),
    "request_entity_too_large": (413, "The body is larger than the limit."),
    "invalid": (422, "Input that breaks a rule; fields name what is wrong."),
    "too_many_attempts": (429, "Throttled; try again after Retry-After seconds."),
}
