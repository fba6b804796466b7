"""The allocation policy: what is stored (tenant default and per channel), and saving a new one.

    GET  /console/policy?scope=tenant|<channel code>
    POST /console/policy    channel, config (JSON), csrf

Reading is ``allocationPolicies``; saving is ``setAllocationPolicy``, which
validates the JSON and answers with the reason when it cannot be used. The API
keeps only the current version of each policy (its number, who, when), so
earlier versions show as not available.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from console import documents
from console.client import Problem
from console.pages import posted, problem_status, signed_in
from console.site import BASE, Console
from models import ConsoleSession

MAX_CONFIG = 8000


async def _page(console: Console, request: Request, session: ConsoleSession, *, status: int = 200,
                problem: Problem | None = None, draft: str | None = None, channel: str = "") -> Response:
    view = console.view(request, session, "policy")
    policies, listed = await console.rows(request, session, documents.POLICIES)
    channels, _ = await console.rows(request, session, documents.CHANNEL_PULLING)
    shown = problem or (listed.problems[0] if listed.problems else None)
    if shown is not None and status == 200:
        status = problem_status(shown.code)
    channel = channel or request.query_params.get("channel", "")[:64]
    current = next((p for p in policies if (p.get("channel") or "") == channel), None)
    if draft is None:
        draft = json.dumps(current["config"], ensure_ascii=False, indent=2) if current else ""
    message, tone = "", "ok"
    if shown is not None:
        message, tone = view.t("refused", message=shown.message), "err"
    elif request.query_params.get("saved", "").isdigit():
        message = view.t("saved_policy", version=request.query_params["saved"])
    return console.page(request, "policy.html", view, status=status, policies=policies, channels=channels,
                        channel=channel, draft=draft, message=message, tone=tone,
                        pretty=lambda value: json.dumps(value, ensure_ascii=False, indent=2))


@signed_in
async def policy(console: Console, request: Request, session: ConsoleSession) -> Response:
    return await _page(console, request, session)


@signed_in
@posted
async def save(console: Console, request: Request, session: ConsoleSession, form: dict[str, str]) -> Response:
    text, channel = form.get("config", "")[:MAX_CONFIG], form.get("channel", "")[:64]
    try:
        config: Any = json.loads(text)
    except ValueError as error:
        return await _page(console, request, session, status=422, draft=text, channel=channel,
                           problem=Problem("VALIDATION", f"JSON: {error}", "config"))
    variables = {"input": {"config": config, "channel": channel or None}}
    result = await console.gql(request, session, documents.SET_POLICY, variables, payload="setAllocationPolicy")
    if result.problems:
        problem = result.problems[0]
        return await _page(console, request, session, status=problem_status(problem.code), problem=problem, draft=text,
                           channel=channel)
    saved = result.data["setAllocationPolicy"]["policy"]
    return console.redirect(request, f"{BASE}/policy?{urlencode({'channel': channel, 'saved': saved['version']})}")
