"""Logging GraphQL errors without the query: operation name, document hash, error code — never literals or variables.

Strawberry's default logs ``str(error)``, which quotes the source around the
error's location (a phone written inline ends up in the log), and the full
traceback, whose last line repeats the exception's message (which may echo
input). Here every error becomes one line::

    graphql error op=CreateOrder doc=3f9a1c0b2e7d code=BAD_USER_INPUT path=createOrder

and an unexpected one also gets a correlation id (the one the client sees in
production) and the stack as file:line:function frames, without messages.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
import uuid
from typing import Any

from graphql import GraphQLError

log = logging.getLogger("ordergraph.graphql")

#: Errors raised by our own code whose class says what went wrong (their messages stay out of the log).
CORRELATION_KEY = "correlationId"


def document_hash(query: str | None) -> str:
    """A short, stable name for a document: the same text always hashes the same, nothing readable leaks."""
    return hashlib.sha256((query or "").encode("utf-8", "replace")).hexdigest()[:12]


def error_code(error: GraphQLError) -> str:
    """The code a client sees (``extensions.code``), else one derived from where the error came from."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code
    original = error.original_error
    if original is None:
        return "GRAPHQL_VALIDATION_FAILED" if error.locations else "BAD_REQUEST"
    code = getattr(original, "code", None)
    return code if isinstance(code, str) else type(original).__name__


def frames(error: BaseException) -> str:
    """The stack as ``file:line in function`` frames only: no source lines with values, no messages."""
    summary = traceback.extract_tb(error.__traceback__)
    return " <- ".join(f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} in {frame.name}"
                       for frame in reversed(summary)) or "(no frames)"


def log_errors(errors: list[GraphQLError], *, operation: str | None, query: str | None,
               is_expected: Any) -> None:
    """One line per error; ``is_expected(original)`` says whether an exception is a client error or a bug."""
    op = (operation or "anonymous")[:64]
    doc = document_hash(query)
    for error in errors:
        path = ".".join(str(part) for part in error.path or ()) or "-"
        original = error.original_error
        if original is None or is_expected(original):
            log.info("graphql error op=%s doc=%s code=%s path=%s", op, doc, error_code(error), path[:200])
            continue
        correlation_id = uuid.uuid4().hex[:12]
        error.extensions = {**(error.extensions or {}), CORRELATION_KEY: correlation_id}
        log.error("graphql unexpected error id=%s op=%s doc=%s path=%s type=%s stack=%s",
                  correlation_id, op, doc, path[:200], type(original).__name__, frames(original))
