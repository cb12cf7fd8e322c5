"""A locust master with workers started as processes of their own (locust's ``--master``/``--worker``).

:func:`run_locust` with ``workers > 1`` lets locust fork its workers (``--processes``); here each
worker is its own ``locust --worker`` process started through a command prefix of the caller's
(``ip netns exec NAME`` for a worker in a network namespace, :mod:`twittcom.netns`), and connects
to a master bound to ``127.0.0.1:master_port``. Master and workers read the same
:class:`~loadtests.config.LoadtestConfig` from the environment; the master writes the summary (with
every worker's journey counts, ``per_worker``) and the CSV files as a local run does. The master
waits at most :data:`EXPECT_WORKERS_S` for its workers; once it has exited, a worker still running
after :data:`WORKER_GRACE_S` is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from loadtests.config import CONFIG_ENV, LoadtestConfig
from loadtests.runner import LOCUSTFILE, RunResult, locust_command, wait_for_locust

__all__ = ["EXPECT_WORKERS_S", "master_command", "run_locust_cluster", "worker_command"]

#: how long the master waits for all its workers to connect before it gives up (exit code 1)
EXPECT_WORKERS_S = 60
#: how long a worker may outlive its master (it is told to quit when the master stops)
WORKER_GRACE_S = 10.0


def master_command(
    *, workers: int, master_port: int, csv_prefix: str = "", bind_host: str = "127.0.0.1",
    expect_s: int = EXPECT_WORKERS_S,
) -> list[str]:  # fmt: skip
    """The headless master's command line: ``workers`` workers expected on ``bind_host:master_port``
    within ``expect_s`` seconds."""
    command = locust_command(workers=1, csv_prefix=csv_prefix)
    command += ["--master", "--master-bind-host", bind_host, "--master-bind-port", str(master_port)]
    command += ["--expect-workers", str(workers), "--expect-workers-max-wait", str(expect_s)]
    return command


def worker_command(*, master_host: str, master_port: int, loglevel: str = "WARNING") -> list[str]:
    """One worker's command line (run it on another host with the same configuration to join a run)."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker"]
    return command + ["--master-host", master_host, "--master-port", str(master_port), "--loglevel", loglevel]


def _stop(process: subprocess.Popen[bytes], grace_s: float) -> None:
    """Wait ``grace_s`` for ``process``, then kill its process group (it was started in its own)."""
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_locust_cluster(
    config: LoadtestConfig,
    prefixes: Sequence[Sequence[str]],
    *,
    master_port: int,
    csv_prefix: str,
    timeout: float | None = None,
    remote: int = 0,
    expect_s: int = EXPECT_WORKERS_S,
    started: list[subprocess.Popen[bytes]] | None = None,
) -> RunResult:
    """A headless run with one worker per command prefix (``()``: a plain local process), or, with
    ``remote`` and no prefixes, a master that waits ``expect_s`` for that many workers started
    elsewhere with the configuration it writes to ``<csv_prefix>_worker_config.json``.

    Locust's output goes to ``<csv_prefix>_summary.log`` (master) and ``_worker<i>.log``. The
    master and each worker are appended to ``started`` as they start (a caller in another thread
    can then interrupt the master: SIGINT to its process group, it writes its summary and quits)."""
    summary_path = Path(f"{csv_prefix}_summary.json")
    workers_count = remote or len(prefixes)
    config = replace(config, summary_path=str(summary_path), workers=workers_count)
    env = dict(os.environ)
    env[CONFIG_ENV] = config.to_json()
    Path(f"{csv_prefix}_worker_config.json").write_text(config.to_json())
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(open(summary_path.with_suffix(".log"), "wb"))
        master = subprocess.Popen(
            master_command(
                workers=workers_count, master_port=master_port, csv_prefix=csv_prefix, expect_s=expect_s
            ),
            env=env, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        processes = [] if started is None else started
        processes.append(master)
        workers: list[subprocess.Popen[bytes]] = []
        try:
            for index, prefix in enumerate(prefixes):
                worker_log = stack.enter_context(open(f"{csv_prefix}_worker{index}.log", "wb"))
                command = [*prefix, *worker_command(master_host="127.0.0.1", master_port=master_port)]
                workers.append(
                    subprocess.Popen(
                        command, env=env, stdout=worker_log, stderr=worker_log, start_new_session=True
                    )
                )
                processes.append(workers[-1])
            code, interrupted = wait_for_locust(master, timeout)
        finally:
            if master.poll() is None:  # failed before the wait: nothing to summarise
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(master.pid, signal.SIGKILL)
                master.wait()
            for worker in workers:
                _stop(worker, WORKER_GRACE_S)
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return RunResult(code, summary, summary_path, interrupted)
