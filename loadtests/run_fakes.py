"""What a load-test process does to the fakes and the processor outside the measured journeys.

Called by :mod:`loadtests.locustfile` (which keeps the run's state and locust's hooks): read the
population and the operator's X id, register accounts in a warm-up, schedule the scenario's carrier
outages and X rate limits on the arrivals' clock, and ask the SMS fake which awaited codes are lost.
All of it outside locust's request statistics: over plain httpx, except the drain's questions, which
are asked many times a second at the end of a run and go through the journeys' wire client.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any

import gevent
import httpx

from loadtests.config import LoadtestConfig
from loadtests.drain import code_lost, held_past_end
from loadtests.journeys import JourneyKit, Transport
from loadtests.population import SubscriberPool, fetch_population, load_population_file, synthetic_population

__all__ = [
    "WARM_UP_ENOUGH",
    "apply_x_limits",
    "count_hopeless",
    "httpx_transport",
    "operator_id",
    "population_share",
    "preregister",
    "schedule_outages",
]

log = logging.getLogger("twittcom.loadtest")

#: the warm-up ends once this share of its accounts is registered (the rest wait on the carrier's tail)
WARM_UP_ENOUGH = 0.9


def population_share(
    config: LoadtestConfig,
    circles: Sequence[tuple[str, float]],
    seed: int,
    worker_index: int,
    workers: int,
) -> SubscriberPool:
    """This worker's share of the population: from the file, made up (stand-in), or the processor's."""
    if config.population_file:
        everyone = load_population_file(config.population_file)
    elif config.stand_in:
        everyone = synthetic_population(circles, config.population_limit, seed)
    else:
        with httpx.Client(timeout=30) as client:
            everyone = fetch_population(
                client, config.processor_url, config.admin_token, limit=config.population_limit
            )
    return everyone.share(worker_index, workers)


def operator_id(client: httpx.Client, config: LoadtestConfig) -> str:
    """The operator's X user id (created at fake X in stand-in mode when it does not exist)."""
    app = client.get(f"{config.x_url}/_fake/app").json()
    found = client.get(
        f"{config.x_url}/2/users/by/username/{config.operator_handle}",
        headers={"authorization": f"Bearer {app['bearer_token']}"},
    ).json()
    if "data" in found:
        return str(found["data"]["id"])
    if not config.stand_in:
        raise RuntimeError(f"@{config.operator_handle} does not exist on the X fake at {config.x_url}")
    created = client.post(f"{config.x_url}/_fake/users", json={"username": config.operator_handle})
    return str(created.json()["id"])


def httpx_transport(client: httpx.Client) -> Transport:
    """Warm-up calls outside locust's statistics."""

    def call(
        method: str,
        url: str,
        *,
        name: str,
        json: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> Any:
        try:
            response = client.request(method, url, json=json, data=data, headers=headers, auth=auth)
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code in (200, 201) else None

    return call


def preregister(kit: JourneyKit, count: int, deadline: float) -> None:
    """Register ``count`` accounts concurrently before ``deadline`` (unmeasured); stop at 90 %."""
    with httpx.Client(timeout=10, limits=httpx.Limits(max_connections=64)) as client:
        http = httpx_transport(client)
        pool = [gevent.spawn(kit.preregister, http) for _ in range(count)]
        enough = math.ceil(WARM_UP_ENOUGH * count)
        while time.time() < deadline and len(kit.registered) < enough and not all(g.dead for g in pool):
            gevent.sleep(0.25)
        gevent.killall([g for g in pool if not g.dead], block=False)
    log.info("warm-up: %d of %d accounts registered", len(kit.registered), count)


def schedule_outages(config: LoadtestConfig, t0: float) -> None:
    """Take circles' SMS down at the fake for the scenario's outage windows (carrier seconds)."""
    with httpx.Client(timeout=10) as client:
        clock = client.get(f"{config.sms_url}/_fake/clock").json()
        scale = float(clock.get("time_scale") or 1.0)
        carrier_now = float(clock["carrier_time"])
        for circle, start_s, end_s in config.outages:
            start = carrier_now + (t0 + start_s - time.time()) * scale
            body = {"circle": circle, "start": start, "end": carrier_now + (t0 + end_s - time.time()) * scale}
            response = client.post(f"{config.sms_url}/_fake/outages", json=body)
            log.info("outage %s %s -> %s", circle, body, response.status_code)


def apply_x_limits(config: LoadtestConfig, at: float) -> None:
    """At ``at`` (the first scheduled start), set the scenario's X rate limits at fake X."""
    gevent.sleep(max(0.0, at - time.time()))
    with httpx.Client(timeout=10) as client:
        response = client.post(f"{config.x_url}/_fake/rate-limits", json={"limits": config.x_limits})
    log.info("X rate limits set at t0: %s", response.status_code)


def count_hopeless(
    http: Transport,
    kit: JourneyKit,
    lost: set[int],
    config: LoadtestConfig,
    *,
    t0: float,
    now: float,
    run_end: float,
) -> int:
    """How many awaited codes cannot arrive before ``run_end``: held by an outage past it, or lost by
    the carrier (asked of the SMS fake's outbox through ``http``; those are added to ``lost``). A
    failed question (``http`` answers None) leaves the code not known to be lost: it is waited for."""
    hopeless = 0
    for key, (msisdn, circle, gives_up_at) in list(kit.waiting_codes.items()):
        if key not in lost and not held_past_end(
            circle, gives_up_at, config.outages, t0=t0, now=now, run_end=run_end
        ):
            if not code_lost(kit.sent_to(http, msisdn), gives_up_at, run_end):
                continue
            lost.add(key)
        hopeless += 1
    return hopeless
