"""Typed failures for mutations, and masking of unexpected ones.

Expected failures (``domain.errors.DomainError``) come back in the payload's
``errors`` list with a machine-readable ``code``. Bad arguments to queries
(``first: 1000``, a forged cursor) are GraphQL errors with a clear message.
Anything else is a bug: in production its message is replaced by a
correlation id that is also logged with the stack (``schema.error_log``).
Every error carries ``extensions.code``; no message echoes a whole input.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError

from domain.errors import DomainError, IllegalTransition
from resolvers.ids import BadId
from resolvers.pagination import BadCursor, BadPageSize
from schema.enums import ErrorCode, OrderStatus
from schema.error_log import CORRELATION_KEY

#: Exceptions whose message is meant for the client, never masked.
CLIENT_ERRORS = (DomainError, BadCursor, BadPageSize, BadId)

T = TypeVar("T")


@strawberry.type(description="Why a mutation did not apply. Nothing was changed.")
class UserError:
    code: ErrorCode = strawberry.field(description="What kind of refusal; stable, for code to act on.")
    message: str = strawberry.field(description="The refusal in words, safe to show (never echoes a whole input).")
    field: str | None = strawberry.field(default=None, description="The input field at fault (camelCase path, e.g. `lines.0.quantity`), if one.")
    from_status: OrderStatus | None = strawberry.field(default=None, description="For ILLEGAL_TRANSITION: the order's status.")
    to_status: OrderStatus | None = strawberry.field(default=None, description="For ILLEGAL_TRANSITION: the status asked for.")

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        if isinstance(error, IllegalTransition):
            return cls(
                code=ErrorCode.ILLEGAL_TRANSITION,
                message=short(error.message),
                field=error.field,
                from_status=OrderStatus(error.from_status),
                to_status=OrderStatus(error.to_status),
            )
        return cls(code=ErrorCode(error.code), message=short(error.message), field=short(error.field or "", 200) or None)


async def attempt(action: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Run a use case; turn a refusal into ``UserError``s."""
    try:
        return await action(), []
    except DomainError as error:
        return None, [UserError.from_domain(error)]


#: A client error message longer than this is cut: messages must not echo whole inputs back.
MAX_MESSAGE = 300


def short(message: str, limit: int = MAX_MESSAGE) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def is_client_error(error: BaseException) -> bool:
    """Raised because of what the client sent: a domain refusal, a bad id/cursor/page size, an uncoercible value."""
    return isinstance(error, (*CLIENT_ERRORS, GraphQLError))


#: Strawberry's limiters raise plain errors without a code: recognised by their (stable) wording.
LIMIT_CODES = (
    ("exceeds maximum operation depth", "QUERY_TOO_DEEP"),
    ("aliases found. Allowed", "QUERY_TOO_COMPLEX"),
    ("Document contains more than", "QUERY_TOO_COMPLEX"),
)


def client_code(error: GraphQLError) -> str:
    """``extensions.code`` for an error the client caused: parse, validation, bad input or a domain refusal."""
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    if isinstance(original, (BadCursor, BadPageSize, BadId)):
        return original.code
    for marker, code in LIMIT_CODES:
        if marker in error.message:
            return code
    if isinstance(error, GraphQLSyntaxError) or error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable "):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def shape(error: GraphQLError, *, production: bool) -> None:
    """Give an error its ``extensions.code`` and a bounded message, in place; mask an unexpected one in production.

    Called from the schema's ``process_errors``, which sees every error of
    every path (parse, validation, limits, execution) before the response is
    built from these same objects, right after logging them.
    """
    extensions = dict(error.extensions or {})
    original = error.original_error
    if original is not None and not is_client_error(original):
        correlation_id = extensions.get(CORRELATION_KEY) or uuid.uuid4().hex[:12]
        extensions.update({"code": "INTERNAL", CORRELATION_KEY: correlation_id})
        if production:
            error.message = f"Unexpected error; correlation id {correlation_id}"
    else:
        extensions.setdefault("code", client_code(error))
    error.extensions = extensions
    error.message = short(error.message)
