"""Assemble the ``strawberry.Schema`` with its protective extensions."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.tools import merge_types

from schema.after_sales import AfterSaleMutation, AfterSaleQuery
from schema.alerts import AlertBoardMutation, AlertBoardQuery
from schema.audit import AuditQuery
from schema.catalog import CatalogMutation, CatalogQuery
from schema.error_log import log_errors
from schema.errors import is_client_error, shape
from schema.execution import PlainLeafExecutionContext
from schema.federation import FederationSetupMutation, FederationSetupQuery
from schema.federation_ops import FederationMutation, FederationQuery
from schema.health import HealthQuery
from schema.intake import IntakeMutation, IntakeQuery
from schema.lineage_export import LineageExportMutation, LineageExportQuery
from schema.limits import DocumentSizeLimit, NoNulStrings, QueryCostLimit
from schema.metrics import OperationMetrics
from schema.mutation import Mutation as OrderMutation
from schema.notifications import NotificationMutation, NotificationQuery
from schema.payments import PaymentMutation, PaymentQuery
from schema.persisted import PersistedQueryMutation, PersistedQueryQuery
from schema.query import Query as CoreQuery
from schema.reconciliation import ReconciliationMutation, ReconciliationQuery
from schema.rules import RuleMutation, RuleQuery
from schema.stock import STOCK_NODE_TYPES, StockMutation, StockQuery, StockSubscription
from schema.subscription import Subscription as OrderSubscription
from schema.types import NODE_TYPES
from schema.webhooks import WebhookMutation, WebhookQuery

#: Each feature area contributes its own root classes; add yours here.
QUERIES: tuple[type, ...] = (CoreQuery, CatalogQuery, IntakeQuery, StockQuery, WebhookQuery, FederationQuery,
                             FederationSetupQuery)
MUTATIONS: tuple[type, ...] = (OrderMutation, CatalogMutation, IntakeMutation, StockMutation, WebhookMutation,
                               FederationMutation, FederationSetupMutation)
SUBSCRIPTIONS: tuple[type, ...] = (OrderSubscription, StockSubscription)
QUERIES += (NotificationQuery,)
MUTATIONS += (NotificationMutation,)
QUERIES += (RuleQuery,)
MUTATIONS += (RuleMutation,)
QUERIES += (AlertBoardQuery,)
MUTATIONS += (AlertBoardMutation,)
QUERIES += (ReconciliationQuery,)
MUTATIONS += (ReconciliationMutation,)
QUERIES += (PaymentQuery,)
MUTATIONS += (PaymentMutation,)
QUERIES += (AfterSaleQuery,)
MUTATIONS += (AfterSaleMutation,)
QUERIES += (LineageExportQuery,)
MUTATIONS += (LineageExportMutation,)
QUERIES += (AuditQuery,)
QUERIES += (PersistedQueryQuery,)
QUERIES += (HealthQuery,)
MUTATIONS += (PersistedQueryMutation,)


class OrderGraphSchema(strawberry.Schema):
    """The schema; every error is logged without the query text, then given its code (``schema.errors.shape``)."""

    def __init__(self, *args: Any, production: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.production = production

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        context = execution_context
        log_errors(errors, operation=context.operation_name if context else None,
                   query=context.query if context else None, is_expected=is_client_error)
        for error in errors:
            shape(error, production=self.production)


def _described(root: type, description: str) -> type:
    """``root`` (a ``merge_types`` result, which takes no description) with ``description`` on its GraphQL type."""
    root.__strawberry_definition__.description = description  # type: ignore[attr-defined]
    return root


def build_schema(
    *, production: bool, max_depth: int = 12, max_aliases: int = 20, max_tokens: int = 3000,
    max_query_bytes: int = 64 * 1024, max_cost: int = 50_000,
) -> strawberry.Schema:
    # The limiters' rule classes are made once: ValidationCache keys on the rules, and a class
    # minted per request (as QueryDepthLimiter does) would make every validation a miss.
    limits = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
        NoNulStrings,
    ]
    extensions: list = [
        lambda: DocumentSizeLimit(max_bytes=max_query_bytes),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(limits),
        ParserCache,
        ValidationCache,
        OperationMetrics,
        lambda: QueryCostLimit(max_cost=max_cost),
    ]
    if production:
        extensions.append(DisableIntrospection)
    return OrderGraphSchema(
        query=_described(merge_types("Query", QUERIES), "Read entry points. Every query sees only the caller's tenant; "
                         "personal data is masked unless the role sees it (admin, ops, service)."),
        mutation=_described(merge_types("Mutation", MUTATIONS), "Write entry points. Each returns a payload: the "
                            "result, or `errors` (with a code) and nothing changed."),
        subscription=_described(merge_types("Subscription", SUBSCRIPTIONS), "Live entry points over "
                                "graphql-transport-ws; `orderEvents` and `alerts` resume after the last `eventId` seen."),
        types=[*NODE_TYPES, *STOCK_NODE_TYPES],
        extensions=extensions,
        execution_context_class=PlainLeafExecutionContext,
        config=StrawberryConfig(disable_field_suggestions=production),
        production=production,
    )
