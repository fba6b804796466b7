"""What a single GraphQL document may cost, checked before anything runs.

- ``DocumentSizeLimit``: the document's bytes, comments and whitespace
  included (the token limit does not count comments), before parsing.
- ``NoNulStrings``: a string literal may not carry a NUL character
  (PostgreSQL refuses them; better a clear error than a failed statement).
- ``QueryCostLimit``: an estimate of how many values the operation can
  produce, from ``first``/``last`` and nesting, with the variables' values::

      orders(first: 100) { nodes { customer { orders(first: 100) { nodes { lines { sku } } } } } }
      cost = 1 + 100 × (1 + 1 + 1 × (1 + 100 × (1 + 1 + 10 × 1)))  →  refused with the figure

  A field costs 1 plus its children's cost times its multiplier: the value
  of its ``first``/``last`` argument, else ``LIST_ESTIMATE`` for a list that
  takes no page size (``lines``, ``shipments``), else 1. The ``nodes`` or
  ``edges`` list of a paged field is not multiplied twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

#: Assumed length of a list field that takes no ``first``/``last`` (an order's lines, a parcel's scans).
LIST_ESTIMATE = 10
_PAGE_ARGS = ("first", "last")


def _unwrap(type_: Any) -> tuple[Any, bool]:
    """The named type behind NonNull/List wrappers, and whether a list was among them."""
    is_list = False
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


def _page_size(field: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value not in _PAGE_ARGS:
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(int(value.value), 0)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return max(given, 0) if isinstance(given, int) else None
    return None


class CostEstimate:
    """Walks one operation over the schema's types; fragments are expanded (validation has refused cycles)."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict[str, Any]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return self.selections(operation.selection_set, root, paged=False) if root else 0

    def selections(self, selection_set: SelectionSetNode | None, parent: Any, *, paged: bool) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, paged=paged)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, target or parent, paged=paged)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selections(fragment.selection_set, target or parent, paged=paged)
        return total

    def field(self, node: FieldNode, parent: Any, *, paged: bool) -> int:
        definition = parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType) else None
        if definition is None:  # __typename, or a field on an interface/union: count it, look no deeper than its type
            named, is_list = None, False
        else:
            named, is_list = _unwrap(definition.type)
        size = _page_size(node, self.variables)
        if size is not None:
            multiplier, children_paged = size, True
        elif is_list and not paged:
            multiplier, children_paged = LIST_ESTIMATE, False
        else:
            multiplier, children_paged = 1, False
        children = self.selections(node.selection_set, named, paged=children_paged) if node.selection_set else 0
        return 1 + multiplier * children


def estimate(schema: GraphQLSchema, document: Any, operation_name: str | None, variables: dict[str, Any] | None) -> int:
    """The cost of the operation that will run (the named one, or the only one)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [op for op in operations if op.name and op.name.value == operation_name]
    walker = CostEstimate(schema, fragments, variables or {})
    return max((walker.operation(op) for op in operations), default=0)


class QueryCostLimit(SchemaExtension):
    """Refuse an operation whose estimated cost is above ``max_cost`` before it executes."""

    def __init__(self, *, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            cost = estimate(context.schema._schema, document, context.operation_name, context.variables)
            if cost > self.max_cost:
                raise GraphQLError(
                    f"the query's estimated cost {cost} is above the limit {self.max_cost}: ask for fewer items "
                    "(first/last) or less nesting",
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": self.max_cost},
                )
        yield


class DocumentSizeLimit(SchemaExtension):
    """Refuse a document longer than ``max_bytes`` before it is parsed (comments count too)."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def on_operation(self) -> Iterator[None]:
        query = self.execution_context.query or ""
        size = len(query.encode("utf-8", "replace"))
        if size > self.max_bytes:
            raise GraphQLError(f"the query document is {size} bytes, above the limit {self.max_bytes}",
                               extensions={"code": "QUERY_TOO_LARGE"})
        yield


class NoNulStrings(ValidationRule):
    """A string literal with a NUL character is refused by name, instead of failing in the database."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError("string values must not contain NUL characters", node,
                                           extensions={"code": "BAD_USER_INPUT"}))
