"""``ordergraph simulate`` stopped by SIGTERM (a CI job cancelled, ``kill``) leaves nothing of its own running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _children(pid: int) -> set[int]:
    """Every process descended from ``pid``, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_sigterm_stops_the_servers_and_the_private_redis(tmp_path):
    command = [sys.executable, "-m", "api.cli", "simulate", "--orders", "200", "--speed", "1500", "--profile", "small",
               "--redis", "private", "--report", str(tmp_path / "report.html")]
    log = tmp_path / "simulate.log"  # a file, not a pipe: a child left running would hold a pipe open
    process = subprocess.Popen(command, cwd=tmp_path, stdout=log.open("w"), stderr=subprocess.STDOUT,
                               env={**os.environ, "ORDERGRAPH_ENV": "development",
                                    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
    try:
        deadline = time.monotonic() + 90
        started: set[int] = set()
        while time.monotonic() < deadline and process.poll() is None:
            started = _children(process.pid)
            commands = {Path(f"/proc/{pid}/cmdline").read_bytes() for pid in started if Path(f"/proc/{pid}/cmdline").exists()}
            if any(b"redis-server" in c for c in commands) and any(b"serve" in c for c in commands):
                break
            time.sleep(0.2)
        assert started, "the day never started its servers"
        while time.monotonic() < deadline and " of the day · " not in log.read_text():
            time.sleep(0.2)  # until the day is under way
        started = _children(process.pid)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    output = log.read_text()
    assert process.returncode == 130, output[-2000:]
    assert "interrupted" in output and "Traceback" not in output
    assert not list((tmp_path / "var" / "chaos").glob("day-*.sqlite3*"))  # the day's database is gone too
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in started if _alive(pid)]
