"""503 with ``Retry-After`` instead of a 500 when the database is busy or away.

A channel, carrier or partner that gets a 503 retries later and loses nothing; a 500 reads as "your
request is broken". Only the database's own "busy / locked / gone" failures, and a transaction PostgreSQL
rolled back to break a deadlock (the retry succeeds), are mapped; any other error still reaches the
server-error handler.

    Starlette(..., exception_handlers=DATABASE_UNAVAILABLE_HANDLERS)
"""

from __future__ import annotations

from asyncpg.exceptions import TransactionRollbackError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

RETRY_AFTER_SECONDS = 5

#: What SQLite and PostgreSQL say when another writer holds the lock or the server went away.
_TRANSIENT = ("database is locked", "database is busy", "connection", "could not connect", "lock timeout",
              "deadlock detected", "could not serialize")


def is_transient(exc: BaseException) -> bool:
    """True for the database failures a retry fixes: a busy lock, a lost or refused connection."""
    if isinstance(exc, (DBConnectionError, ConnectionError, TransactionRollbackError)):
        return True
    return isinstance(exc, (OperationalError, TransactionManagementError)) and any(
        words in str(exc).lower() for words in _TRANSIENT)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    if not is_transient(exc):
        raise exc
    return JSONResponse({"error": "the database is busy or unavailable; retry shortly", "code": "UNAVAILABLE"},
                        status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


DATABASE_UNAVAILABLE_HANDLERS = {exception: database_unavailable for exception in
                                 (DBConnectionError, ConnectionError, OperationalError, TransactionManagementError,
                                  TransactionRollbackError)}
