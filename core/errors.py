"""Domain errors: services raise them, entrypoints turn them into 4xx answers."""

from __future__ import annotations

from collections.abc import Mapping


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


class TooManyAttempts(DomainError):
    """Throttled; try again later."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
