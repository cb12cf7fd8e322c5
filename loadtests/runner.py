"""Start a headless locust run of :mod:`loadtests.locustfile` in a child process and read its summary.

Locust runs in its own process (it monkey-patches with gevent on import), with the run's
:class:`~loadtests.config.LoadtestConfig` in the environment. ``workers > 1`` uses locust's
distributed mode through ``--processes N`` (one master plus N forked workers, the schedule split
by worker index; :mod:`loadtests.locust_cluster` starts the workers as processes of their own,
e.g. in network namespaces); CSV (``--csv PREFIX``: locust's ``_stats.csv``, ``_stats_history.csv``,
``_failures.csv`` plus this harness's ``_summary.json`` and ``_summary_arrivals.csv``) and HTML
(``--html``) are locust's own reports, carrying the journey metrics as request rows.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from loadtests.config import CONFIG_ENV, LoadtestConfig

__all__ = ["LOCUSTFILE", "RunResult", "locust_command", "run_locust", "wait_for_locust"]

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True)
class RunResult:
    """Exit code of the locust process and the summary it wrote (empty if it wrote none).

    ``interrupted``: Ctrl-C stopped the run (locust got the same SIGINT, wrote its summary of the
    run so far and exited; the caller reports it and exits 130).
    """

    exit_code: int
    summary: dict[str, Any]
    summary_path: Path
    interrupted: bool = False


def locust_command(
    *, workers: int, csv_prefix: str = "", html: str = "", loglevel: str = "WARNING"
) -> list[str]:
    """The headless locust command line for a run with ``workers`` worker processes (1: local)."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary"]
    command += ["--loglevel", loglevel, "--stop-timeout", "0", "--exit-code-on-error", "0"]
    if workers > 1:
        command += ["--processes", str(workers), "--expect-workers", str(workers)]
    if csv_prefix:
        command += ["--csv", csv_prefix, "--csv-full-history"]
    if html:
        command += ["--html", html]
    return command


#: after Ctrl-C, how long locust may take to write its summary before it is killed
INTERRUPT_GRACE_S = 15.0


def wait_for_locust(process: subprocess.Popen[bytes], timeout: float | None) -> tuple[int, bool]:
    """The child's exit code and whether Ctrl-C interrupted it.

    Locust runs in its own session, so the terminal's SIGINT reaches only this process, which
    passes it on to locust's process group once: locust stops the run, fires ``quitting`` (the
    summary is written) and exits; after :data:`INTERRUPT_GRACE_S` (or a second Ctrl-C) it is killed.
    (Locust's SIGTERM handler does not run under this locustfile: SIGTERM kills it without a summary.)
    """
    try:
        return process.wait(timeout), False
    except KeyboardInterrupt:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            return process.wait(INTERRUPT_GRACE_S), True
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return process.wait(), True
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def run_locust(
    config: LoadtestConfig, *, csv_prefix: str = "", html: str = "", timeout: float | None = None,
    quiet: bool = False,
) -> RunResult:  # fmt: skip
    """Run headless; failed thresholds give a non-zero ``exit_code`` (HTTP errors alone do not).

    ``quiet`` sends locust's output to ``<summary>.log`` beside the summary instead of the terminal.
    """
    tmp = None
    if config.summary_path:
        summary_path = Path(config.summary_path)
    elif csv_prefix:
        summary_path = Path(f"{csv_prefix}_summary.json")
    else:
        tmp = tempfile.TemporaryDirectory(prefix="twittcom-loadtest-")
        summary_path = Path(tmp.name) / "summary.json"
    config = replace(config, summary_path=str(summary_path))
    env = dict(os.environ)
    env[CONFIG_ENV] = config.to_json()
    command = locust_command(workers=config.workers, csv_prefix=csv_prefix, html=html)
    try:
        with contextlib.ExitStack() as stack:
            sink = stack.enter_context(open(summary_path.with_suffix(".log"), "wb")) if quiet else None
            code, interrupted = wait_for_locust(
                subprocess.Popen(command, env=env, stdout=sink, stderr=sink, start_new_session=True), timeout
            )
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        if html and Path(html).exists():
            from loadtests.locust_html import separate_journeys

            separate_journeys(html, summary)
        return RunResult(code, summary, summary_path, interrupted)
    finally:
        if tmp is not None:
            tmp.cleanup()
