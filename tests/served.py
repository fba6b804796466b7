"""Run the real thing: ``ordergraph serve`` (uvicorn) in a subprocess on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(database_url: str, *, wait_healthy: bool = True, output: list[str] | None = None, **env: str) -> Iterator[str]:
    """Start a server on ``database_url``; yield its base URL; stop it afterwards (its log into ``output``)."""
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port), "LOG_LEVEL": "WARNING", **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # Drain the log as it comes: a full pipe would block the server's next log line (and with it the server).
    chunks: list[bytes] = []
    drain = threading.Thread(target=_drain, args=(process, chunks), daemon=True)
    drain.start()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(base, process, wait_healthy, chunks)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        drain.join(timeout=10)
        if output is not None:
            output.append(b"".join(chunks).decode(errors="replace"))


def _drain(process: subprocess.Popen[bytes], chunks: list[bytes]) -> None:
    assert process.stdout is not None
    for line in iter(process.stdout.readline, b""):
        chunks.append(line)


def _wait_until_listening(base: str, process: subprocess.Popen[bytes], healthy: bool, chunks: list[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            time.sleep(0.2)  # let the drain thread read the last words
            raise RuntimeError(f"server exited with {process.returncode}:\n{b''.join(chunks).decode(errors='replace')}")
        try:
            response = httpx.get(f"{base}/healthz", timeout=1)
            if response.status_code == 200 or not healthy:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start within 20 s")
