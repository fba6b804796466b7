"""Channels and carrier accounts, with what to configure at the platform.

    GET /console/channels

Each channel's webhook URL is the API's ``hookPath`` on this server
(``/hooks/{tenant}/{channel}``); a secret shows only as "set" or "missing" (the
API never gives it back), and how to make one follows the integration docs.
``intakeChannels`` and ``carrierAccounts`` are for admins: other roles see the
API's refusal for those sections and the polling state of every channel.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from console import documents
from console.pages import problem_status, signed_in
from console.site import Console
from models import ConsoleSession

#: Kinds whose platform pushes whole orders to our URL; the others are pulled with a platform API account.
PUSHED = frozenset({"shopify", "generic"})


def server_url(console: Console, request: Request) -> str:
    configured = getattr(console.settings, "public_url", None)
    return (configured or str(request.base_url)).rstrip("/")


@signed_in
async def channels(console: Console, request: Request, session: ConsoleSession) -> Response:
    view = console.view(request, session, "channels")
    pulling, polled = await console.rows(request, session, documents.CHANNEL_PULLING)
    intake, asked = await console.rows(request, session, documents.INTAKE_CHANNELS)
    carriers, carried = await console.rows(request, session, documents.CARRIER_ACCOUNTS)
    problems = polled.problems + asked.problems + carried.problems
    status = problem_status(problems[0].code) if problems else 200
    message = view.t("refused", message=problems[0].message) if problems else ""
    polls = {row["code"]: row["pulling"] for row in pulling}
    return console.page(request, "channels.html", view, status=status, pulling=pulling, intake=intake,
                        intake_refused=bool(asked.problems), carriers=carriers, carriers_refused=bool(carried.problems),
                        polls=polls, server=server_url(console, request), pushed=PUSHED, message=message, tone="err")
