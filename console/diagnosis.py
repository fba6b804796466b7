"""An order's cross-system diagnosis on its page, with the repairs it suggests as buttons.

    GET  /console/orders/OG000000042?diagnose=1   the order page with its diagnosis (asks the ERP, WMS, channel)
    POST /console/orders/OG000000042/repair       mutation=repushToWms, input=<the JSON the diagnosis gave>, csrf

The diagnosis runs on request, not on every page view: it asks the merchant's other systems. A repair
button sends back the mutation and input the API suggested; only mutations a diagnosis can suggest are
run, and the API checks them (role, state) like any other call.
"""

from __future__ import annotations

import json
from typing import Any

from graphql import GraphQLSchema
from starlette.requests import Request

from console.client import Problem, Result
from console.site import Console
from domain.federation.diagnosis import MUTATIONS
from models import ConsoleSession

#: The mutations a repair button may run.
REPAIRS = frozenset(MUTATIONS.values())

DIAGNOSE = """query Diagnose($ids: [ID!]!) { diagnose(orders: $ids) {
  verdict summary checkedAt elapsedMs
  discrepancies { code severity outOfLine message since actions { kind label mutation input } }
  unreachable { system connection message } } }"""


async def diagnose(console: Console, request: Request, session: ConsoleSession,
                   order_id: str) -> tuple[dict[str, Any] | None, Problem | None]:
    """The order's diagnosis, each suggested action's input as JSON text for its button."""
    result = await console.gql(request, session, DIAGNOSE, {"ids": [order_id]})
    found = ((result.data or {}).get("diagnose") or [None])[0]
    if found is None:
        return None, result.problems[0] if result.problems else None
    for discrepancy in found["discrepancies"]:
        for action in discrepancy["actions"]:
            action["input_json"] = json.dumps(action["input"], ensure_ascii=False, sort_keys=True)
    return found, None


def repair_document(schema: GraphQLSchema, mutation: str) -> str | None:
    """``mutation($input: <its input type>) { <mutation>(input: $input) { errors { … } } }``, or None."""
    mutation_type = schema.mutation_type
    field = mutation_type.fields.get(mutation) if mutation in REPAIRS and mutation_type is not None else None
    if field is None or "input" not in field.args:
        return None
    return (f"mutation Repair($input: {field.args['input'].type}) "
            f"{{ {mutation}(input: $input) {{ errors {{ code message field }} }} }}")


async def repair(console: Console, request: Request, session: ConsoleSession, form: dict[str, str]) -> Result:
    """Run the repair the form names with the input the diagnosis suggested."""
    mutation = form.get("mutation", "")
    document = repair_document(console.client.schema._schema, mutation)
    if document is None:
        return Result(None, [Problem("VALIDATION", f"{mutation[:40]!r} is not a repair a diagnosis suggests")])
    try:
        given = json.loads(form.get("input", ""))
    except ValueError:
        return Result(None, [Problem("VALIDATION", "the repair's input is not JSON")])
    if not isinstance(given, dict):
        return Result(None, [Problem("VALIDATION", "the repair's input is not an object")])
    return await console.gql(request, session, document, {"input": given}, payload=mutation)
