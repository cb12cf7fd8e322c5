"""Scenario files: typed, validated configuration shared by the simulator and the load tests.

``load_scenario(path, overrides)`` reads a TOML file, merges it over the defaults of
:mod:`simulator.schema`, applies ``--set key=value`` overrides (type-checked), and builds the frozen
dataclasses below, raising :class:`~simulator.errors.ScenarioError` that names the offending key.
The schema is documented in ``scenarios/README.md``. This module imports no simpy, so it is cheap
for ``loadtests`` to import.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.arrivals import ArrivalProfile
from simulator.checks import boolean, choice, integer, number, parse_arrivals, shares
from simulator.distributions import DistSpec, parse_dist
from simulator.errors import ScenarioError
from simulator.schema import apply_override, merge_over_defaults

__all__ = [
    "COMMANDS",
    "Carrier",
    "Cost",
    "Ingestion",
    "Outage",
    "Audience",
    "RunSettings",
    "SENDER_KINDS",
    "Scenario",
    "SMS_PROTOCOLS",
    "Smpp",
    "Sms",
    "System",
    "UserBehaviour",
    "Workers",
    "XBudget",
    "build_scenario",
    "load_scenario",
]

#: processor commands with a service-time distribution
COMMANDS: tuple[str, ...] = ("reg", "code", "act", "dm", "noise")


@dataclass(frozen=True)
class Audience:
    """Who can tweet: followers, the share already registered, and circles with their shares."""

    followers: int
    registered_share: float
    circles: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class UserBehaviour:
    """How a subscriber reacts: code read+reply delay, typos, abandonment, buying after registering."""

    code_reply_delay: DistSpec
    typo_rate: float
    abandon_after_s: float
    max_code_attempts: int
    buy_share: float
    buy_delay: DistSpec


@dataclass(frozen=True)
class Ingestion:
    """How tweets reach the processor: polling (interval, page size, rate limit) or webhook delay."""

    mode: str
    poll_interval_s: float
    page_size: int
    rate_limit_requests: int
    rate_limit_window_s: float
    webhook_delay: DistSpec
    dm_poll_interval_s: float
    dm_rate_limit_requests: int
    dm_rate_limit_window_s: float


@dataclass(frozen=True)
class Workers:
    """Processor workers (FIFO, shared queue) and per-command service times."""

    count: int
    service: tuple[tuple[str, DistSpec], ...]
    calibration_file: str
    calibration_map: tuple[tuple[str, str], ...]

    def service_of(self, command: str) -> DistSpec:
        """Service-time distribution of ``command``."""
        return dict(self.service)[command]


#: sender kinds (as Twilio sells them); a pool is ``pool_size`` numbers of one kind behind a
#: messaging service, each message going out through the member free soonest
SENDER_KINDS: tuple[str, ...] = ("short_code", "long_code", "alphanumeric")


#: how the processor hands SMS to the gateway: Twilio's REST API, or SMPP 3.4 binds to an SMSC
SMS_PROTOCOLS: tuple[str, ...] = ("twilio", "smpp")


@dataclass(frozen=True)
class Smpp:
    """The SMPP sender: ``binds`` sessions, ``window`` unanswered submit_sm each, the processor's
    ``throughput`` cap (submit_sm/s, 0: none), the SMSC's ``bind_tps`` and ``system_tps`` caps
    (0: none) and its ``submit_latency_s`` (submit_sm -> submit_sm_resp)."""

    binds: int = 1
    window: int = 10
    throughput: float = 0.0
    bind_tps: float = 0.0
    system_tps: float = 0.0
    submit_latency_s: float = 0.0

    @property
    def rate_cap(self) -> float:
        """submit_sm/s the caps allow (inf: none), before the window."""
        caps = [self.throughput, self.system_tps, self.bind_tps * self.binds]
        return min((c for c in caps if c > 0), default=float("inf"))

    @property
    def window_rate(self) -> float:
        """submit_sm/s ``binds x window`` sustain at ``submit_latency_s`` (inf when it is 0)."""
        if self.submit_latency_s <= 0:
            return float("inf")
        return self.binds * self.window / self.submit_latency_s


@dataclass(frozen=True)
class Sms:
    """The sender queue: total messages/s over ``pool_size`` numbers of kind ``sender``, and validity.

    Each number sends ``mps / pool_size`` messages per second (one slot per message).
    """

    mps: float
    validity_s: float
    confirm_activations: bool
    sender: str = "short_code"
    pool_size: int = 1
    protocol: str = "twilio"
    smpp: Smpp = field(default_factory=Smpp)

    @property
    def rate_per_number(self) -> float:
        """Messages per second of each number of the pool."""
        return self.mps / self.pool_size


@dataclass(frozen=True)
class Outage:
    """SMS to subscribers in ``circles`` is held between ``start_s`` and ``end_s``."""

    circles: tuple[str, ...]
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Carrier:
    """Carrier delivery latency, failure rate and outage windows."""

    latency: DistSpec
    failure_rate: float
    outages: tuple[Outage, ...]


@dataclass(frozen=True)
class XBudget:
    """X write limits for the operator's replies (per user token and per app)."""

    user_limit: int
    user_window_s: float
    app_limit: int
    app_window_s: float
    reply_to: tuple[str, ...]


@dataclass(frozen=True)
class System:
    """Everything on the operator's side."""

    ingestion: Ingestion
    workers: Workers
    sms: Sms
    carrier: Carrier
    x_budget: XBudget
    otp_ttl_s: float


@dataclass(frozen=True)
class Cost:
    """Cost model used by ``plan``: cost = fixed + per_worker*workers + per_sms_mps*mps."""

    per_worker: float
    per_sms_mps: float
    fixed: float

    def of(self, system: System) -> float:
        """Cost of running ``system``."""
        return self.fixed + self.per_worker * system.workers.count + self.per_sms_mps * system.sms.mps


@dataclass(frozen=True)
class RunSettings:
    """Arrivals stop at ``duration_s``; the model runs ``drain_s`` more; stats skip the warm-up."""

    duration_s: float
    drain_s: float
    warmup_s: float
    seed: int
    sample_interval_s: float


@dataclass(frozen=True)
class Scenario:
    """A whole validated scenario; ``resolved`` keeps the merged raw dict for reports and overrides."""

    name: str
    description: str
    population: Audience
    arrivals: ArrivalProfile
    user: UserBehaviour
    system: System
    cost: Cost
    run: RunSettings
    resolved: dict[str, Any] = field(compare=False, repr=False)


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, merge, override and validate the scenario at ``path``."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ScenarioError("", f"scenario file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError("", f"{path} is not valid TOML: {exc}") from exc
    document.setdefault("name", path.stem)
    resolved = merge_over_defaults(document)
    for assignment in overrides:
        apply_override(resolved, assignment)
    return build_scenario(resolved, base_dir=path.parent)


def _smpp(raw: Mapping[str, Any]) -> Smpp:
    p = "system.sms.smpp"
    return Smpp(
        integer(raw, "binds", p, 1),
        integer(raw, "window", p, 1),
        number(raw, "throughput", p, 0.0),
        number(raw, "bind_tps", p, 0.0),
        number(raw, "system_tps", p, 0.0),
        number(raw, "submit_latency_s", p, 0.0),
    )


def _system(raw: Mapping[str, Any], base_dir: Path, circles: set[str]) -> System:
    ing, wk, sms, car, xb = (raw[k] for k in ("ingestion", "workers", "sms", "carrier", "x_budget"))
    p = "system.ingestion"
    ingestion = Ingestion(
        choice(ing, "mode", p, ("polling", "webhook")),
        number(ing, "poll_interval_s", p, 1e-6),
        integer(ing, "page_size", p, 1),
        integer(ing, "rate_limit_requests", p, 1),
        number(ing, "rate_limit_window_s", p, 1e-6),
        parse_dist(f"{p}.webhook_delay", ing["webhook_delay"]),
        number(ing, "dm_poll_interval_s", p, 1e-6),
        integer(ing, "dm_rate_limit_requests", p, 1),
        number(ing, "dm_rate_limit_window_s", p, 1e-6),
    )
    workers = _workers(wk, base_dir)
    sms_cfg = Sms(
        number(sms, "mps", "system.sms", 1e-6),
        number(sms, "validity_s", "system.sms"),
        boolean(sms, "confirm_activations", "system.sms"),
        choice(sms, "sender", "system.sms", SENDER_KINDS),
        integer(sms, "pool_size", "system.sms", 1),
        choice(sms, "protocol", "system.sms", SMS_PROTOCOLS),
        _smpp(sms["smpp"]),
    )
    outages = []
    if not isinstance(car["outages"], list):
        raise ScenarioError(
            "system.carrier.outages", "expected a list of tables ([[system.carrier.outages]])"
        )
    for i, o in enumerate(car["outages"]):
        path = f"system.carrier.outages.{i}"
        if not isinstance(o, Mapping) or set(o) != {"circles", "start_s", "end_s"}:
            raise ScenarioError(path, "expected a table with exactly circles, start_s, end_s")
        names = o["circles"]
        if not isinstance(names, list) or not all(isinstance(n, str) and n in circles for n in names):
            raise ScenarioError(
                f"{path}.circles", f"expected a list of circles among {sorted(circles)}, got {names!r}"
            )
        start, end = number(o, "start_s", path), number(o, "end_s", path)
        if end <= start:
            raise ScenarioError(f"{path}.end_s", "must be after start_s")
        outages.append(Outage(tuple(names), start, end))
    carrier = Carrier(
        parse_dist("system.carrier.latency", car["latency"]),
        number(car, "failure_rate", "system.carrier", 0, 1),
        tuple(outages),
    )
    reply_to = xb["reply_to"]
    if not isinstance(reply_to, list) or any(r not in COMMANDS for r in reply_to):
        raise ScenarioError(
            "system.x_budget.reply_to", f"expected a list drawn from {list(COMMANDS)}, got {reply_to!r}"
        )
    p = "system.x_budget"
    budget = XBudget(
        integer(xb, "user_limit", p),
        number(xb, "user_window_s", p, 1e-6),
        integer(xb, "app_limit", p),
        number(xb, "app_window_s", p, 1e-6),
        tuple(reply_to),
    )
    return System(ingestion, workers, sms_cfg, carrier, budget, number(raw, "otp_ttl_s", "system", 1e-6))


def _workers(wk: Mapping[str, Any], base_dir: Path) -> Workers:
    from simulator.calibration import calibrate_services  # local: only when a file is named

    service = wk["service"]
    for name in service:
        if name not in COMMANDS:
            raise ScenarioError(
                f"system.workers.service.{name}", f"unknown command; expected one of {list(COMMANDS)}"
            )
    specs = {name: parse_dist(f"system.workers.service.{name}", service[name]) for name in COMMANDS}
    mapping = wk["calibration_map"]
    if not isinstance(mapping, Mapping) or any(
        k not in COMMANDS or not isinstance(v, str) for k, v in mapping.items()
    ):
        raise ScenarioError(
            "system.workers.calibration_map",
            f'expected command = "benchmark name" with commands from {list(COMMANDS)}',
        )
    file = wk["calibration_file"]
    if not isinstance(file, str):
        raise ScenarioError("system.workers.calibration_file", "expected a path string")
    if file:
        specs.update(calibrate_services(base_dir / file, dict(mapping)))
    return Workers(
        integer(wk, "count", "system.workers", 1), tuple(specs.items()), file, tuple(sorted(mapping.items()))
    )


def build_scenario(resolved: dict[str, Any], base_dir: Path = Path(".")) -> Scenario:
    """Validate a merged raw dict and build the :class:`Scenario`."""
    pop = resolved["population"]
    circles = shares(pop["circles"], "population.circles")
    total = sum(circles.values())
    population = Audience(
        integer(pop, "followers", "population", 1),
        number(pop, "registered_share", "population", 0, 1),
        tuple((name, share / total) for name, share in circles.items()),
    )
    u = resolved["user"]
    user = UserBehaviour(
        parse_dist("user.code_reply_delay", u["code_reply_delay"]),
        number(u, "typo_rate", "user", 0, 1),
        number(u, "abandon_after_s", "user"),
        integer(u, "max_code_attempts", "user", 1),
        number(u, "buy_share", "user", 0, 1),
        parse_dist("user.buy_delay", u["buy_delay"]),
    )
    arrivals = parse_arrivals(resolved["arrivals"])
    system = _system(resolved["system"], base_dir, set(circles))
    c = resolved["cost"]
    cost = Cost(number(c, "per_worker", "cost"), number(c, "per_sms_mps", "cost"), number(c, "fixed", "cost"))
    r = resolved["run"]
    duration = number(r, "duration_s", "run") or arrivals.duration_s
    run = RunSettings(
        duration,
        number(r, "drain_s", "run"),
        number(r, "warmup_s", "run"),
        integer(r, "seed", "run"),
        number(r, "sample_interval_s", "run", 1e-3),
    )
    if run.warmup_s >= run.duration_s:
        raise ScenarioError("run.warmup_s", f"must be shorter than the run ({run.duration_s} s)")
    for key in ("name", "description"):
        if not isinstance(resolved[key], str):
            raise ScenarioError(key, "expected a string")
    return Scenario(
        resolved["name"], resolved["description"], population, arrivals, user, system, cost, run, resolved
    )
