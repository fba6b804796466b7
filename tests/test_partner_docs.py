"""docs/partners.md is true: its catalogue matches the code, its examples the real payloads, its snippets verify.

The catalogue check scans the code for every event-type literal (``namespace.name``) under the
packages that write lineage, so a new type fails here until it is documented; alert kinds and
a few dotted strings that are not events (field paths, file names) are told apart explicitly.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.actor import Role
from domain.alerts.kinds import AlertKind
from domain.webhooks import endpoints as webhooks
from events.catalogue import BY_TYPE, CATALOGUE
from tests.helpers import paid_order
from tests.live_fixtures import live_server, serve_asgi, wait_until

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "partners.md"
REGISTRY = ROOT / "events" / "catalogue.py"
WRITERS = ("domain", "events", "resolvers", "api")  # every package that may append lineage
EVENT_SHAPE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")
#: Dotted literals in those packages that are not event types (dict paths, files, loggers, modules).
NOT_EVENTS = {
    "address.city", "address.district", "address.phone", "address.province", "address.street",
    "customer.email", "customer.phone", "payment.amount", "sealed.open_id", "sealed.platform",
    "lines.warehouse", "shipments.warehouse", "localhost.localdomain", "http.request",
    "aftership.first_tag", "aftership.subtag", "douyin.main_status", "pinduoduo.confirm_status",
    "pinduoduo.refund_status", "shopify.cancelled", "shopify.fulfillment_event", "taobao.refund_status",
    "taobao.step_trade_status", "api.cli", "api.sqlite_engine", "models.migrations", "tortoise.db_client",
    "uvicorn.access", "schema.graphql", "schema.sdl", "schema.persisted",
    "deliveryorder.query",  # a Qimen operation the WMS probe names in its exchange
}
NOT_EVENT_SUFFIXES = (".json", ".jsonl", ".pdf", ".js", ".css", ".html", ".log")
NOT_EVENT_PREFIXES = ("ordergraph.", "config.")  # logger names; policy and route config field paths


def documented_types() -> list[str]:
    text = DOC.read_text()
    table = text[text.index("<!-- catalogue:start -->"):text.index("<!-- catalogue:end -->")]
    return re.findall(r"^\| `([a-z_.]+)` \|", table, flags=re.MULTILINE)


def _dotted_literals() -> tuple[set[str], set[str]]:
    """String literals shaped like event types, and the prefixes of f-strings that build one (``rule.``)."""
    literals, prefixes = set(), set()
    for package in WRITERS:
        for path in (ROOT / package).rglob("*.py"):
            if path == REGISTRY:  # the registry names every type; the scan looks for the code that writes them
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and EVENT_SHAPE.match(node.value):
                    literals.add(node.value)
                elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                    head = str(node.values[0].value)
                    if re.fullmatch(r"[a-z_]+\.", head) and len(node.values) == 2:
                        prefixes.add(head)
    return literals, prefixes


def code_types() -> set[str]:
    literals, _ = _dotted_literals()
    alert_kinds = {kind.value for kind in AlertKind}
    documented = set(documented_types())
    return {
        literal for literal in literals
        if literal not in NOT_EVENTS and not literal.endswith(NOT_EVENT_SUFFIXES)
        and not literal.startswith(NOT_EVENT_PREFIXES)
        and (literal not in alert_kinds or literal in documented)  # some kinds share a name with an event
    }


def test_the_catalogue_lists_every_event_type_the_code_writes():
    documented = documented_types()
    assert len(documented) == len(set(documented)), "a type is listed twice"
    missing = code_types() - set(documented)
    assert not missing, f"event types written by the code but not in docs/partners.md: {sorted(missing)}"


def test_the_catalogue_lists_nothing_the_code_no_longer_writes():
    literals, prefixes = _dotted_literals()
    built = {t for t in documented_types() if any(t.startswith(p) for p in prefixes)}  # rule.enabled / rule.disabled
    stale = set(documented_types()) - literals - built
    assert not stale, f"documented but found nowhere in the code: {sorted(stale)}"
    assert {"rule.enabled", "rule.disabled"} <= set(documented_types())  # f"rule.{what}" in domain/rules/store.py


def documented_rows() -> list[tuple[str, str, str]]:
    """The catalogue table's rows: (type, when it fires, order)."""
    text = DOC.read_text()
    table = text[text.index("<!-- catalogue:start -->"):text.index("<!-- catalogue:end -->")]
    return re.findall(r"^\| `([a-z_.]+)` \| (.*) \| (yes|no|either) \|$", table, flags=re.MULTILINE)


def test_the_catalogue_table_is_the_registry_row_for_row():
    """docs/partners.md == ``events.catalogue`` (which the GraphQL ``EventType`` enum is made from) == the code."""
    assert documented_rows() == [tuple(entry) for entry in CATALOGUE]
    assert len(documented_rows()) == len(documented_types()), "a catalogue row is not in the `type | when | order` form"
    literals, prefixes = _dotted_literals()
    built = {t for t in BY_TYPE if any(t.startswith(p) for p in prefixes)}
    assert code_types() <= set(BY_TYPE) and set(BY_TYPE) - literals - built == set()


def _doc_examples() -> dict[str, dict[str, Any]]:
    text = DOC.read_text()
    block = text[text.index("<!-- examples:start -->"):text.index("<!-- examples:end -->")]
    found = re.findall(r"#### `([a-z_.]+)`\s+```json\n(.*?)\n```", block, flags=re.DOTALL)
    return {kind: json.loads(body) for kind, body in found}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value[:1]]
    return type(value).__name__


def test_the_example_payloads_are_what_the_code_sends_today():
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "event_catalogue.py")], capture_output=True,
                         text=True, timeout=120, cwd=ROOT, check=True)
    real = {item["type"]: item["body"] for item in map(json.loads, run.stdout.splitlines())}
    shown = _doc_examples()
    assert set(shown) == set(real), "re-run tools/event_catalogue.py --markdown into docs/partners.md"
    assert set(real) <= set(documented_types())
    for kind, body in real.items():
        assert _shape(shown[kind]) == _shape(body), kind
        assert shown[kind]["data"]["before"] == body["data"]["before"] and shown[kind]["data"]["after"] == body["data"]["after"], kind


def _snippet(language: str, heading: str) -> str:
    """The first fenced ``language`` block after ``### heading`` in docs/partners.md."""
    text = DOC.read_text()
    start = text.index(f"### {heading}\n")
    return re.search(rf"```{language}\n(.*?)\n```", text[start:], flags=re.DOTALL).group(1)


@pytest.fixture
async def captured(world, db) -> dict[str, Any]:
    """One real delivery from a served OrderGraph, exactly as it arrived (raw body and headers), and its secret."""
    arrived: list[tuple[bytes, dict[str, str]]] = []

    async def hook(request: Request) -> Response:
        arrived.append((await request.body(), dict(request.headers)))
        return Response(status_code=204)

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    async with serve_asgi(receiver) as base, live_server(db):
        _, secret = await webhooks.register_endpoint(world.actor(Role.ADMIN), base + "/hook", webhooks.UrlPolicy(),
                                                     event_types=["order.created"])
        await paid_order(world.actor(), world.channel.id, "DOC-1")
        await wait_until(lambda: arrived, timeout=20)
    body, headers = arrived[0]
    return {"secret": secret, "body": body.decode(), "headers": headers}


def _tampered(delivery: dict[str, Any]) -> dict[str, Any]:
    return {**delivery, "body": delivery["body"].replace("order.created", "order.cancelled")}


async def test_the_python_snippet_verifies_a_real_delivery(captured):
    namespace: dict[str, Any] = {}
    exec(compile(_snippet("python", "Python"), "docs/partners.md", "exec"), namespace)  # noqa: S102 - our own doc
    verify = namespace["verify_ordergraph"]
    event = verify(captured["secret"], captured["body"].encode(), captured["headers"])
    assert event["type"] == "order.created" and event["data"]["order"]["number"].startswith("OG")
    with pytest.raises(namespace["WebhookVerificationError"]):
        verify(captured["secret"], _tampered(captured)["body"].encode(), captured["headers"])


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory) -> Path:
    """``standardwebhooks`` from npm in a scratch directory; unavailable npm or registry skips, except under CI."""
    where = tmp_path_factory.mktemp("node-snippet")
    problem = None
    if not (shutil.which("node") and shutil.which("npm")):
        problem = "node and npm are not installed"
    else:
        try:
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "standardwebhooks@1"],
                           cwd=where, capture_output=True, timeout=120, check=True)
        except (subprocess.SubprocessError, OSError) as failed:
            problem = f"npm install standardwebhooks failed: {failed}"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    return where


HARNESS = """
const { verifyOrderGraph } = require("./verify.js");
const delivery = JSON.parse(require("fs").readFileSync(0, "utf8"));
try {
  const event = verifyOrderGraph(delivery.secret, delivery.body, delivery.headers);
  console.log(JSON.stringify({ ok: true, type: event.type }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: err.constructor.name }));
}
"""


def _run_node(where: Path, delivery: dict[str, Any]) -> dict[str, Any]:
    (where / "verify.js").write_text(_snippet("js", "Node"))
    (where / "harness.js").write_text(HARNESS)
    run = subprocess.run(["node", "harness.js"], cwd=where, input=json.dumps(delivery), capture_output=True,
                         text=True, timeout=30, check=True)
    return json.loads(run.stdout)


async def test_the_node_snippet_verifies_a_real_delivery(captured, node_modules):
    assert _run_node(node_modules, captured) == {"ok": True, "type": "order.created"}
    refused = _run_node(node_modules, _tampered(captured))
    assert refused == {"ok": False, "error": "WebhookVerificationError"}
