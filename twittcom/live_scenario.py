"""One scenario, one world: the live stack's settings read from a scenario file.

:func:`live_options` turns every scenario key that has a live counterpart into
:class:`~twittcom.stack_base.StackOptions` for the loopback stack that ``twittcom storm`` and
``twittcom loadtest`` start, so the live run and the simulator describe the same system:

- ``system.sms``: the SMS fake's sender (a short code, long code or alphanumeric sender at
  ``mps``, or a messaging service pooling ``pool_size`` numbers at ``mps / pool_size`` each) and
  the ``ValidityPeriod`` the processor sends with every message;
- ``system.sms.protocol`` and ``system.sms.smpp``: over SMPP the processor sends through
  ``binds`` binds of ``window`` to the SMS fake's SMSC at most ``throughput`` submit_sm/s, and the
  SMSC caps each bind at ``bind_tps`` and the system at ``system_tps`` and answers each submit_sm
  ``submit_latency_s`` after it came;
- ``system.carrier``: the SMS fake's latency distribution and failure rate (outages are taken
  down at the fake on the run's clock by the load test, :func:`scenario_outages`);
- ``population``: the circles' shares of the seeded directory; the sample catalog is sold in
  every circle, so a buyer is never refused for living in a circle the model serves;
- ``system.workers.count``, ``system.ingestion`` (mode, mention and DM poll intervals, page
  size), ``system.otp_ttl_s``: the processor's settings;
- ``system.ingestion`` read limits and ``system.x_budget``: fake X's rate-limit table and the
  processor's own write budget, the same on both sides; in webhook mode, ``webhook_delay`` delays
  each of fake X's deliveries (its ``webhooks`` fault latency, deliveries not limited in number).

A value the live stack cannot run on this machine is refused before the run with a
:class:`LiveScenarioError` (one line: the key and the limit); nothing is dropped silently. The
table of every key and what each side does with it is in ``scenarios/README.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from reference.domain.circles import CIRCLES
from scenario import COMMANDS, Scenario

__all__ = [
    "LiveScenarioError",
    "LiveSettings",
    "MAX_ARRIVAL_RATE",
    "MAX_POOL_SIZE",
    "MAX_WORKERS",
    "circle_code",
    "live_settings",
    "scenario_outages",
]

#: the open-model generator (one locust process beside the stack on this machine) keeps its
#: schedule up to about this many journeys per second
MAX_ARRIVAL_RATE = 150.0
#: the processor runs its workers as tasks of one event loop; more than this only adds contention
MAX_WORKERS = 64
#: numbers one messaging service may pool at the SMS fake
MAX_POOL_SIZE = 1000
#: SMPP binds and window the live processor opens (tasks and sockets of one process)
MAX_SMPP_BINDS = 64
MAX_SMPP_WINDOW = 1000
#: Twilio's ValidityPeriod range (seconds)
VALIDITY_RANGE = (1, 36_000)
#: X's max_results range for GET /2/users/:id/mentions
PAGE_RANGE = (5, 100)
#: the processor's poll loop cannot usefully run faster than this (seconds)
MIN_POLL_INTERVAL_S = 0.05
#: commands the processor always answers by reply tweet (DMs are answered by DM, noise not at all)
LIVE_REPLY_TO = frozenset({"reg", "code", "act"})


class LiveScenarioError(ValueError):
    """A scenario value the live stack cannot honour: ``key: limit``."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def circle_code(name: str) -> str | None:
    """The circle code for a scenario's circle name: the code itself (``DL``), the circle's name
    (``Delhi``, ``Andhra Pradesh & Telangana``) or its first part (``Andhra Pradesh``,
    ``Uttar Pradesh (East)``), case-insensitively; None when no circle matches."""
    folded = name.strip().casefold()
    for code, full in CIRCLES.items():
        names = {code.casefold(), full.casefold(), full.split(" & ")[0].casefold()}
        if folded in names:
            return code
    return None


def scenario_outages(scenario: Scenario) -> tuple[tuple[str, float, float], ...]:
    """The scenario's carrier outages with circles as the stack's SMS fake knows them (codes)."""
    return tuple(
        (circle_code(circle) or circle, o.start_s, o.end_s)
        for o in scenario.system.carrier.outages
        for circle in o.circles
    )


@dataclass(frozen=True)
class LiveSettings:
    """What the live stack takes from a scenario (see the module docstring)."""

    circle_shares: tuple[tuple[str, float], ...]
    workers: int
    ingestion: str
    poll_interval_s: float
    dm_poll_interval_s: float
    page_size: int
    otp_ttl_s: float
    sms_config: dict[str, Any]
    sms_from: str
    sms_service_sid: str
    sms_validity_s: int
    x_limits: dict[str, Any]
    tweet_limits: tuple[int, float, int, float]
    webhook_latency: dict[str, Any] | None = None
    sms_protocol: str = "twilio"
    smpp: dict[str, Any] | None = None  # StackOptions' smpp_* values


def _smpp(scenario: Scenario) -> dict[str, Any] | None:
    """The stack's ``smpp_*`` options for a scenario that sends over SMPP."""
    sms = scenario.system.sms
    if sms.protocol != "smpp":
        return None
    smpp = sms.smpp
    _check(smpp.binds <= MAX_SMPP_BINDS, "system.sms.smpp.binds", f"at most {MAX_SMPP_BINDS} live")
    _check(smpp.window <= MAX_SMPP_WINDOW, "system.sms.smpp.window", f"at most {MAX_SMPP_WINDOW} live")
    return {
        "smpp_binds": smpp.binds,
        "smpp_window": smpp.window,
        "smpp_throughput": smpp.throughput,
        "smpp_bind_tps": smpp.bind_tps,
        "smpp_system_tps": smpp.system_tps,
        "smpp_latency_ms": smpp.submit_latency_s * 1000.0,
    }


def _check(condition: bool, key: str, message: str) -> None:
    if not condition:
        raise LiveScenarioError(key, message)


def _webhook_latency(scenario: Scenario) -> dict[str, Any] | None:
    """Fake X's ``webhooks`` fault latency (ms) for the scenario's tweet -> webhook delay."""
    from scenario.distributions import Z95

    ing = scenario.system.ingestion
    if ing.mode != "webhook":
        return None
    spec, p = ing.webhook_delay, dict(ing.webhook_delay.params)
    if spec.kind == "constant":
        return {"kind": "fixed", "a": 1000 * p["value"]}
    if spec.kind == "exponential":
        return {"kind": "exponential", "a": 1000 * p["mean"]}
    if spec.kind == "uniform":
        return {"kind": "uniform", "a": 1000 * p["low"], "b": 1000 * p["high"]}
    if "p50" in p:
        return {"kind": "lognormal", "a": 1000 * p["p50"], "b": 1000 * p["p95"]}
    sigma2 = math.log(1.0 + (p["sd"] / p["mean"]) ** 2)
    mu = math.log(p["mean"]) - sigma2 / 2
    return {"kind": "lognormal", "a": 1000 * math.exp(mu), "b": 1000 * math.exp(mu + Z95 * math.sqrt(sigma2))}


def _latency(scenario: Scenario) -> dict[str, Any]:
    spec = scenario.system.carrier.latency
    return {"dist": spec.kind, **dict(spec.params)}


def _sms(scenario: Scenario, bundled: bool = True) -> tuple[dict[str, Any], str, str, int]:
    """The SMS fake's configuration patch, the sender (From or messaging service) and validity."""
    from fake_sms import DEFAULT_ACCOUNT_SID

    sms, carrier = scenario.system.sms, scenario.system.carrier
    validity = round(sms.validity_s)
    lo, hi = VALIDITY_RANGE
    _check(lo <= validity <= hi, "system.sms.validity_s", f"Twilio's ValidityPeriod is {lo}..{hi} s")
    _check(sms.pool_size <= MAX_POOL_SIZE, "system.sms.pool_size", f"at most {MAX_POOL_SIZE} numbers")
    always = "the processor always confirms by SMS"
    _check(not bundled or sms.confirm_activations, "system.sms.confirm_activations", always)
    rate = sms.rate_per_number
    account: dict[str, Any] = {"sid": DEFAULT_ACCOUNT_SID, "max_concurrent": 1_000}
    if sms.pool_size == 1:
        sender = {"number": "54321" if sms.sender == "short_code" else "+15005550077", "kind": sms.sender}
        account["senders"] = [{**sender, "rate": rate, "queue_window": validity}]
        sms_from, service = str(sender["number"]), ""
    else:
        service = "MG" + "5ce0a210" * 4
        pool = [
            {"number": f"+1500777{n:04d}", "kind": sms.sender, "rate": rate, "queue_window": validity}
            for n in range(sms.pool_size)
        ]
        account["services"] = [{"sid": service, "friendly_name": "scenario pool", "pool": pool,
                                "validity_period": validity}]  # fmt: skip
        sms_from = ""
    config = {
        "accounts": [account],
        "carrier": {
            "default": {"latency": _latency(scenario), "failure_rates": {"30003": carrier.failure_rate}}
        },
    }
    return config, sms_from, service, validity


def _x_limits(scenario: Scenario) -> tuple[dict[str, Any], tuple[int, float, int, float]]:
    """Fake X's rate-limit table (everything off but the scenario's limits) and the write budget."""
    from fake_twitter.ratelimits import REAL

    ing, xb = scenario.system.ingestion, scenario.system.x_budget
    off = {"app": [[10**9, 900.0]], "user": [[10**9, 900.0]]}
    table: dict[str, Any] = {key: off for key in REAL}
    table["*"] = off
    mentions = [[ing.rate_limit_requests, ing.rate_limit_window_s]]
    table["GET /2/users/:id/mentions"] = {"app": mentions, "user": mentions}
    table["GET /2/dm_events"] = {
        "app": [],
        "user": [[ing.dm_rate_limit_requests, ing.dm_rate_limit_window_s]],
    }
    table["POST /2/tweets"] = {
        "app": [[xb.app_limit, xb.app_window_s]],
        "user": [[xb.user_limit, xb.user_window_s]],
        # the subscribers' own tweets come through their apps, not the operator's: only the
        # processor's budget keeps the app's count
        "app_counts_user_requests": False,
    }
    return table, (xb.user_limit, xb.user_window_s, xb.app_limit, xb.app_window_s)


def live_settings(scenario: Scenario, *, processor: str = "bundled") -> LiveSettings:
    """The live stack's settings for ``scenario``; :class:`LiveScenarioError` for what it cannot run.

    ``processor="external"`` (a system under test, ``storm --against``): the fakes' and the load's
    settings only; what the bundled processor alone must honour (its reply list, its worker bound)
    is the system's own business."""
    bundled = processor == "bundled"
    shares = []
    for name, share in scenario.population.circles:
        code = circle_code(name)
        _check(code is not None, f"population.circles.{name}", "not one of the 22 circles (name or code)")
        assert code is not None
        shares.append((code, share))
    peak = max(scenario.arrivals.rate_at(t / 10) for t in range(int(scenario.run.duration_s * 10) + 1))
    _check(peak <= MAX_ARRIVAL_RATE, "arrivals.segments",
           f"peak {peak:g} events/s; the load generator keeps up to {MAX_ARRIVAL_RATE:g}/s here")  # fmt: skip
    wk, ing = scenario.system.workers, scenario.system.ingestion
    _check(not bundled or wk.count <= MAX_WORKERS, "system.workers.count", f"at most {MAX_WORKERS} live")
    lo, hi = PAGE_RANGE
    _check(lo <= ing.page_size <= hi, "system.ingestion.page_size", f"X allows {lo}..{hi}")
    for key in ("poll_interval_s", "dm_poll_interval_s"):
        _check(getattr(ing, key) >= MIN_POLL_INTERVAL_S, f"system.ingestion.{key}",
               f"at least {MIN_POLL_INTERVAL_S} s live")  # fmt: skip
    reply_to = set(scenario.system.x_budget.reply_to)
    answered = f"the processor answers {sorted(LIVE_REPLY_TO)} by tweet (DMs by DM, noise not at all)"
    _check(not bundled or reply_to == LIVE_REPLY_TO, "system.x_budget.reply_to", answered)
    assert set(COMMANDS) >= reply_to
    for key in ("user_limit", "app_limit"):
        _check(getattr(scenario.system.x_budget, key) >= 1, f"system.x_budget.{key}", "at least 1 live")
    sms_config, sms_from, service, validity = _sms(scenario, bundled)
    x_limits, tweet_limits = _x_limits(scenario)
    return LiveSettings(
        circle_shares=tuple(shares),
        workers=wk.count,
        ingestion="poll" if ing.mode == "polling" else "webhook",
        poll_interval_s=ing.poll_interval_s,
        dm_poll_interval_s=ing.dm_poll_interval_s,
        page_size=ing.page_size,
        otp_ttl_s=scenario.system.otp_ttl_s,
        sms_config=sms_config,
        sms_from=sms_from,
        sms_service_sid=service,
        sms_validity_s=validity,
        x_limits=x_limits,
        tweet_limits=tweet_limits,
        webhook_latency=_webhook_latency(scenario),
        sms_protocol=scenario.system.sms.protocol,
        smpp=_smpp(scenario),
    )
