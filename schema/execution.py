"""graphql-core's executor with a short path for plain leaf fields (issue 20: the read path near the floor).

Most values of a page (``number``, ``status``, ``sku``, ``createdAt`` …) are
Strawberry "basic" fields: an attribute read, then the scalar's or enum's
serialisation. graphql-core still builds a ``Path``, an ``Info``, the argument
dict and walks ``complete_value`` for each of them, which is most of the
executor's time on a 50-order page. ``PlainLeafExecutionContext`` reads such a
field's attribute and serialises it directly; anything unusual on the way (a
null for a non-null field, an awaitable, an exception, a scalar that refuses
the value) hands the field back to graphql-core's own ``execute_field``, so
errors, their paths and null propagation stay exactly graphql-core's::

    strawberry.Schema(query=Query, execution_context_class=PlainLeafExecutionContext)

Fields with a resolver, arguments, permission classes or field extensions are
never on the short path: Strawberry does not mark them as basic. Lists also skip
graphql-core's per-list ``@stream`` lookup while the schema has no such directive.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from graphql import GraphQLLeafType, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, is_leaf_type
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class PlainLeaf(NamedTuple):
    """A basic field of scalar or enum type: the attribute to read and how to serialise it."""

    attribute: str
    leaf_type: GraphQLLeafType
    nullable: bool


#: Per schema, per object type: field name → ``PlainLeaf`` (filled as types are met; dropped with the schema).
_PLAIN: WeakKeyDictionary[GraphQLSchema, dict[GraphQLObjectType, dict[str, PlainLeaf]]] = WeakKeyDictionary()
#: Marks a field the short path leaves to graphql-core.
_GENERIC: Any = object()
#: Values that are neither awaitable nor an exception: no need to ask.
_INERT = frozenset({str, int, float, bool, Decimal, datetime, date})


def plain_leaves(parent_type: GraphQLObjectType) -> dict[str, PlainLeaf]:
    """The fields of ``parent_type`` that are a plain attribute of leaf type."""
    found = {}
    for name, field in parent_type.fields.items():
        strawberry_field = field.extensions.get(_DEFINITION) if field.extensions else None
        if strawberry_field is None or field.args or not getattr(field.resolve, "_is_default", False):
            continue
        if strawberry_field.default_resolver is not getattr:
            continue
        nullable = not isinstance(field.type, GraphQLNonNull)
        leaf_type = field.type if nullable else field.type.of_type
        if is_leaf_type(leaf_type):
            found[name] = PlainLeaf(strawberry_field.python_name, leaf_type, nullable)
    return found


class PlainLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context; plain leaf fields skip the generic field machinery."""

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        if self.middleware_manager is not None and self.middleware_manager.middlewares:  # a `resolve` hook wants every field
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        plain = self._plain_by_type.get(parent_type)
        if plain is None:
            plain = self._plain_by_type[parent_type] = plain_leaves(parent_type)
        if not plain:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        generic: GroupedFieldSet = {}
        values: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            leaf = plain.get(field_details_list[0].node.name.value)
            value = _GENERIC if leaf is None else self.plain_value(source_value, leaf)
            if value is _GENERIC:
                generic[response_name] = field_details_list
            else:
                values[response_name] = value
        if not generic:
            return values
        rest = super().execute_fields(parent_type, source_value, path, generic, position_context)
        if self.is_awaitable(rest):
            return self._merged(values, rest, grouped_field_set)
        return _in_order(values, rest, grouped_field_set)

    @cached_property
    def _plain_by_type(self) -> dict[GraphQLObjectType, dict[str, PlainLeaf]]:
        return _PLAIN.setdefault(self.schema, {})

    def get_stream_usage(self, field_details_list: Any, path: Path) -> Any:
        """No ``@stream`` in the schema, so no list is streamed: skip graphql-core's per-list directive lookup."""
        if not self._may_stream:
            return None
        return super().get_stream_usage(field_details_list, path)

    @cached_property
    def _may_stream(self) -> bool:
        return self.schema.get_directive("stream") is not None

    def plain_value(self, source: Any, leaf: PlainLeaf) -> Any:
        """The serialised attribute, or ``_GENERIC`` when graphql-core must handle (and report on) the field."""
        try:
            value = getattr(source, leaf.attribute)
            if value is None:
                return None if leaf.nullable else _GENERIC
            if type(value) not in _INERT and (isinstance(value, Exception) or self.is_awaitable(value)):
                return _GENERIC
            coerced = leaf.leaf_type.coerce_output_value(value)
        except Exception:
            return _GENERIC
        return _GENERIC if coerced is None or coerced is Undefined else coerced

    @staticmethod
    async def _merged(values: dict[str, Any], rest: Any, order: GroupedFieldSet) -> dict[str, Any]:
        return _in_order(values, await rest, order)


def _in_order(values: dict[str, Any], rest: dict[str, Any], order: GroupedFieldSet) -> dict[str, Any]:
    """Both halves of a selection's results, keyed in the order the query asked for them."""
    values.update(rest)
    return {name: values[name] for name in order if name in values}
