"""Serve an ASGI app factory with uvicorn in a child process on loopback, for socket-level benchmarks.

``serve("fake_twitter.app:create_app")`` starts ``uvicorn --factory`` (uvloop, httptools, one
worker, access log off) on 127.0.0.1 and a free port, waits until the port accepts connections,
yields the base URL and stops the server (SIGTERM, then SIGKILL) on exit. Keyword arguments
become environment variables of the server process (e.g. a seed).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["REPO_ROOT", "ServerError", "free_port", "serve", "serve_raw"]

REPO_ROOT = Path(__file__).resolve().parents[2]
_HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """The server process did not start listening (its output is in the message)."""


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def serve(app_factory: str, *, startup_timeout: float = 30.0, cpu: int | None = None,
          **env: str) -> Iterator[str]:
    """Run ``uvicorn --factory app_factory`` on loopback; yield ``http://127.0.0.1:<port>``.

    ``app_factory`` is ``"package.module:callable"``, importable from the repository root.
    ``cpu`` pins the server to that core (Linux), leaving the other for the load generator.
    """
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", app_factory, "--factory",
        "--host", _HOST, "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--workers", "1",
        "--no-access-log", "--log-level", "warning",
    ]
    with _running(command, port, startup_timeout, cpu, env) as url:
        yield url


@contextmanager
def serve_raw(*, startup_timeout: float = 30.0, cpu: int | None = None) -> Iterator[str]:
    """Run :mod:`benchmarks.support.rawhttp` (no ASGI, fixed 201 answer) on loopback; yield its URL."""
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.support.rawhttp", str(port), "--host", _HOST]
    with _running(command, port, startup_timeout, cpu, {}) as url:
        yield url


@contextmanager
def _running(command: list[str], port: int, startup_timeout: float, cpu: int | None,
             env: dict[str, str]) -> Iterator[str]:
    child_env = {**os.environ, **env}
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), child_env.get("PYTHONPATH")]))
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=child_env, stdout=output,
                                   stderr=subprocess.STDOUT)
        try:
            if cpu is not None and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(process.pid, {cpu})
            _wait_until_listening(process, port, startup_timeout, output)
            yield f"http://{_HOST}:{port}"
        finally:
            _stop(process)


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, timeout: float,
                          output: IO[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"uvicorn exited with {process.returncode}: {_read(output)}")
        if _accepts(port):
            return
        time.sleep(0.05)
    raise ServerError(f"uvicorn did not listen on {port} within {timeout:.0f}s: {_read(output)}")


def _read(output: IO[bytes]) -> str:
    output.seek(0)
    return output.read().decode("utf-8", "replace")[-4000:]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
