"""Serve the X and SMS fakes on loopback in child processes (the fakes-only, stand-in set-up).

The load tests never import the fakes: they start ``twittcom fake-twitter`` and ``twittcom fake-sms``
as separate processes on free loopback ports and talk to them over HTTP, exactly as against a live
stack. X's rate limits are off (the generator, not X's write budget, is what such runs measure).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

__all__ = ["FakeUrls", "free_port", "serve_fakes"]


@dataclass(frozen=True)
class FakeUrls:
    """Base URLs of the served fakes."""

    x: str
    sms: str


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the fake exited with code {process.returncode} before answering")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def serve_fakes(*, sms_time_scale: float = 1.0, seed: int = 7, timeout: float = 30.0) -> Iterator[FakeUrls]:
    """Start both fakes, yield their URLs, stop them on exit."""
    x_port, sms_port = free_port(), free_port()
    cli = [sys.executable, "-c", "from twittcom.cli import main; main()"]
    env = dict(os.environ)
    commands = [
        [*cli, "fake-twitter", "--port", str(x_port), "--rate-limits", "off", "--seed", str(seed)],
        [*cli, "fake-sms", "--port", str(sms_port), "--time-scale", str(sms_time_scale), "--seed", str(seed)],
    ]
    processes = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL) for c in commands]
    try:
        urls = FakeUrls(f"http://127.0.0.1:{x_port}", f"http://127.0.0.1:{sms_port}")
        _wait(f"{urls.x}/_fake/app", processes[0], timeout)
        _wait(f"{urls.sms}/_fake/clock", processes[1], timeout)
        yield urls
    finally:
        for process in processes:
            _stop(process)
