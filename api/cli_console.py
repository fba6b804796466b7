"""``ordergraph console-users …``: accounts for people who use the operations console.

    ordergraph console-users create --tenant demo --email li.wei@example.cn --name "Li Wei" --role ops
        reads the password from stdin when it is not a terminal (echo "$PW" | ordergraph console-users create …),
        otherwise asks for it twice without echo; never takes it as an argument (shell history, ps)
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from api.database import with_db
from console.accounts import MIN_PASSWORD, create_user
from domain.actor import Role
from domain.errors import ValidationFailed


def _password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValidationFailed("the two passwords differ", field="password")
    return first


def cmd_create(settings: object, args: argparse.Namespace) -> None:
    password = _password()
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"a password of at least {MIN_PASSWORD} characters", field="password")

    async def work() -> None:
        await create_user(args.tenant, args.email, args.name, args.role, password)

    asyncio.run(with_db(settings, work))
    print(f"console user {args.email.strip().lower()} ({args.role}) created for tenant {args.tenant}; sign in at /console")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``console-users`` group to the ``ordergraph`` command."""
    users = sub.add_parser("console-users", help="people who sign in to the operations console").add_subparsers(
        dest="console_action", required=True)
    create = users.add_parser("create", help="add a person (password from stdin, or asked twice)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="what the console and the lineage show, e.g. 'Li Wei'")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.set_defaults(func=cmd_create)
