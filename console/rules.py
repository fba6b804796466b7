"""Business rules: the list, one rule's versions and firings, a dry run, turning it on or off, templates.

    GET  /console/rules?rule=<id>
    POST /console/rules/act    action=template|enable|disable|dry_run, rule | template, name, days, csrf

A dry run (``dryRunRule``) changes nothing, so its result is drawn straight
into the answer to the POST: hits, what the actions would have been, the
evaluation errors and the time the condition took. Who may do what is the API's.
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

DAYS = (1, 7, 30)
MAX_ID = 100
DONE = ("template", "enable", "disable")


async def _page(console: Console, request: Request, session: ConsoleSession, rule_id: str, *, status: int = 200,
                problem: Problem | None = None, dry_run: dict[str, Any] | None = None, days: int = 7) -> Response:
    view = console.view(request, session, "rules")
    if rule_id:
        view.query["rule"] = rule_id
    rules, listed = await console.rows(request, session, documents.RULES)
    templates, _ = await console.rows(request, session, documents.RULE_TEMPLATES)
    shown = problem or (listed.problems[0] if listed.problems else None)
    rule = None
    if rule_id and not listed.problems:
        found = await console.gql(request, session, documents.RULE, {"id": rule_id})
        rule = (found.data or {}).get("rule")
        if shown is None and found.problems:
            shown = found.problems[0]
        elif shown is None and rule is None:
            shown = Problem("NOT_FOUND", view.t("no_such_rule"))
    if shown is not None and status == 200:
        status = problem_status(shown.code)
    message, tone = "", "ok"
    if shown is not None:
        message, tone = view.t("refused", message=shown.message), "err"
    elif request.query_params.get("done") in DONE:
        message = view.t("done_rule_" + request.query_params["done"])
    return console.page(request, "rules.html", view, status=status, rules=rules, templates=templates, rule=rule,
                        dry_run=dry_run, days=days, choices=DAYS, message=message, tone=tone, as_json=_as_json)


def _as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)


@signed_in
async def rules(console: Console, request: Request, session: ConsoleSession) -> Response:
    return await _page(console, request, session, request.query_params.get("rule", "")[:MAX_ID])


@signed_in
@posted
async def act(console: Console, request: Request, session: ConsoleSession, form: dict[str, str]) -> Response:
    action, rule_id = form.get("action", ""), form.get("rule", "")[:MAX_ID]
    if action == "dry_run":
        days = int(form["days"]) if form.get("days", "").isdigit() and int(form["days"]) in DAYS else 7
        result = await console.gql(request, session, documents.DRY_RUN, {"id": rule_id, "days": days}, payload="dryRunRule")
        if result.problems:
            problem = result.problems[0]
            return await _page(console, request, session, rule_id, status=problem_status(problem.code), problem=problem)
        return await _page(console, request, session, rule_id, dry_run=result.data["dryRunRule"]["result"], days=days)
    if action == "template":
        name = form.get("name", "").strip()[:100] or None
        result = await console.gql(request, session, documents.RULE_FROM_TEMPLATE,
                                   {"template": form.get("template", "")[:100], "name": name}, payload="createRuleFromTemplate")
        field = "createRuleFromTemplate"
    elif action in ("enable", "disable"):
        result = await console.gql(request, session, documents.RULE_ENABLED, {"id": rule_id, "enabled": action == "enable"},
                                   payload="setRuleEnabled")
        field = "setRuleEnabled"
    else:
        return await _page(console, request, session, rule_id, status=422, problem=Problem("VALIDATION", "unknown action"))
    if result.problems:
        problem = result.problems[0]
        return await _page(console, request, session, rule_id, status=problem_status(problem.code), problem=problem)
    saved = result.data[field]["rule"]
    return console.redirect(request, f"{BASE}/rules?{urlencode({'rule': saved['id'], 'done': action})}")
