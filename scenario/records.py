"""The scenario's frozen dataclasses: audience, user behaviour, the operator's system, cost and run.

Built (validated) by :mod:`scenario.loading`; the file format is documented in ``scenarios/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scenario.arrivals import ArrivalProfile
from scenario.distributions import DistSpec

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
