"""Persisted queries in GraphQL: admins register documents, callers then send only the hash.

    mutation { registerPersistedQuery(document: "query One($n: String!) { … }", name: "One") {
      persistedQuery { sha256 documentId } errors { code field message } } }
    POST /graphql {"documentId": "sha256:<hex>", "variables": {…}}         (GraphQL-over-HTTP)
    POST /graphql {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}, "variables": {…}}  (Apollo)

A document is checked against this schema before it is stored (``check_document``),
so a typo is refused at registration (code ``VALIDATION``, field ``document``),
never at the partner's first call. Running documents by hash is ``api.persisted``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate
from strawberry.types import Info

from domain.errors import ValidationFailed
from resolvers import persisted as resolvers
from schema.connections import AFTER_ARGUMENT, PAGE_ARGUMENT, Connection
from schema.errors import UserError, attempt, short


def check_document(schema: GraphQLSchema, document: str, name: str = "") -> str:
    """The operation name ``document`` runs, or ``ValidationFailed`` (code VALIDATION, field document) saying why not."""
    try:
        parsed = parse(document)
    except GraphQLError as error:
        raise ValidationFailed(short(f"the document does not parse: {error.message}"), field="document") from None
    except RecursionError:
        raise ValidationFailed("the document is nested too deeply", field="document") from None
    errors = validate(schema, parsed)
    if errors:
        raise ValidationFailed(short(f"the document does not validate: {errors[0].message}"), field="document")
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    names = [op.name.value if op.name else "" for op in operations]
    if name and name not in names:
        raise ValidationFailed(f"the document has no operation named {name!r}", field="name")
    if not name and len(operations) > 1:
        raise ValidationFailed("the document holds several operations: say which one with `name`", field="name")
    return name or names[0]


@strawberry.type(description="A GraphQL document registered by its SHA-256, run by sending only the hash.")
class PersistedQuery:
    sha256: str = strawberry.field(description="Lower-case hex SHA-256 of the document's UTF-8 text.")
    document_id: str = strawberry.field(description="What to send as `documentId`: `sha256:` and the hash.")
    document: str = strawberry.field(description="The document, exactly as registered.")
    operation_name: str = strawberry.field(description="The operation the document runs.")
    is_global: bool = strawberry.field(description="Registered for every tenant (from the CLI), not only yours.")
    registered_by: str = strawberry.field(description="Who registered it.")
    created_at: datetime = strawberry.field(description="When it was registered.")
    enabled: bool = strawberry.field(description="Disabled documents are answered PERSISTED_QUERY_NOT_FOUND.")

    @classmethod
    def from_row(cls, row: Any) -> PersistedQuery:
        return cls(sha256=row.sha256, document_id=f"sha256:{row.sha256}", document=row.document,
                   operation_name=row.operation_name, is_global=row.tenant_id is None,
                   registered_by=row.registered_by, created_at=row.created_at, enabled=row.enabled)


@strawberry.type(description="Persisted queries, newest first, a page at a time.")
class PersistedQueryConnection(Connection[PersistedQuery]):
    pass


@strawberry.type(description="The registered (or disabled) document, or why nothing changed.")
class PersistedQueryPayload:
    persisted_query: PersistedQuery | None = strawberry.field(description="The document as now stored.")
    errors: list[UserError] = strawberry.field(description="Why nothing changed (empty on success).")


async def _payload(action: Any) -> PersistedQueryPayload:
    row, errors = await attempt(action)
    return PersistedQueryPayload(persisted_query=PersistedQuery.from_row(row) if row is not None else None, errors=errors)


@strawberry.type
class PersistedQueryQuery:
    @strawberry.field(description="Your tenant's persisted queries and the global ones, newest first (admins).")
    async def persisted_queries(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description=PAGE_ARGUMENT)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_ARGUMENT)] = None,
    ) -> PersistedQueryConnection:
        page = await resolvers.page(info.context, first, after)
        return PersistedQueryConnection.of(page, PersistedQuery.from_row)


@strawberry.type
class PersistedQueryMutation:
    @strawberry.mutation(description="Register a document for your tenant (admins). It is checked against the schema "
                                     "first; registering the same text again returns it (enabled).")
    async def register_persisted_query(
        self,
        info: Info,
        document: Annotated[str, strawberry.argument(description="The GraphQL document; its exact text is hashed.")],
        name: Annotated[str, strawberry.argument(description="The operation to run; needed when the document "
                                                                 "holds several.")] = "",
    ) -> PersistedQueryPayload:
        async def action() -> Any:
            operation = check_document(info.schema._schema, document, name)
            return await resolvers.register(info.context, document, operation)

        return await _payload(action)

    @strawberry.mutation(description="Stop serving one of your tenant's documents (admins); calls by its hash are then "
                                     "answered PERSISTED_QUERY_NOT_FOUND.")
    async def disable_persisted_query(
        self,
        info: Info,
        sha256: Annotated[str, strawberry.argument(description="The document's hash, bare or as `sha256:<hex>`.")],
    ) -> PersistedQueryPayload:
        return await _payload(lambda: resolvers.disable(info.context, sha256))
