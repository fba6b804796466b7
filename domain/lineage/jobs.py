"""Lineage exports as background jobs: start one, watch its progress, download the file when done.

    job = await start_job(actor, {"order": "OG000000042", "format": "jsonl"})
    asyncio.create_task(run_job(actor, job.id))      # the caller (resolvers) owns the task
    path, name, media_type = await download(actor, job.id)

Jobs run in the process that accepted them. Files go to ``ORDERGRAPH_EXPORT_DIR``
(``var/exports``). A process that restarts cannot resume a job, so at start-up
every job still ``running`` is marked ``failed`` (``fail_interrupted``).
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from domain.actor import Actor
from domain.errors import DomainError, Forbidden, NotFound, ValidationFailed
from domain.lineage.export import FORMATS, export_lineage, record_export
from domain.lineage.pdf import order_html, render_pdf
from domain.lineage.scope import EXPORT_ROLES, Scope, check_role, order_scope, range_scope
from models import ExportJob

RUNNING, DONE, FAILED = "running", "done", "failed"
MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def export_dir() -> Path:
    return Path(os.environ.get("ORDERGRAPH_EXPORT_DIR", "var/exports"))


def _day(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(f"{field} is a date such as 2026-11-30", field=field) from None


async def scope_of(actor: Actor, params: dict[str, Any]) -> Scope:
    """The scope a job's params name: ``order``, or ``from``/``to`` with ``by``."""
    if params.get("order"):
        return await order_scope(actor, str(params["order"]))
    if not params.get("from") or not params.get("to"):
        raise ValidationFailed("give an order, or from and to", field="order")
    return await range_scope(actor, _day(params["from"], "from"), _day(params["to"], "to"), by=params.get("by") or "placed")


async def start_job(actor: Actor, params: dict[str, Any]) -> ExportJob:
    """Check the request (role, scope, format) and record the job; the caller runs ``run_job``."""
    check_role(actor)
    fmt = params.get("format") or "jsonl"
    if fmt not in (*FORMATS, "pdf"):
        raise ValidationFailed("format is jsonl, csv or pdf", field="format")
    scope = await scope_of(actor, params)
    if fmt == "pdf" and scope.order_id is None:
        raise ValidationFailed("a PDF is of one order: give an order", field="format")
    return await ExportJob.create(tenant_id=actor.tenant_id, requested_by=actor.name[:100],
                                  params={**params, "format": fmt}, status=RUNNING)


async def run_job(actor: Actor, job_id: int) -> None:
    """Run the export, updating ``progress``/``total`` per batch; ends ``done`` with a file, or ``failed``."""
    job = await ExportJob.get(id=job_id)
    fmt = job.params["format"]
    target = export_dir() / f"lineage-{job.id}.{fmt}"
    try:
        scope = await scope_of(actor, job.params)
        target.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "pdf":
            data = await asyncio.to_thread(render_pdf, await order_html(actor, scope))
            target.write_bytes(data)
            manifest: dict[str, Any] = {"bytes": len(data), "scope": scope.params()}
            await record_export(actor, "lineage.exported", {**scope.params(), "format": "pdf", "job": job.id},
                                {"bytes": len(data)})
        else:
            async def progress(done: int, total: int) -> None:
                await ExportJob.filter(id=job_id).update(progress=done, total=total)

            with target.open("wb") as sink:
                manifest = await export_lineage(actor, scope, fmt, sink.write, progress=progress)
    except (DomainError, OSError) as failed:
        message = failed.message if isinstance(failed, DomainError) else f"could not write the file: {failed}"
        await ExportJob.filter(id=job_id).update(status=FAILED, error=message[:500], finished_at=datetime.now(UTC))
        return
    except Exception:  # an unexpected fault still ends the job, so nobody polls forever
        await ExportJob.filter(id=job_id).update(status=FAILED, error="the export failed unexpectedly",
                                                 finished_at=datetime.now(UTC))
        raise
    count = manifest.get("count", 1)
    await ExportJob.filter(id=job_id).update(status=DONE, path=str(target), manifest=manifest, progress=count,
                                             total=count, finished_at=datetime.now(UTC))


async def get_job(actor: Actor, job_id: int) -> ExportJob:
    if actor.role not in EXPORT_ROLES:
        raise Forbidden("only auditors and admins read lineage exports", field="role")
    job = await ExportJob.filter(id=job_id, tenant_id=actor.tenant_id).first()
    if job is None:
        raise NotFound("no such export", field="id")
    return job


async def download(actor: Actor, job_id: int) -> tuple[Path, str, str]:
    """(file, download name, media type) of a finished job of the actor's tenant."""
    job = await get_job(actor, job_id)
    if job.status != DONE or not job.path:
        raise ValidationFailed(f"the export is {job.status}", field="id")
    path = Path(job.path)
    if not path.is_file():
        raise NotFound("the export's file is gone", field="id")
    fmt = job.params.get("format", "jsonl")
    return path, f"lineage-{job.id}.{fmt}", MEDIA.get(fmt, "application/octet-stream")


async def fail_interrupted() -> int:
    """Mark jobs left ``running`` by a previous process as failed; how many."""
    return await ExportJob.filter(status=RUNNING).update(
        status=FAILED, error="interrupted by a restart: start it again", finished_at=datetime.now(UTC))
