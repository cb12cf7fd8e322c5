"""Network namespaces for locust workers on this machine: a stand-in for load generators on other hosts.

:func:`worker_namespaces` creates one namespace per worker (``ip netns add``, its loopback up and
nothing else), starts :mod:`twittcom.loopback_relay` in the root namespace to bridge the given
ports (the stack's and the locust master's) into each, and yields the command prefix that runs a
process inside each namespace (``ip netns exec NAME``). On the way out, normally, on Ctrl-C, on
SIGTERM or on failure, it kills the processes still inside those namespaces (``ip netns pids``: only
what was started there), stops the relay and deletes the namespaces. Needs root and iproute2's
``ip``; :func:`check_netns_support` says in one line what is missing.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from types import FrameType

__all__ = ["NetnsError", "check_netns_support", "namespace_names", "worker_namespaces"]

#: how long the relay may take to bind its listeners
RELAY_READY_S = 10.0
#: how long a process in a namespace, or the relay, gets after SIGTERM before SIGKILL
STOP_GRACE_S = 5.0


class NetnsError(RuntimeError):
    """The namespaces cannot be set up here (one line: what is missing)."""


def check_netns_support() -> None:
    """Raise :class:`NetnsError` unless this process may create network namespaces with ``ip``."""
    if sys.platform != "linux":
        raise NetnsError("--netns needs Linux network namespaces")
    if os.geteuid() != 0:
        raise NetnsError("--netns needs root (it runs `ip netns add`); run as root or drop --netns")
    if shutil.which("ip") is None:
        raise NetnsError("--netns needs iproute2's `ip` on PATH (apt-get install iproute2)")


def namespace_names(count: int, tag: str) -> list[str]:
    """The namespaces of one run: ``twittcom-TAG-w0`` ... (``ip netns list`` shows leftovers)."""
    return [f"twittcom-{tag}-w{i}" for i in range(count)]


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=15, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise NetnsError(f"`ip {' '.join(args)}` failed: {detail[-1] if detail else done.returncode}")


def _pids_in(namespace: str) -> list[int]:
    done = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True, timeout=15)
    return [int(p) for p in done.stdout.split() if p.isdigit()]


def _signal_all(pids: Sequence[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _empty(namespaces: Sequence[str]) -> None:
    """Stop what still runs inside ``namespaces``: SIGTERM, then SIGKILL after :data:`STOP_GRACE_S`."""
    pids = [pid for ns in namespaces for pid in _pids_in(ns)]
    _signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while pids and time.monotonic() < deadline:
        time.sleep(0.1)
        pids = [pid for ns in namespaces for pid in _pids_in(ns)]
    _signal_all(pids, signal.SIGKILL)


def _start_relay(namespaces: Sequence[str], ports: Sequence[int]) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "twittcom.loopback_relay"]
    command += [f"--netns={ns}" for ns in namespaces] + [f"--port={p}" for p in ports]
    relay = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    assert relay.stdout is not None and relay.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(relay.stdout, selectors.EVENT_READ)
        ready = selector.select(RELAY_READY_S) and relay.stdout.readline().strip() == "ready"
    if not ready:
        _stop(relay)
        error = relay.stderr.read().strip().splitlines()
        raise NetnsError(error[-1] if error else f"the loopback relay was not ready in {RELAY_READY_S:g} s")
    return relay


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """In the main thread, SIGTERM unwinds like Ctrl-C does, so the namespaces are cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _exit(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def worker_namespaces(count: int, ports: Sequence[int], tag: str = "") -> Iterator[list[tuple[str, ...]]]:
    """``count`` namespaces with ``ports`` bridged to this namespace's loopback; yields the command
    prefix per namespace (see the module docstring)."""
    check_netns_support()
    names = namespace_names(count, tag or str(os.getpid()))
    created: list[str] = []
    relay: subprocess.Popen[str] | None = None
    with _sigterm_as_exit():
        try:
            for name in names:
                _ip("netns", "add", name)
                created.append(name)
                _ip("-n", name, "link", "set", "lo", "up")
            relay = _start_relay(names, ports)
            yield [("ip", "netns", "exec", name) for name in names]
        finally:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                _empty(created)
            if relay is not None:
                _stop(relay)
            for name in created:
                with contextlib.suppress(OSError, subprocess.SubprocessError, NetnsError):
                    _ip("netns", "delete", name)
