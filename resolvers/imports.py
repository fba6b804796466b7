"""Importing an order file: read it (``adapters.files``), parse row groups with the channel's mapping, apply in batches.

Shared by ``ordergraph import`` and the ``importOrders`` mutation. Rows of
one order must be adjacent and share its external id; the mapping is the
channel's generic JMESPath mapping (``import_mapping`` if it has one),
evaluated on a document made of the order's first row plus ``rows``, the
list of all its rows — so ``"lines": "rows"`` reads one line per row, and
``"lines": "[@]"`` reads a file with one single-line order per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import jmespath
from jmespath.parser import ParsedResult

from adapters import files
from adapters.channels import generic
from adapters.normalized import PayloadError
from adapters.reader import is_missing
from domain import payloads
from domain.actor import Actor
from domain.bulk_import import ParsedGroup, import_groups, start_run
from domain.errors import NotFound, ValidationFailed
from domain.intake import channel_actor
from domain.intake_sources import channel_mapping
from domain.quarantine import require_admin
from models import Channel, ImportRun


@lru_cache(maxsize=256)
def _compile(expression: str) -> ParsedResult:
    return jmespath.compile(expression)


def parsed_groups(
    data: bytes, fmt: str, mapping: dict[str, str], *, encoding: str = "utf-8", start_row: int = 2
) -> Iterator[ParsedGroup]:
    """Group adjacent rows by external id and parse each group; refusals carry their row numbers."""
    key = _compile(mapping["external_id"])
    seen: dict[str, int] = {}
    rows: list[files.Row] = []
    first = last = 0
    current: str | None = None
    bad_repeat = False

    def flush() -> ParsedGroup | None:
        if not rows:
            return None
        if bad_repeat:
            return ParsedGroup(first, last, field="external_id",
                               error=f"order {current} already appeared at row {seen[current]}; "  # type: ignore[index]
                                     "rows of one order must be adjacent")
        document: dict[str, Any] = {**rows[0], "rows": list(rows)}
        try:
            return ParsedGroup(first, last, inbound=generic.parse_order(document, mapping))
        except PayloadError as error:
            return ParsedGroup(first, last, field=error.field, error=error.reason)

    for number, row in files.read_rows(data, fmt, encoding=encoding):
        if number < start_row:
            continue
        external = None if isinstance(row, files.CellError) else key.search(row)
        if current is not None and not isinstance(row, files.CellError) and external == current:
            rows.append(row)
            last = number
            continue
        done = flush()
        if done:
            yield done
        rows, current, bad_repeat = [], None, False
        if isinstance(row, files.CellError):
            yield ParsedGroup(number, number, field=row.column, error=str(row))
            continue
        if is_missing(external) or not isinstance(external, (str, int)):
            yield ParsedGroup(number, number, field="external_id", error="no external id in this row")
            continue
        current = str(external).strip()
        bad_repeat = current in seen
        seen.setdefault(current, number)
        rows, first, last = [row], number, number
    done = flush()
    if done:
        yield done


async def run_file(
    actor: Actor,
    channel_code: str,
    file_name: str,
    data: bytes,
    *,
    fmt: str | None = None,
    encoding: str = "utf-8",
    batch_size: int = 1000,
    on_started: Callable[[ImportRun], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportRun:
    """Import (or resume importing) one file into a channel; returns the run with its counts."""
    require_admin(actor)
    channel = await Channel.filter(tenant_id=actor.tenant_id, code=channel_code).first()
    if channel is None:
        raise NotFound(f"no channel {channel_code!r}", field="channel")
    mapping = channel_mapping(channel, for_import=True)
    if not mapping:
        raise ValidationFailed(f"channel {channel_code} has no field mapping for imports; set mapping or "
                               "import_mapping with updateChannel", field="channel")
    try:
        generic.check_mapping(mapping)
        kind = files.detect_format(file_name, data, fmt)
        total = files.count_rows(data, kind, encoding=encoding)
    except ValueError as error:  # FileError or a broken mapping
        raise ValidationFailed(str(error), field="file") from None
    payload_id, sha = await payloads.store(actor.tenant_id, "import", channel.code, data,
                                           {"file-name": file_name[:255], "format": kind}, kind)
    run, start = await start_run(actor, channel, file_name=file_name, sha256=sha, fmt=kind, payload_id=payload_id,
                                 total_rows=total)
    if on_started:
        on_started(run)
    if run.status == "done":
        return run
    importer = channel_actor(actor.tenant_id, channel.code, f"import#{run.id}")
    return await import_groups(importer, channel, run, parsed_groups(data, kind, mapping, encoding=encoding, start_row=start),
                               batch_size=batch_size, progress=progress)


def server_file(import_dir: str, path: str) -> Path:
    """A file under the configured import folder; anything outside it is refused."""
    root = Path(import_dir).resolve()
    candidate = (root / path).resolve()
    if root not in candidate.parents and candidate != root:
        raise ValidationFailed(f"server imports read only from {root}", field="serverPath")
    if not candidate.is_file():
        raise NotFound(f"no file {path!r} in the import folder", field="serverPath")
    return candidate
