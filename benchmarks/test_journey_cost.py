"""Journeys per CPU-second of one locust process, beside its HTTP client's ceiling in the same run.

The generator's cost per journey: one locust process (local runner, ``loadtests/locustfile.py``)
runs complete new-subscriber journeys (test user created at fake X, ``#reg`` tweet, code SMS on the
handset, ``#code`` tweet, ``#act`` tweet, confirmation SMS) against fake X and fake SMS served on
loopback in their own processes. The processor's part is stood in by the generator (it posts each
SMS through the fake's Twilio API). The carrier clock runs 10x, so each SMS takes about half a
second to reach the handset: long enough that a polled handset would be asked several times,
which the long-poll (``loadtests/handset_wait.py``) replaces by one request per SMS.

Figure: completed journeys divided by the locust process's CPU-seconds from the first scheduled
start to the end of the drain (its per-second CPU samples; the spawn lead and start-up before it
are reported apart, as ``startup_cpu_s``). Ceiling, in the same run: the same HTTP client
(:class:`loadtests.lean_http.LeanHttp`, reporting to locust's request statistics) at full speed
against the bare Starlette endpoint (``benchmarks/support/locust_client.py``), in requests per
CPU-second, divided by the requests one journey made in the run: what the process could do if a
journey cost nothing but its HTTP calls. Locust's own ``FastHttpSession`` and geventhttpclient's
bare ``HTTPClient`` (the journeys' former transport) are measured beside it.

Full run: ``.venv/bin/python -m pytest benchmarks/test_journey_cost.py --benchmark-only -s``
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.support import serve
from loadtests.config import LoadtestConfig
from loadtests.fakes import serve_fakes
from loadtests.runner import run_locust

SHORT = bool(os.environ.get("TWITTCOM_BENCH_SHORT"))
SECONDS = 5.0 if SHORT else 20.0
RATE = 150 if SHORT else 200
USERS = 120 if SHORT else 300
CEILING_SECONDS = 1.5 if SHORT else 4.0
ROOT = Path(__file__).resolve().parents[1]

SCENARIO = """
name = "journey-cost"
description = "complete new-subscriber journeys with a purchase, no user delays"
[population]
followers = 100000
registered_share = 0.0
circles = {{ Mumbai = 0.5, Delhi = 0.5 }}
[arrivals]
mix = {{ reg = 1.0 }}
[[arrivals.segments]]
kind = "constant"
duration_s = {seconds}
rate = {rate}
[user]
code_reply_delay = 0
typo_rate = 0.0
buy_share = 1.0
buy_delay = 0
abandon_after_s = 30
"""


def _client_ceiling(url: str, client: str) -> dict[str, Any]:
    """Requests per CPU-second of one HTTP client against the bare endpoint, in its own process."""
    command = [sys.executable, "-m", "benchmarks.support.locust_client", url, "--client", client,
               "--seconds", str(CEILING_SECONDS), "--concurrency", "32"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == 0 and result["requests"] > 0, result
    return result


def _window_cpu_s(summary: dict[str, Any]) -> tuple[float, float]:
    """CPU-seconds of the locust process from the first scheduled start on, and before it."""
    [samples] = summary["generator_cpu"].values()  # percent of a core, one per second from test start
    first = math.ceil(summary["t0"] - summary["started_at"])
    return sum(samples[first:]) / 100.0, sum(samples[:first]) / 100.0


def test_journeys_per_cpu_second(benchmark, capsys, tmp_path: Path):
    """Complete journeys per CPU-second of one locust process, beside its HTTP client's ceiling."""
    scenario = tmp_path / "journey-cost.toml"
    scenario.write_text(SCENARIO.format(seconds=SECONDS, rate=RATE))
    with serve("benchmarks.support.bare:create_bare_app") as bare_url:
        lean = _client_ceiling(bare_url, "lean")
        fasthttp = _client_ceiling(bare_url, "locust")
        former = _client_ceiling(bare_url, "geventhttpclient")
    with serve_fakes(sms_time_scale=10.0) as fakes:
        config = LoadtestConfig(
            scenario_path=str(scenario), x_url=fakes.x, sms_url=fakes.sms, duration_s=SECONDS,
            drain_s=10.0, population_limit=int(SECONDS * RATE * 1.2) + 1_000, run_tag="jc0",
            extra={"users": {"reg": USERS}},
        )  # fmt: skip
        result = benchmark.pedantic(run_locust, args=(config,), kwargs={"timeout": 300, "quiet": True},
                                    rounds=1, iterations=1)  # fmt: skip
    summary = result.summary
    figures, outcomes = summary["figures"], summary["outcomes"]
    journeys = outcomes.get("new_subscriber:activated", 0)
    # most of the Poisson arrivals (mean SECONDS * RATE) completed; the carrier loses about 1 % of SMS
    assert journeys >= 0.75 * SECONDS * RATE, outcomes
    assert figures["error_rate"] < 0.01, figures["error_rate"]
    cpu_s, startup_cpu_s = _window_cpu_s(summary)
    per_core = journeys / cpu_s
    requests_per_journey = figures["requests"] / journeys
    ceiling = lean["requests_per_cpu_s"] / requests_per_journey
    benchmark.extra_info.update({
        "journeys_per_s_per_core": round(per_core, 1),
        "ceiling_journeys_per_s_per_core": round(ceiling, 1),
        "ratio": round(per_core / ceiling, 3),
        "journeys": journeys,
        "requests_per_journey": round(requests_per_journey, 2),
        "generator_cpu_s": round(cpu_s, 2),
        "startup_cpu_s": round(startup_cpu_s, 2),
        "client_requests_per_cpu_s": round(lean["requests_per_cpu_s"]),
        "locust_fasthttp_requests_per_cpu_s": round(fasthttp["requests_per_cpu_s"]),
        "geventhttpclient_requests_per_cpu_s": round(former["requests_per_cpu_s"]),
        "journeys_per_s": round(journeys / SECONDS, 1),
        "seconds": SECONDS,
        "users": USERS,
    })  # fmt: skip
    with capsys.disabled():
        print(f"\njourney cost: {journeys} journeys ({requests_per_journey:.1f} requests each) on "
              f"{cpu_s:.2f} CPU-s of one locust process -> {per_core:,.0f} journeys per CPU-second "
              f"(+{startup_cpu_s:.2f} CPU-s start-up); ceiling {ceiling:,.0f} (its client "
              f"{lean['requests_per_cpu_s']:,.0f} req per CPU-s on the bare endpoint; locust's "
              f"FastHttpSession {fasthttp['requests_per_cpu_s']:,.0f}, geventhttpclient's bare client "
              f"{former['requests_per_cpu_s']:,.0f}); ratio {per_core / ceiling:.3f}")
