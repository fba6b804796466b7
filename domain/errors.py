"""Expected failures. Each carries a machine-readable ``code`` the API passes on verbatim."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the caller can act on; nothing was changed."""

    code = "INVALID"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "NOT_FOUND"


class ValidationFailed(DomainError):
    code = "VALIDATION"


class Duplicate(DomainError):
    code = "DUPLICATE"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class IllegalTransition(DomainError):
    """The state machine has no such move (or its guard refused it)."""

    code = "ILLEGAL_TRANSITION"

    def __init__(self, from_status: str, to_status: str, why: str = "") -> None:
        detail = f": {why}" if why else ""
        super().__init__(f"cannot move an order from {from_status} to {to_status}{detail}", field="status")
        self.from_status = from_status
        self.to_status = to_status


class InsufficientStock(DomainError):
    """Not enough available (on hand minus reserved) units to promise; nothing was reserved."""

    code = "INSUFFICIENT_STOCK"


class Conflict(DomainError):
    """The thing is in a state that forbids this change (a shipped line, a claimed pick)."""

    code = "CONFLICT"
