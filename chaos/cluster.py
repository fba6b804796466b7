"""OrderGraph as a simulated day runs it: real server processes on a database, and a Redis it may restart.

    redis = PrivateRedis.start()                      # redis-server on a free port (None: the in-process bus)
    cluster = Cluster(database_url, redis.url if redis else None, workers=2, env=FAST_DETECTION)
    cluster.migrate(); cluster.start()                # `ordergraph serve --workers 2`, healthy
    cluster.kill_worker()                             # kill -9 one process; uvicorn's supervisor starts another
    redis.kill(); redis.start_again()                 # a Redis restart, on the same port
    cluster.stop(); redis.stop()

With ``--workers`` above one, uvicorn's supervisor replaces a dead worker (as
it would in production); with one process there is no supervisor, so the
cluster itself starts the server again after a kill, as systemd would.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from chaos.systems import free_port

#: Periods short enough for a compressed day: OrderGraph's own defaults suit a real one.
FAST_DETECTION = {
    "ORDERGRAPH_POLL_SECONDS": "3",
    # The simulators index an order the moment it changes; five minutes of overlap (for platforms that index
    # late) would re-list eight business hours of orders every 3 s at 100x.
    "ORDERGRAPH_POLL_OVERLAP_SECONDS": "15",
    "ORDERGRAPH_DRIFT_CHECK_SECONDS": "4",
    "ORDERGRAPH_TRACKING_ROUND_SECONDS": "3",
    "ORDERGRAPH_TRACKING_QUERY_AFTER_HOURS": "0.02",
    "ORDERGRAPH_WMS_PUSH_RETRY_DELAYS": "2,5,10",
    "ORDERGRAPH_WMS_PUSH_MAX_ATTEMPTS": "100",
    "ORDERGRAPH_WMS_SWEEP_SECONDS": "5",
    "ORDERGRAPH_WMS_SWEEP_AFTER_SECONDS": "20",
    "ORDERGRAPH_WMS_SWEEP_EVERY_SECONDS": "45",  # each open delivery order asked at most every 45 s: found < 60 s
    "ORDERGRAPH_HEARTBEAT_SECONDS": "2",  # lost after 3 silent intervals: 6 s, room for a busy event loop
    "ORDERGRAPH_BUS_DOWN_AFTER_SECONDS": "2",
    "ORDERGRAPH_PARTNER_RETRY_DELAYS": "1,2,5,10,20",
    "ORDERGRAPH_RECONCILE_HOUR": "-1",
    "ORDERGRAPH_NOTIFY": "0",
    "ORDERGRAPH_RULES": "0",
    "LOG_LEVEL": "WARNING",
}


@dataclass
class PrivateRedis:
    """A ``redis-server`` of the run's own (nothing on disk), so restarting it disturbs nobody else."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls) -> PrivateRedis:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (Debian: apt install redis-server)")
        redis = cls(free_port())
        redis.start_again()
        return redis

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start_again(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class Cluster:
    database_url: str
    redis_url: str | None
    workers: int
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path = Path("var/chaos/server.log")
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    killed: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {**os.environ, **FAST_DETECTION, **self.env, "DATABASE_URL": self.database_url, "PORT": str(self.port),
               "ORDERGRAPH_TRACKING_CALLBACK_BASE": self.url, "ORDERGRAPH_PUBLIC_URL": self.url}
        env.pop("REDIS_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def migrate(self) -> None:
        subprocess.run([sys.executable, "-m", "api.cli", "migrate"], env=self.environment(), check=True,
                       stdout=subprocess.DEVNULL)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", str(self.workers)],
                                        env=self.environment(), stdout=log, stderr=subprocess.STDOUT)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"OrderGraph exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"OrderGraph did not become healthy within {timeout:g} s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        """The processes serving requests: uvicorn's workers, or the one server process."""
        if self.process is None:
            return []
        if self.workers == 1:
            return [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []
        return [pid for pid in pids if b"spawn_main" in _cmdline(pid)]  # not multiprocessing's resource tracker

    def kill_worker(self, index: int = 0) -> int:
        """``kill -9`` one serving process; returns its pid. A lone server is started again, as systemd would."""
        pids = self.worker_pids()
        if not pids:
            raise RuntimeError("no OrderGraph process to kill")
        pid = pids[index % len(pids)]
        os.kill(pid, signal.SIGKILL)
        self.killed.append(pid)
        if self.workers == 1 and self.process is not None:
            self.process.wait()
            self.start()
        return pid

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
