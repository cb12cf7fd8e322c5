"""How often the bench gate cries wolf, and how often it catches a real slowdown (issue 12, point 3).

With one core kept busy by another process, ``twittcom bench --compare`` at the default gate
(``--fail-over 10%``, ``--confirm 2``) runs N times on unchanged code and N times with
a planted 20 % slowdown of the tiny benchmark's stage (``TWITTCOM_BENCH_PLANTED_SLOWDOWN=0.25``:
its rate drops to 1/1.25 = 80 % of its ceiling's). At most one false alarm, at least N - 1
flags. As a script it measures the figures quoted in loadtests/README.md (N = 20, about 10 minutes)::

    .venv/bin/python tests/loadtests/test_lt_bench_gate.py --runs 20

In the suite N is ``SUITE_RUNS`` (about 3 minutes, slow-marked): the same gate and the same
bounds, on fewer draws, so the whole suite stays inside CI's 20 minutes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from twittcom.commands.bench import bench

ROOT = Path(__file__).resolve().parents[2]
TINY = str(Path(__file__).resolve().parent / "benchdata" / "tiny_bench.py")
RUNS = 20
SUITE_RUNS = 6
#: sleep after each measured loop, as a share of the loop's time: the rate drops by 20 %
PLANTED_20_PERCENT = "0.25"


@contextmanager
def one_core_busy() -> Iterator[None]:
    """Another process spinning on one core for the duration."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True:\n    pass"])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def measure_gate(runs: int = RUNS) -> tuple[int, int]:
    """(false alarms on unchanged code, planted slowdowns flagged), each out of ``runs`` compares."""
    runner = CliRunner()
    previous = os.environ.pop("TWITTCOM_BENCH_PLANTED_SLOWDOWN", None)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = str(Path(tmp) / "base.json")
            saved = runner.invoke(bench, [TINY, "--save", base])
            assert saved.exit_code == 0, saved.output
            false_alarms = flagged = 0
            with one_core_busy():
                for _ in range(runs):
                    false_alarms += runner.invoke(bench, [TINY, "--compare", base]).exit_code != 0
                os.environ["TWITTCOM_BENCH_PLANTED_SLOWDOWN"] = PLANTED_20_PERCENT
                for _ in range(runs):
                    flagged += runner.invoke(bench, [TINY, "--compare", base]).exit_code == 1
    finally:
        os.chdir(cwd)
        os.environ.pop("TWITTCOM_BENCH_PLANTED_SLOWDOWN", None)
        if previous is not None:
            os.environ["TWITTCOM_BENCH_PLANTED_SLOWDOWN"] = previous
    return false_alarms, flagged


@pytest.mark.slow
def test_the_gate_is_quiet_on_noise_and_loud_on_a_20_percent_slowdown():
    """One core busy: at most 1 false alarm in 6 unchanged compares; >= 5 of 6 slowdowns flagged."""
    false_alarms, flagged = measure_gate(SUITE_RUNS)
    assert false_alarms <= 1, false_alarms
    assert flagged >= SUITE_RUNS - 1, flagged


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    n = parser.parse_args().runs
    alarms, caught = measure_gate(n)
    print(f"false alarms on unchanged code: {alarms}/{n}; planted 20 % slowdown flagged: {caught}/{n}")
