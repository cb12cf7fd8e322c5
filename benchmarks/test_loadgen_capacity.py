"""Journeys per second one locust worker process can drive against the fakes alone, beside the HTTP ceiling.

For sizing a storm: how many generator processes does a rate need? One locust process (local runner,
``loadtests/locustfile.py``) runs new-subscriber journeys (``#reg`` tweet, code SMS on the handset,
code tweet, ``#act`` tweet, confirmation SMS) against fake X and fake SMS served on loopback in their
own processes. The processor's part is stood in by the generator itself (it posts each SMS through
the fake's Twilio API), so only the generator and the fakes are measured. User delays are zero, the
carrier clock runs 1000x and the arrival rate is far above capacity with a fixed pool of users, so
the run is saturated: completed journeys per second is the capacity (its CPU share says whether the
generator or the fakes were the limit).

The ceiling, measured in the same run, is the bare HTTP path of this machine: the raw load generator
(``benchmarks.support``) POSTing to the bare Starlette app. The ratio compares the locust process's
HTTP requests per second with it.

Full run: ``.venv/bin/python -m pytest benchmarks/test_loadgen_capacity.py --benchmark-only -s``
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks.support import RequestSpec, run_load_in_subprocess, serve
from loadtests.config import LoadtestConfig
from loadtests.fakes import serve_fakes
from loadtests.runner import run_locust

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
SECONDS = 4.0 if SHORT else 20.0
USERS = 20 if SHORT else 100
CEILING_REQUESTS = 2_000 if SHORT else 30_000
BARE_POST = RequestSpec("POST", "/bare", (("Content-Type", "application/json"),),
                        json.dumps({"text": "#act #PACK50", "author_id": "1001"}).encode())

SCENARIO = """
name = "loadgen-capacity"
description = "new-subscriber journeys only, far above capacity, no user delays"
[population]
followers = 100000
registered_share = 0.0
circles = {{ Mumbai = 0.5, Delhi = 0.5 }}
[arrivals]
mix = {{ reg = 1.0 }}
[[arrivals.segments]]
kind = "constant"
duration_s = {seconds}
rate = 2000
[user]
code_reply_delay = 0
typo_rate = 0.0
buy_share = 1.0
buy_delay = 0
abandon_after_s = 30
"""


def test_loadgen_journeys_per_second(benchmark, capsys, tmp_path: Path):
    """Completed journeys/s and HTTP requests/s of one locust process, beside the bare HTTP ceiling."""
    scenario = tmp_path / "capacity.toml"
    scenario.write_text(SCENARIO.format(seconds=SECONDS))
    with serve("benchmarks.support.bare:create_bare_app") as bare_url:
        ceiling = run_load_in_subprocess(bare_url, requests=CEILING_REQUESTS, connections=32,
                                         request=BARE_POST)
    assert ceiling.errors == 0, ceiling.error_samples
    with serve_fakes(sms_time_scale=1000.0) as fakes:
        config = LoadtestConfig(
            scenario_path=str(scenario), x_url=fakes.x, sms_url=fakes.sms, duration_s=SECONDS, drain_s=0.0,
            poll_interval_s=0.01, population_limit=int(SECONDS * 1_000) + 1_000, run_tag="cap0",
            extra={"users": {"reg": USERS}},
        )
        result = benchmark.pedantic(run_locust, args=(config,), kwargs={"timeout": 300, "quiet": True},
                                    rounds=1, iterations=1)
    figures, outcomes = result.summary["figures"], result.summary["outcomes"]
    journeys = outcomes.get("new_subscriber:activated", 0)
    assert journeys > 0 and figures["error_rate"] < 0.01, (outcomes, figures["error_rate"])
    journeys_per_s = journeys / SECONDS
    cpu_share = max(figures["generator_cpu_mean"] / 100.0, 1e-6)
    requests_per_journey = figures["requests"] / max(1, journeys)
    benchmark.extra_info.update({
        "journeys_per_s": round(journeys_per_s, 1),
        "requests_per_s": round(figures["requests_per_s"]),
        "ceiling_bare_http_rps": round(ceiling.rps),
        "ratio": round(figures["requests_per_s"] / ceiling.rps, 4),
        "requests_per_journey": round(requests_per_journey, 2),
        "generator_cpu_mean_pct": round(figures["generator_cpu_mean"], 1),
        "journeys_per_generator_cpu_s": round(journeys_per_s / cpu_share, 1),
        "users": USERS,
        "seconds": SECONDS,
    })
    with capsys.disabled():
        print(f"\nloadgen: {journeys_per_s:,.1f} journeys/s ({figures['requests_per_s']:,.0f} req/s, "
              f"{requests_per_journey:.1f} req/journey) from one locust process at "
              f"{figures['generator_cpu_mean']:.0f} % CPU -> {journeys_per_s / cpu_share:,.0f} journeys per "
              f"generator CPU-second; bare HTTP ceiling {ceiling.rps:,.0f} req/s; "
              f"ratio {figures['requests_per_s'] / ceiling.rps:.3f}")
