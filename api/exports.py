"""Downloads behind an API key: ``GET /exports/reconciliation/{run_id}.{csv|xlsx}``.

    curl -H "Authorization: Bearer og_…" -o day.xlsx https://og.example.com/exports/reconciliation/12.xlsx

Authenticated like ``/graphql`` (``Authorization: Bearer`` or ``X-Api-Key``,
the same key cache). 401 without a live key, 403 for roles that do not read
reconciliations (finance, ops, admins and auditors do), 404 for a run of
another tenant or an unknown format. Never cached.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from api.auth import KeyCache, key_from_headers
from domain.errors import DomainError, Forbidden, NotFound
from domain.reconciliation import export


def export_routes(keys: KeyCache) -> list[Route]:
    async def reconciliation(request: Request) -> Response:
        actor = await keys.actor_for(key_from_headers(request.headers), source="export")
        if actor is None:
            return JSONResponse({"error": "an API key is required (Authorization: Bearer og_…)"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        fmt = request.path_params["fmt"]
        if fmt not in export.FORMATS:
            return JSONResponse({"error": "format is csv or xlsx"}, status_code=404)
        try:
            name, media_type, data = await export.export(actor, request.path_params["run_id"], fmt)
        except Forbidden as refused:
            return JSONResponse({"error": refused.message}, status_code=403)
        except NotFound as missing:
            return JSONResponse({"error": missing.message}, status_code=404)
        except DomainError as refused:
            return JSONResponse({"error": refused.message}, status_code=400)
        return Response(data, media_type=media_type, headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    return [Route("/exports/reconciliation/{run_id:int}.{fmt}", reconciliation, methods=["GET"]),
            *lineage_routes(keys)]


def lineage_routes(keys: KeyCache) -> list[Route]:
    """``GET /exports/lineage/{job}``: a finished lineage export, for auditors and admins of its tenant.

    401 without a live key, 403 for other roles and for another tenant's job, 404 unknown, 409 not done yet.
    """
    from domain.lineage import jobs
    from models import ExportJob

    async def lineage(request: Request) -> Response:
        actor = await keys.actor_for(key_from_headers(request.headers), source="export")
        if actor is None:
            return JSONResponse({"error": "an API key is required (Authorization: Bearer og_…)"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        job_id = request.path_params["job_id"]
        owner = await ExportJob.filter(id=job_id).values_list("tenant_id", flat=True)
        if owner and owner[0] != actor.tenant_id:
            return JSONResponse({"error": "this export belongs to another tenant"}, status_code=403)
        try:
            path, name, media_type = await jobs.download(actor, job_id)
        except Forbidden as refused:
            return JSONResponse({"error": refused.message}, status_code=403)
        except NotFound as missing:
            return JSONResponse({"error": missing.message}, status_code=404)
        except DomainError as refused:
            return JSONResponse({"error": refused.message}, status_code=409)
        return FileResponse(path, media_type=media_type, filename=name, headers={"Cache-Control": "no-store"})

    return [Route("/exports/lineage/{job_id:int}", lineage, methods=["GET"])]
