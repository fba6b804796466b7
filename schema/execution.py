"""graphql-core's executor with short paths for the fields a page is made of (issue 20: the read path near the floor).

Most values of a page (``number``, ``status``, ``sku``, ``createdAt`` …) are
Strawberry "basic" fields: an attribute read, then the scalar's or enum's
serialisation. graphql-core still builds a ``Path``, an ``Info``, the argument
dict and walks ``complete_value`` for each of them. ``PlainLeafExecutionContext``
reads such a field's attribute and serialises it directly; anything unusual on
the way (a null for a non-null field, an awaitable, an exception, a scalar that
refuses the value) hands the field to graphql-core's own ``execute_field``, so
errors, their paths and null propagation stay exactly graphql-core's::

    strawberry.Schema(query=Query, execution_context_class=PlainLeafExecutionContext)

Relation fields (``lines``, ``customer`` …) whose resolver is a plain synchronous
function with no extensions are called directly with a Strawberry ``Info``
(``schema.execution_plan.DirectResolver``), skipping Strawberry's per-call
wrapper; their value is then completed by ``complete_value``, which takes the
common cases (non-null, lists, objects of the expected class) in fewer calls and
hands everything else to graphql-core at the same point graphql-core would be.
No resolver is ever called twice. Lists also skip graphql-core's per-list
``@stream`` lookup while the schema has no such directive. With a ``resolve``
middleware (an extension that wants every field) everything is graphql-core's.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any
from weakref import WeakKeyDictionary

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLOutputType, GraphQLSchema, is_leaf_type
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from graphql.pyutils import AwaitableOrValue, Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.info import Info

from schema.execution_plan import DirectResolver, PlainLeaf, direct_resolvers, leaf_serializer, plain_leaves

#: Per schema, per object type: field name → ``PlainLeaf`` / ``DirectResolver`` (filled as types are met).
_PLAIN: WeakKeyDictionary[GraphQLSchema, dict[GraphQLObjectType, dict[str, PlainLeaf]]] = WeakKeyDictionary()
_DIRECT: WeakKeyDictionary[GraphQLSchema, dict[GraphQLObjectType, dict[str, DirectResolver]]] = WeakKeyDictionary()
#: Per schema: leaf type → serialiser; object type → its Strawberry class (instances of it need no ``is_type_of``).
_SERIALIZERS: WeakKeyDictionary[GraphQLSchema, dict[Any, Any]] = WeakKeyDictionary()
_ORIGINS: WeakKeyDictionary[GraphQLSchema, dict[GraphQLObjectType, type | None]] = WeakKeyDictionary()
#: Marks a field the short path leaves to graphql-core.
_GENERIC: Any = object()
_LEAF, _DIRECT_FIELD, _OTHER = 0, 1, 2
#: Values that are neither awaitable nor an exception: no need to ask.
_INERT = frozenset({str, int, float, bool, Decimal, datetime, date})
#: List items that are never awaitable (objects of the schema's own classes are checked once per class).
_PLAIN_ITEMS = _INERT | {dict, list, type(None)}
#: Completed values that are never awaitable.
_SETTLED = frozenset({dict, list, str, int, float, bool, type(None)})


class PlainLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context; plain leaf and plain resolver fields skip the generic field machinery."""

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        if self._generic_only:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        plan = self._plans.get(id(grouped_field_set))
        if plan is None:
            plan = self._plan(parent_type, grouped_field_set)
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        parent_name = parent_type.name
        try:
            for response_name, kind, spec, field_details_list in plan:
                if kind == _LEAF:
                    value = self.plain_value(source_value, spec)
                    if value is not _GENERIC:
                        results[response_name] = value
                        continue
                    value = self.execute_field(parent_type, source_value, field_details_list,
                                               Path(path, response_name, parent_name), position_context)
                elif kind == _DIRECT_FIELD:
                    value = self.execute_direct(parent_type, source_value, field_details_list,
                                                Path(path, response_name, parent_name), spec, position_context)
                else:
                    value = self.execute_field(parent_type, source_value, field_details_list,
                                               Path(path, response_name, parent_name), position_context)
                if value is not Undefined:
                    results[response_name] = value
                    if type(value) not in _SETTLED and is_awaitable(value):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:  # as graphql-core: settle what other fields started, they may fail too
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return _awaited(results, awaitable_fields)

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> list[tuple[str, int, Any, FieldDetailsList]]:
        """How each field of this selection runs; kept for the request (the field set stays alive with it)."""
        plain = self._plain_by_type.get(parent_type)
        if plain is None:
            plain = self._plain_by_type[parent_type] = plain_leaves(parent_type)
        direct = self._direct_by_type.get(parent_type)
        if direct is None:
            direct = self._direct_by_type[parent_type] = direct_resolvers(parent_type, self._has_exception_handlers)
        plan = []
        for response_name, field_details_list in grouped_field_set.items():
            name = field_details_list[0].node.name.value
            if name in plain:
                plan.append((response_name, _LEAF, plain[name], field_details_list))
            elif name in direct:
                plan.append((response_name, _DIRECT_FIELD, direct[name], field_details_list))
            else:
                plan.append((response_name, _OTHER, None, field_details_list))
        self._plans[id(grouped_field_set)] = plan
        self._kept.append(grouped_field_set)  # its id must not be reused while the plan is cached
        return plan

    def execute_direct(
        self, parent_type: GraphQLObjectType, source: Any, field_details_list: FieldDetailsList, path: Path,
        spec: DirectResolver, position_context: Any,
    ) -> AwaitableOrValue[Any]:
        """graphql-core's ``execute_field`` for a ``DirectResolver``: the resolver called without Strawberry's wrapper."""
        field_def = spec.field_def
        return_type = field_def.type
        first = field_details_list[0]
        info = self.build_resolve_info(field_def, [details.node for details in field_details_list], parent_type, path)
        try:
            kwargs: dict[str, Any] = {}
            if field_def.args or first.node.arguments:
                args = get_argument_values(field_def, first.node, self.variable_values, first.fragment_variable_values,
                                           self.hide_suggestions)
                names = spec.argument_names
                kwargs = {names[name]: value for name, value in args.items()}
            if spec.info_keyword is not None:
                kwargs[spec.info_keyword] = self._info_class(_raw_info=info, _field=spec.field)
            if spec.source_keyword is not None:
                kwargs[spec.source_keyword] = source
            result = spec.function(source, **kwargs) if spec.pass_self else spec.function(**kwargs)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(return_type, field_details_list, info, path, result, position_context)
            completed = self.complete_value(return_type, field_details_list, info, path, result, position_context)
            if self.is_awaitable(completed):
                return self._await_completed(completed, return_type, field_details_list, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    async def _await_completed(
        self, completed: Awaitable[Any], return_type: GraphQLOutputType, field_details_list: FieldDetailsList, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    def complete_value(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList, info: Any, path: Path, result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        """graphql-core's ``complete_value``, in fewer calls for non-null wrappers, lists, leaves and expected objects."""
        kind = type(return_type)
        if kind is GraphQLNonNull and result is not None and not isinstance(result, Exception):
            completed = self.complete_value(return_type.of_type, field_details_list, info, path, result, position_context)
            if completed is None:
                msg = f"Cannot return null for non-nullable field {info.parent_type}.{info.field_name}."
                raise TypeError(msg)
            return completed
        if result is None or self._generic_only:
            return super().complete_value(return_type, field_details_list, info, path, result, position_context)
        if kind is GraphQLList and type(result) is list and not self._may_stream:
            return self.complete_list(return_type.of_type, field_details_list, info, path, result, position_context)
        if kind is GraphQLObjectType and type(result) is self._origin(return_type):
            if position_context is None:
                key = (return_type, id(field_details_list))
                grouped = self._subfields.get(key)
                if grouped is None:
                    grouped_field_set, new_defer_usages, *_ = self.collect_subfields(return_type, field_details_list)
                    grouped = self._subfields[key] = False if new_defer_usages else grouped_field_set
                if grouped is not False:  # collect_subfields keeps field_details_list alive for the request
                    return self.execute_fields(return_type, result, path, grouped, None)
            return self.collect_and_execute_subfields(return_type, field_details_list, path, result, position_context)
        if is_leaf_type(return_type) and not isinstance(result, Exception):
            serialize = self._serializers.get(return_type)
            if serialize is None:
                serialize = self._serializers[return_type] = leaf_serializer(return_type)
            coerced = serialize(result)
            if coerced is not None and coerced is not Undefined:
                return coerced
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    def complete_list(
        self, item_type: GraphQLOutputType, field_details_list: FieldDetailsList, info: Any, path: Path, items: list[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """graphql-core's ``complete_iterable_value`` for a ``list`` when nothing may be streamed."""
        is_awaitable = self.is_awaitable
        complete_value = self.complete_value
        completed_results: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = Path(path, index, None)  # path.add_key(index, None), one call fewer per item
                if type(item) not in _PLAIN_ITEMS and is_awaitable(item):
                    completed_results.append(self.complete_awaitable_list_item_value(
                        item, item_type, field_details_list, info, item_path, position_context))
                    awaitable_indices.append(index)
                    continue
                try:  # graphql-core's complete_list_item_value, inline
                    completed = complete_value(item_type, field_details_list, info, item_path, item, position_context)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    completed = None
                else:
                    if type(completed) not in _SETTLED and is_awaitable(completed):
                        completed = self._await_completed(completed, item_type, field_details_list, item_path)
                        awaitable_indices.append(index)
                completed_results.append(completed)
        except Exception:
            if awaitable_indices:
                self.settle_in_background([completed_results[index] for index in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed_results
        return _awaited_items(completed_results, awaitable_indices)

    def get_stream_usage(self, field_details_list: Any, path: Path) -> Any:
        """No ``@stream`` in the schema, so no list is streamed: skip graphql-core's per-list directive lookup."""
        if not self._may_stream:
            return None
        return super().get_stream_usage(field_details_list, path)

    def plain_value(self, source: Any, leaf: PlainLeaf) -> Any:
        """The serialised attribute, or ``_GENERIC`` when graphql-core must handle (and report on) the field."""
        try:
            value = getattr(source, leaf.attribute)
            if value is None:
                return None if leaf.nullable else _GENERIC
            if type(value) not in _INERT and (isinstance(value, Exception) or self.is_awaitable(value)):
                return _GENERIC
            coerced = leaf.serialize(value)
        except Exception:
            return _GENERIC
        return _GENERIC if coerced is None or coerced is Undefined else coerced

    def _origin(self, object_type: GraphQLObjectType) -> type | None:
        """The Strawberry class behind ``object_type``: its instances pass ``is_type_of`` without asking."""
        origins = self._origins
        if object_type not in origins:
            definition = object_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF) if object_type.extensions else None
            origin = getattr(definition, "origin", None)
            origins[object_type] = origin if isinstance(origin, type) and not getattr(definition, "concrete_of", None) else None
        return origins[object_type]

    @cached_property
    def _generic_only(self) -> bool:
        """A ``resolve`` middleware wants every field, and streaming needs graphql-core's own lists."""
        return bool(self.middleware_manager is not None and self.middleware_manager.middlewares)

    @cached_property
    def _plans(self) -> dict[int, list[tuple[str, int, Any, FieldDetailsList]]]:
        return {}

    @cached_property
    def _subfields(self) -> dict[tuple[GraphQLObjectType, int], Any]:
        return {}

    @cached_property
    def _kept(self) -> list[GroupedFieldSet]:
        return []

    @cached_property
    def _plain_by_type(self) -> dict[GraphQLObjectType, dict[str, PlainLeaf]]:
        return _PLAIN.setdefault(self.schema, {})

    @cached_property
    def _direct_by_type(self) -> dict[GraphQLObjectType, dict[str, DirectResolver]]:
        return _DIRECT.setdefault(self.schema, {})

    @cached_property
    def _serializers(self) -> dict[Any, Any]:
        return _SERIALIZERS.setdefault(self.schema, {})

    @cached_property
    def _origins(self) -> dict[GraphQLObjectType, type | None]:
        return _ORIGINS.setdefault(self.schema, {})

    @cached_property
    def _info_class(self) -> type[Info]:
        config = getattr(getattr(self.schema, "_strawberry_schema", None), "config", None)
        return getattr(config, "info_class", Info)

    @cached_property
    def _has_exception_handlers(self) -> bool:
        strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
        converter = getattr(strawberry_schema, "schema_converter", None)
        return converter is None or bool(getattr(converter, "_exception_handler_specs", True))

    @cached_property
    def _may_stream(self) -> bool:
        return self.schema.get_directive("stream") is not None


async def _awaited(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
    """graphql-core's ``execute_fields`` tail: the awaitable fields' values, in parallel."""
    if len(awaitable_fields) == 1:
        name = awaitable_fields[0]
        results[name] = await results[name]
    else:
        values = await gather_with_cancel(*(results[name] for name in awaitable_fields))
        results.update(zip(awaitable_fields, values, strict=True))
    return results


async def _awaited_items(completed: list[Any], awaitable_indices: list[int]) -> list[Any]:
    """graphql-core's ``complete_iterable_value`` tail: the awaitable items' values, in parallel."""
    if len(awaitable_indices) == 1:
        index = awaitable_indices[0]
        completed[index] = await completed[index]
    else:
        values = await gather_with_cancel(*(completed[index] for index in awaitable_indices))
        for index, value in zip(awaitable_indices, values, strict=True):
            completed[index] = value
    return completed
