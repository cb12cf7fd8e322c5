"""Where a storm's locust processes run: one process, locust's forked workers, or workers in namespaces.

``twittcom storm --locust-workers N`` splits the scenario's arrival stream over N locust workers
(each takes every N-th scheduled start and every N-th subscriber, :mod:`loadtests.schedule`); the
master merges their ledgers and HDR histograms, so the figures cover every worker. Without
``--netns`` locust forks them here (``--processes``). With ``--netns`` each worker is a process of
its own in a network namespace of its own (:mod:`twittcom.netns`): the stand-in, on one machine,
for load generators on other hosts, the master and the stack staying on this namespace's
loopback and reached only through :mod:`twittcom.loopback_relay` (``docs/distributed-storm.md``).
With ``--remote-workers`` no worker starts here: the master waits up to :data:`REMOTE_EXPECT_S`
for N workers from other hosts, which reach it and the stack through SSH tunnels to this
loopback, with the configuration it writes to ``OUT/locust_worker_config.json``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from loadtests.config import LoadtestConfig
from loadtests.locust_cluster import EXPECT_WORKERS_S, run_locust_cluster
from loadtests.runner import RunResult, run_locust
from twittcom.netns import NetnsError, worker_namespaces

__all__ = ["REMOTE_EXPECT_S", "LoadGenerators", "free_loopback_port", "load_runner", "loopback_ports"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
#: how long a master waits for workers started by hand on other hosts
REMOTE_EXPECT_S = 600


@dataclass(frozen=True)
class LoadGenerators:
    """``workers`` locust workers (1: one local process), in network namespaces when ``netns``,
    started elsewhere when ``remote``; the master listens for them on ``127.0.0.1:master_port``
    (0: any free port)."""

    workers: int = 1
    netns: bool = False
    master_port: int = 0
    remote: bool = False


def loopback_ports(urls: Sequence[str]) -> list[int]:
    """The ports of ``urls`` (empty ones skipped), which must all be on the loopback; a
    ``NetnsError`` names the first URL that is not (a namespace's bridge reaches only the loopback)."""
    ports: list[int] = []
    for url in filter(None, urls):
        parts = urlsplit(url)
        if parts.hostname not in LOOPBACK_HOSTS or parts.port is None:
            raise NetnsError(f"--netns bridges loopback URLs with a port only, not {url}")
        if parts.port not in ports:
            ports.append(parts.port)
    return ports


def free_loopback_port() -> int:
    """A port free on 127.0.0.1 now (for the master when none is given)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def load_runner(
    generators: LoadGenerators, urls: Sequence[str], out: Path, timeout_s: float
) -> Iterator[Callable[[LoadtestConfig], RunResult]]:
    """A function that runs the load of a config as ``generators`` say (namespaces and bridges to
    ``urls`` set up before it is yielded, torn down after), writing locust's files under
    ``out/locust*``; a run is killed after ``timeout_s``."""
    prefix = str(out / "locust")
    if not (generators.netns or generators.remote):
        workers = generators.workers
        yield lambda config: run_locust(
            replace(config, workers=workers), csv_prefix=prefix, quiet=True, timeout=timeout_s
        )
        return
    master_port = generators.master_port or free_loopback_port()
    started: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as stack:
        if generators.remote:
            prefixes: Sequence[Sequence[str]] = ()
            remote, expect_s, timeout_s = generators.workers, REMOTE_EXPECT_S, timeout_s + REMOTE_EXPECT_S
        else:
            ports = [*loopback_ports(urls), master_port]
            prefixes = stack.enter_context(worker_namespaces(generators.workers, ports))
            remote, expect_s = 0, EXPECT_WORKERS_S
        try:
            yield lambda config: run_locust_cluster(
                config, prefixes, master_port=master_port, csv_prefix=prefix, timeout=timeout_s,
                remote=remote, expect_s=expect_s, started=started,
            )  # fmt: skip
        finally:  # on Ctrl-C or a failure here, the master (waited for in another thread) writes its summary
            _interrupt(started[:1])


def _interrupt(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGINT to each still running process's group (locust writes its summary, then exits)."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
