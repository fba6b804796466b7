"""What ``schema.execution`` needs to know about each field, worked out once per schema (issue 20).

A field of an object type is one of:
- a ``PlainLeaf``: a Strawberry "basic" field (an attribute read) of scalar or enum type;
- a ``DirectResolver``: a Strawberry field whose resolver is a plain synchronous
  function with no field extensions (so no permission classes), no exception
  handlers and only scalar arguments; it is called directly instead of through
  Strawberry's generic wrapper (argument conversion, extension chain), which
  would do nothing for it but cost ten calls;
- anything else, left to graphql-core's ``execute_field`` and Strawberry's wrapper.

``leaf_serializer`` gives each scalar or enum a serialiser that takes a shortcut for
the common cases (a ``str`` for ``String``/``ID``, a member of a Strawberry enum)
and otherwise calls the type's own ``coerce_output_value``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    is_leaf_type,
)
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.field import StrawberryField

_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF

#: Python types of arguments that Strawberry passes to a resolver unchanged (after graphql-core's coercion).
_PLAIN_ARGUMENT_TYPES = (int, str, bool, float)


class PlainLeaf(NamedTuple):
    """A basic field of scalar or enum type: the attribute to read and how to serialise it."""

    attribute: str
    serialize: Callable[[Any], Any]
    nullable: bool


class DirectResolver(NamedTuple):
    """A synchronous resolver Strawberry would call without doing anything else: how to call it ourselves."""

    field_def: GraphQLField
    field: StrawberryField
    function: Callable[..., Any]
    pass_self: bool
    source_keyword: str | None  # ``root`` / ``parent`` parameter name, if any
    info_keyword: str | None
    argument_names: dict[str, str]  # GraphQL name → Python name


def leaf_serializer(leaf_type: GraphQLLeafType) -> Callable[[Any], Any]:
    """``leaf_type.coerce_output_value`` with a shortcut for the values a page is made of."""
    coerce = leaf_type.coerce_output_value
    if leaf_type is GraphQLString or leaf_type is GraphQLID:

        def text(value: Any) -> Any:
            return value if type(value) is str else coerce(value)

        return text
    if isinstance(leaf_type, CustomGraphQLEnumType) and issubclass(leaf_type.wrapped_cls, Enum):
        # CustomGraphQLEnumType.coerce_output_value: the first GraphQL value whose ``.value`` equals the member's.
        names: dict[Any, str] = {}
        for name, value in leaf_type.values.items():
            names.setdefault(value.value, name)
        by_member = {member: names[member.value] for member in leaf_type.wrapped_cls if member.value in names}

        def member(value: Any) -> Any:
            found = by_member.get(value) if type(value) is leaf_type.wrapped_cls else None
            return coerce(value) if found is None else found

        return member
    return coerce


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
            found[name] = PlainLeaf(strawberry_field.python_name, leaf_serializer(leaf_type), nullable)
    return found


def direct_resolvers(parent_type: GraphQLObjectType, handlers: bool) -> dict[str, DirectResolver]:
    """The fields of ``parent_type`` whose resolver can be called directly (none when exception handlers exist)."""
    if handlers:
        return {}
    found = {}
    for name, field in parent_type.fields.items():
        strawberry_field = field.extensions.get(_DEFINITION) if field.extensions else None
        if not isinstance(strawberry_field, StrawberryField):
            continue
        resolver = strawberry_field.base_resolver
        if resolver is None or strawberry_field.extensions or resolver.is_async or strawberry_field.is_subscription:
            continue
        names = _plain_arguments(field)
        if names is None:
            continue
        found[name] = DirectResolver(
            field_def=field,
            field=strawberry_field,
            function=resolver.wrapped_func,
            pass_self=resolver.self_parameter is not None,
            source_keyword=(resolver.parent_parameter or resolver.root_parameter).name  # type: ignore[union-attr]
            if (resolver.parent_parameter or resolver.root_parameter) else None,
            info_keyword=resolver.info_parameter.name if resolver.info_parameter else None,
            argument_names=names,
        )
    return found


def _plain_arguments(field: GraphQLField) -> dict[str, str] | None:
    """GraphQL → Python names of ``field``'s arguments, or None if one needs Strawberry's conversion."""
    names = {}
    for graphql_name, graphql_argument in field.args.items():
        argument = (graphql_argument.extensions or {}).get(_DEFINITION)
        if argument is None:
            return None
        kind = argument.type
        if isinstance(kind, StrawberryMaybe):
            return None
        if isinstance(kind, StrawberryOptional):
            kind = kind.of_type
        if kind not in _PLAIN_ARGUMENT_TYPES:
            return None
        names[graphql_name] = argument.python_name
    return names
