"""Print the status mapping tables of ``domain/inbound/status_maps.py`` as Markdown, for docs/integrations.md.

    .venv/bin/python scripts/status_tables.py            # print
    .venv/bin/python scripts/status_tables.py --write    # replace the tables in docs/integrations.md
    .venv/bin/python scripts/status_tables.py --check    # exit 1 if the guide's tables are out of date

The tables are the code's, not a copy: each row is ``status_maps.TABLES``, and
the notes are the comments written next to the codes in that module (a code
left unmapped on purpose is listed with the comment that says why).
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain.inbound import status_maps  # noqa: E402

GUIDE = ROOT / "docs" / "integrations.md"
START, END = "<!-- status-tables:start -->", "<!-- status-tables:end -->"

#: What field of the source each table reads (tables not named here still print, with their name only).
READS = {
    "shopify": "`financial_status/fulfillment_status` of the order (`unfulfilled` when null)",
    "shopify.cancelled": "`cancelled_at` present",
    "shopify.fulfillment_event": "fulfilment event `status`",
    "taobao": "trade `status` (and each sub-order's `status` where it differs)",
    "taobao.refund_status": "sub-order `refund_status`",
    "taobao.step_trade_status": "`step_trade_status` of presale (deposit) trades",
    "pinduoduo": "`order_status`",
    "pinduoduo.confirm_status": "`confirm_status` (group buying concluded)",
    "pinduoduo.refund_status": "`refund_status`",
    "douyin": "`order_status`",
    "douyin.main_status": "`main_status`",
    "wechat_channels": "order `status`",
    "amazon": "`OrderStatus`",
    "kdniao": "`StateEx` when given, else `State`",
    "kuaidi100": "`lastResult.state` (detailed `resultv2` codes when enabled)",
    "kuaidi100.push_status": "`param.status` of the push",
    "aftership": "`msg.tag`",
    "aftership.first_tag": "`msg.tag` when `is_tracking_first_tag` is true",
    "aftership.subtag": "`msg.subtag`, where it says more than the tag",
}


def _comments(source: str) -> dict[int, str]:
    """Line number -> the comment on that line."""
    found: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string.lstrip("#").strip()
    return found


def _notes(source: str) -> tuple[dict[tuple[str, str], str], dict[str, list[str]]]:
    """(variable, code) -> the comment next to it, and variable -> comments about codes left unmapped."""
    comments = _comments(source)
    per_code: dict[tuple[str, str], str] = {}
    unmapped: dict[str, list[str]] = {}
    for node in ast.parse(source).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
        if not isinstance(target, ast.Name) or not isinstance(getattr(node, "value", None), ast.Dict):
            continue
        table = node.value  # type: ignore[union-attr]
        code_lines = set()
        for key, value in zip(table.keys, table.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                code_lines.update(range(key.lineno, value.end_lineno + 1))
                note = comments.get(value.end_lineno, "")
                per_code[(target.id, key.value)] = note
        for line in range(table.lineno, table.end_lineno + 1):
            text = comments.get(line, "")
            if line not in code_lines and "unmapped" in text:
                unmapped.setdefault(target.id, []).append(text)
    return per_code, unmapped


def _cell(value: object) -> str:
    return f"`{value}`" if value else "—"


def render() -> str:
    source = Path(status_maps.__file__).read_text(encoding="utf-8")
    per_code, unmapped = _notes(source)
    variables = {id(value): name for name, value in vars(status_maps).items() if isinstance(value, dict)}
    out: list[str] = []
    for name, table in status_maps.TABLES.items():
        variable = variables.get(id(table), "")
        reads = READS.get(name)
        out.append(f"#### `{name}`" + (f" — {reads}" if reads else ""))
        out.append("")
        shipment = all("shipment" in entry for entry in table.values())
        if shipment:
            out += ["| code | shipment | note |", "|---|---|---|"]
        else:
            out += ["| code | order | payment | after-sale | note |", "|---|---|---|---|---|"]
        for code, entry in table.items():
            note = per_code.get((variable, code), "").replace("|", "\\|")
            if shipment:
                out.append(f"| `{code}` | {_cell(entry.get('shipment'))} | {note} |")
            else:
                out.append(f"| `{code}` | {_cell(entry.get('order'))} | {_cell(entry.get('payment'))} | "
                           f"{_cell(entry.get('after_sale'))} | {note} |")
        for text in unmapped.get(variable, []):
            out += ["", f"Unmapped on purpose: {text}"]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def replaced(guide: str, tables: str) -> str:
    before, rest = guide.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{tables}{END}{after}"


def main(argv: list[str]) -> int:
    tables = render()
    if "--write" in argv or "--check" in argv:
        guide = GUIDE.read_text(encoding="utf-8")
        fresh = replaced(guide, tables)
        if "--check" in argv:
            if fresh != guide:
                print("docs/integrations.md: status tables are out of date; run scripts/status_tables.py --write",
                      file=sys.stderr)
                return 1
            return 0
        GUIDE.write_text(fresh, encoding="utf-8")
        return 0
    sys.stdout.write(tables)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
