"""Assemble the ``strawberry.Schema`` with its protective extensions."""

from __future__ import annotations

import strawberry
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
from strawberry.tools import merge_types

from schema.catalog import CatalogMutation, CatalogQuery
from schema.errors import MaskUnexpectedErrors
from schema.intake import IntakeMutation, IntakeQuery
from schema.metrics import OperationMetrics
from schema.mutation import Mutation as OrderMutation
from schema.query import Query as CoreQuery
from schema.stock import STOCK_NODE_TYPES, StockMutation, StockQuery, StockSubscription
from schema.subscription import Subscription as OrderSubscription
from schema.types import NODE_TYPES
from schema.webhooks import WebhookMutation, WebhookQuery

#: Each feature area contributes its own root classes; add yours here.
QUERIES: tuple[type, ...] = (CoreQuery, CatalogQuery, IntakeQuery, StockQuery, WebhookQuery)
MUTATIONS: tuple[type, ...] = (OrderMutation, CatalogMutation, IntakeMutation, StockMutation, WebhookMutation)
SUBSCRIPTIONS: tuple[type, ...] = (OrderSubscription, StockSubscription)


def build_schema(
    *, production: bool, max_depth: int = 12, max_aliases: int = 20, max_tokens: int = 3000
) -> strawberry.Schema:
    # The limiters' rule classes are made once: ValidationCache keys on the rules, and a class
    # minted per request (as QueryDepthLimiter does) would make every validation a miss.
    limits = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    extensions: list = [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(limits),
        ParserCache,
        ValidationCache,
        OperationMetrics,
    ]
    if production:
        extensions += [DisableIntrospection, MaskUnexpectedErrors]
    return strawberry.Schema(
        query=merge_types("Query", QUERIES),
        mutation=merge_types("Mutation", MUTATIONS),
        subscription=merge_types("Subscription", SUBSCRIPTIONS),
        types=[*NODE_TYPES, *STOCK_NODE_TYPES],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=production),
    )
