"""``ordergraph queries …``: persisted queries from the shell (global ones, or one tenant's).

    ordergraph queries register FILE.graphql [FILE …] [--tenant SLUG] [--name OPERATION]
        checks each file against the schema, stores it (global without --tenant) and prints
        ``sha256:<hex>  NAME  FILE`` (the documentId to send)
    ordergraph queries register --console
        registers the console's documents (console/documents.py) as global ones
    ordergraph queries disable HASH [--tenant SLUG]   stop serving one (global without --tenant)

The console runs its documents in-process, so they are not registered at start-up
(every worker would write on every boot for no gain); register them here when an
outside copy of the console, or persisted-only hardening, needs them by hash.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from pathlib import Path

from api.database import with_db
from domain import persisted_queries as store
from domain.actor import Actor, Role
from domain.errors import NotFound, ValidationFailed


def console_documents() -> dict[str, str]:
    """Every document the console sends, by its constant's name."""
    from console import documents

    return {name: value for name, value in vars(documents).items()
            if name.isupper() and not name.startswith("_") and isinstance(value, str) and value.strip()}


async def _actor(tenant: str | None) -> Actor | None:
    if tenant is None:
        return None
    from models import Tenant

    found = await Tenant.filter(slug=tenant).first()
    if found is None:
        raise NotFound(f"no tenant {tenant}", field="tenant")
    return Actor(tenant_id=found.id, role=Role.ADMIN, name=f"cli:queries:{getpass.getuser()}"[:100], source="cli")


def cmd_register(settings: object, args: argparse.Namespace) -> None:
    from importlib import import_module

    # By name, as ``ordergraph schema`` does: the CLI's own imports stay off the GraphQL layer.
    graphql_schema = import_module("schema").build_schema(production=False)._schema
    check_document = import_module("schema.persisted").check_document
    if args.console:
        documents = console_documents()
    elif args.files:
        documents = {path: Path(path).read_text(encoding="utf-8") for path in args.files}
    else:
        raise ValidationFailed("name one or more .graphql files, or --console")
    checked = {label: (text, check_document(graphql_schema, text, args.name or "")) for label, text in documents.items()}

    async def work() -> None:
        actor = await _actor(args.tenant)
        for label, (text, operation) in checked.items():
            row = await store.register(actor, text, name=operation,
                                       registered_by=f"cli:queries:{getpass.getuser()}")
            print(f"sha256:{row.sha256}  {operation or '-'}  {label}")

    asyncio.run(with_db(settings, work))


def cmd_disable(settings: object, args: argparse.Namespace) -> None:
    sha = args.hash.strip().lower().removeprefix("sha256:")
    if not store.is_hash(sha):
        raise ValidationFailed("not a SHA-256 hash: 64 hexadecimal characters, optionally after sha256:")

    async def work() -> None:
        actor = await _actor(args.tenant)
        await (store.disable(actor, sha) if actor is not None else store.disable_global(sha))
        print(f"sha256:{sha} disabled")

    asyncio.run(with_db(settings, work))


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``queries`` group to the ``ordergraph`` command."""
    queries = sub.add_parser("queries", help="persisted queries: register documents partners run by hash"
                             ).add_subparsers(dest="queries_action", required=True)
    reg = queries.add_parser("register", help="check .graphql files against the schema and store them by hash")
    reg.add_argument("files", nargs="*", help="GraphQL documents; each file is one persisted document")
    reg.add_argument("--tenant", help="register for this tenant only (default: global, for every tenant)")
    reg.add_argument("--name", help="the operation to run when a file holds several")
    reg.add_argument("--console", action="store_true", help="register the console's documents (global)")
    reg.set_defaults(func=cmd_register)
    disable = queries.add_parser("disable", help="stop serving a persisted query")
    disable.add_argument("hash", help="sha256:<hex> or the bare hex")
    disable.add_argument("--tenant", help="the tenant's own document (default: the global one)")
    disable.set_defaults(func=cmd_disable)
