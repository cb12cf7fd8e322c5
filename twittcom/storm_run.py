"""``twittcom storm`` as a library: one scenario on the live stack and in the simulator, compared.

:func:`run_storm` checks that the live stack can run every setting of the scenario
(:func:`twittcom.live_scenario.live_settings`, refused before anything starts), runs the simulator
on ``seeds`` seeds in parallel processes (before the load, so they do not share the CPU with it),
starts the stack configured by the scenario on loopback, drives it with locust on the open-model
schedule (adaptive drain), counts what the processor sent at the fakes, and writes
``report.html``, ``comparison.json``, ``simulated.json`` (the first seed's summary),
``simulated_seeds.json``, ``measured.json``, ``observed.json`` (every journey's commands as the
fakes saw them, :mod:`loadtests.observe`: what ``twittcom calibrate`` fits) and ``storm.json`` (the
scenario, overrides and system of the run) under ``out``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from loadtests.compare import Row, activation_series, comparison_rows, write_storm_report
from loadtests.config import LoadtestConfig
from loadtests.message_counts import MESSAGE_KINDS, count_live_messages
from loadtests.observe import observe_run
from loadtests.runner import RunResult
from loadtests.verdict import write_comparison
from scenario import Scenario
from simulator.seeds import DEFAULT_SEEDS, mean_interval, run_seeds
from twittcom.against import Against, against_stack
from twittcom.live_scenario import live_settings, scenario_outages
from twittcom.live_stack import StackUrls, scenario_stack
from twittcom.storm_workers import LoadGenerators, load_runner

__all__ = ["StormOutcome", "message_comparison", "run_storm", "storm_size"]

#: the longest drain a storm waits for (the scenario's drain_s is its bound, adaptive below it)
MAX_DRAIN_S = 60.0
#: beyond the run's own bound, how long the load may take (workers connecting, summaries) before it is killed
LOAD_SLACK_S = 120.0
#: the default load generator: one locust process
ONE_PROCESS = LoadGenerators()


@dataclass
class StormOutcome:
    """What a storm produced."""

    rows: list[Row]
    measured: dict[str, Any]
    simulated: list[dict[str, Any]]
    comparison: dict[str, Any]
    exit_code: int
    out: Path
    urls: StackUrls | None = None
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)


def storm_size(scenario: Scenario, preregister: int) -> tuple[int, int]:
    """(accounts registered in the warm-up, directory size) for ``scenario``'s live run."""
    arrivals_s = scenario.run.duration_s
    if preregister < 0:
        window = min(30.0, arrivals_s)
        buys = sum(scenario.arrivals.expected_count(0, window, k) for k in ("act", "dm"))
        preregister = int(min(200, buys)) if scenario.population.registered_share > 0 else 0
    regs = scenario.arrivals.expected_count(0, arrivals_s, "reg")
    return preregister, min(20_000, max(200, int(regs * 4) + preregister + 100))


def message_comparison(simulated: list[dict[str, Any]], live: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Per message kind: the live count at the fakes beside the simulated mean and interval over the
    seeds, and beside the first seed's count (``same_seed``: the model on the very arrival stream the
    live run had), with ``error`` = (same_seed - measured) / measured."""
    out: dict[str, dict[str, Any]] = {}
    for kind in MESSAGE_KINDS:
        estimate = mean_interval([float(s.get("messages", {}).get(kind, 0)) for s in simulated])
        same_seed = int(simulated[0].get("messages", {}).get(kind, 0))
        measured = live.get(kind, 0)
        error = (same_seed - measured) / measured if measured else None
        out[kind] = {
            "measured": measured,
            "same_seed": same_seed,
            "simulated": estimate.to_json(),
            "error": error,
        }
    return out


def run_storm(
    scenario: Scenario,
    scenario_path: Path,
    out: Path,
    *,
    overrides: tuple[str, ...] = (),
    preregister: int = -1,
    seeds: int = DEFAULT_SEEDS,
    on_stack: Callable[[StackUrls], None] | None = None,
    on_load: Callable[[threading.Thread, float], None] | None = None,
    against: Against | None = None,
    ports: tuple[int, int, int] = (0, 0, 0),
    generators: LoadGenerators = ONE_PROCESS,
) -> StormOutcome:
    """Run the storm (see the module docstring); ``on_stack`` is told the URLs once the stack is up,
    ``on_load`` gets the locust thread and the run's bound in seconds (to show progress; it must
    return once the thread has ended). ``against``: a system under test instead of the bundled
    stack (:mod:`twittcom.against`), with the same outputs. ``generators``: how many locust workers,
    and where (:mod:`twittcom.storm_workers`)."""
    # refuses what the live stack cannot run, before anything starts
    live = live_settings(scenario, processor="bundled" if against is None else "external")
    out.mkdir(parents=True, exist_ok=True)
    simulated = run_seeds(scenario, seeds)
    arrivals_s = scenario.run.duration_s
    drain_s = min(scenario.run.drain_s, MAX_DRAIN_S)
    preregister, size = storm_size(scenario, preregister)
    box: dict[str, RunResult] = {}
    stack = (
        scenario_stack(scenario, size, ports)
        if against is None
        else against_stack(scenario, size, against, out / "system")
    )
    with stack as urls:
        if on_stack is not None:
            on_stack(urls)
        config = LoadtestConfig(
            scenario_path=str(scenario_path), x_url=urls.x, sms_url=urls.sms, processor_url=urls.processor,
            overrides=overrides, admin_token=urls.admin_token, duration_s=arrivals_s, drain_s=drain_s,
            thresholds=("error_rate<1%", "arrival_rate_achieved>95%"), run_tag=secrets.token_hex(2),
            preregister=preregister, outages=scenario_outages(scenario), x_limits=live.x_limits,
            population_file=urls.population_file,
        )  # fmt: skip
        bound = arrivals_s + drain_s + 10 + (config.preregister_s if preregister else 0)
        stack_urls = (urls.x, urls.sms, urls.processor)
        with load_runner(generators, stack_urls, out, bound + LOAD_SLACK_S) as run_load:
            worker = threading.Thread(target=lambda: box.update(result=run_load(config)))
            worker.start()
            if on_load is not None:
                on_load(worker, bound)
            worker.join()
        result = box.get("result")
        live_counts: dict[str, int] = {}
        if result is not None and result.summary:
            t0 = float(result.summary.get("t0", 0))
            live_counts = count_live_messages(urls.x, urls.sms, config.operator_handle, t0)
            try:  # a run's figures stand without it; calibrate then says why it cannot fit
                observed = observe_run(urls.x, urls.sms, config.operator_handle, t0, time.time())
            except (httpx.HTTPError, KeyError, ValueError, RuntimeError) as exc:
                observed = {"error": f"the fakes could not be read after the run: {exc}"}
            (out / "observed.json").write_text(json.dumps(observed))
    if result is None or not result.summary:
        raise RuntimeError("the load run wrote no summary (see locust_summary.log)")
    measured = result.summary
    series = activation_series(out / "locust_stats_history.csv", float(measured.get("t0", 0)))
    rows = comparison_rows(simulated, measured, series)
    messages = message_comparison(simulated, live_counts)
    (out / "simulated.json").write_text(json.dumps(simulated[0], indent=1, default=str))
    (out / "simulated_seeds.json").write_text(json.dumps(simulated, default=str))
    (out / "measured.json").write_text(json.dumps(measured, indent=1))
    run = {
        "scenario": str(scenario_path),
        "overrides": list(overrides),
        "against": against.__dict__ if against else None,
        "locust_workers": generators.workers,
        "netns": generators.netns,
    }
    (out / "storm.json").write_text(json.dumps(run, indent=1))
    comparison = write_comparison(out / "comparison.json", scenario.name, rows, messages)
    write_storm_report(out / "report.html", scenario.name, rows, simulated[0], measured, series)
    return StormOutcome(rows, measured, simulated, comparison, result.exit_code, out, urls, messages)
