"""Typed failures for mutations, and masking of unexpected ones.

Expected failures (``domain.errors.DomainError``) come back in the payload's
``errors`` list with a machine-readable ``code``. Bad arguments to queries
(``first: 1000``, a forged cursor) are GraphQL errors with a clear message.
Anything else is a bug: in production its message is replaced by a
correlation id that is also logged with the traceback.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.errors import DomainError, IllegalTransition
from resolvers.ids import BadId
from resolvers.pagination import BadCursor, BadPageSize
from schema.enums import ErrorCode, OrderStatus

log = logging.getLogger("ordergraph.graphql")

#: Exceptions whose message is meant for the client, never masked.
CLIENT_ERRORS = (DomainError, BadCursor, BadPageSize, BadId)

T = TypeVar("T")


@strawberry.type(description="Why a mutation did not apply. Nothing was changed.")
class UserError:
    code: ErrorCode
    message: str
    field: str | None = None
    from_status: OrderStatus | None = None
    to_status: OrderStatus | None = None

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        if isinstance(error, IllegalTransition):
            return cls(
                code=ErrorCode.ILLEGAL_TRANSITION,
                message=error.message,
                field=error.field,
                from_status=OrderStatus(error.from_status),
                to_status=OrderStatus(error.to_status),
            )
        return cls(code=ErrorCode(error.code), message=error.message, field=error.field)


async def attempt(action: Callable[[], Awaitable[T]]) -> tuple[T | None, list[UserError]]:
    """Run a use case; turn a refusal into ``UserError``s."""
    try:
        return await action(), []
    except DomainError as error:
        return None, [UserError.from_domain(error)]


class MaskUnexpectedErrors(SchemaExtension):
    """Replace messages of unexpected exceptions with a correlation id (production)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        result.errors = [self._mask(error) for error in result.errors]

    @staticmethod
    def _mask(error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None or isinstance(original, CLIENT_ERRORS):
            return error
        correlation_id = uuid.uuid4().hex[:12]
        log.error("unexpected error %s", correlation_id, exc_info=original)
        return GraphQLError(
            f"Unexpected error; correlation id {correlation_id}",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL", "correlationId": correlation_id},
        )
