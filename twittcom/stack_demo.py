"""The full-stack demo: a faker population through the live stack in this process, measured.

Every user acts over HTTP like a real one: tweets and DMs on fake X, the registration page on the
processor, codes read from the handset at fake SMS. Journeys, drawn from one seed:

* register by tweet (most), by the web page or by DM; numbers not on the network, inactive or
  postpaid are refused;
* some mistype the code once before the right one;
* registered users buy a pack: most their circle's, some another circle's hashtag (wrong circle);
  the population's low balances make some short of money.

Measured, per code: the processor's own share (the ``#reg`` tweet posted -> the code SMS accepted
by the gateway, wall time) and the carrier's delay (accepted -> delivered, in carrier seconds; the
fake SMS clock runs ``sms_time_scale`` times faster than the wall clock), and per activation the
``#act`` tweet -> confirmation SMS accepted. Outcome counts come from the processor's metrics.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reference.domain.catalog import default_catalog_path, load_catalog
from twittcom.qa.client import CODE_PATTERN, StackClient, XUser, metric_samples
from twittcom.stack import InProcessStack, StackOptions

__all__ = ["Journey", "Progress", "StackDemoReport", "percentile", "run_stack_demo"]

#: progress callback: (phase, total) when a phase starts, then (phase, done) as it goes
Progress = Callable[[str, int, int], None]
Channel = Literal["tweet", "web", "dm"]
_CONCURRENCY = 64
_FINAL = frozenset({"delivered", "undelivered", "failed"})


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = math.ceil(q * len(ordered) - 1e-9)  # nearest rank (1-based); the epsilon absorbs 0.95 * 100 > 95
    return ordered[min(len(ordered), max(1, rank)) - 1]


@dataclass
class Journey:
    """One user's plan and what happened to it."""

    user: XUser
    msisdn: str
    circle: str
    channel: Channel
    mistype: bool
    pack: str = ""
    reg_at: float = 0.0
    code: str = ""
    act_at: float = 0.0
    registered: bool = False


@dataclass
class StackDemoReport:
    """The figures the demo prints."""

    users: int
    seconds: float = 0.0
    channels: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    processor_ms: list[float] = field(default_factory=list)
    carrier_s: list[float] = field(default_factory=list)
    total_s: list[float] = field(default_factory=list)
    codes_undelivered: int = 0
    activations: int = 0
    activation_ms: list[float] = field(default_factory=list)
    activation_window_s: float = 0.0
    sms_time_scale: float = 1.0
    arrival_rate: float | None = None
    replies_skipped_budget: int = 0
    featured_handle: str = ""
    timeline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def activations_per_second(self) -> float:
        return self.activations / self.activation_window_s if self.activation_window_s > 0 else 0.0


class _Carrier:
    """Fake SMS carrier seconds -> this machine's wall clock (the scaled clock is linear)."""

    def __init__(self, carrier_now: float, wall_now: float, scale: float) -> None:
        self.carrier_now, self.wall_now, self.scale = carrier_now, wall_now, scale

    def wall(self, carrier: float) -> float:
        return self.wall_now - (self.carrier_now - carrier) / self.scale


async def _bounded(
    items: Iterable[Any], act: Callable[[Any], Awaitable[None]], tick: Callable[[], None], rate: float | None
) -> None:
    """``act`` on every item, at most ``_CONCURRENCY`` at once; item i starts at i/``rate`` s if given."""
    slots = asyncio.Semaphore(_CONCURRENCY)
    start = time.monotonic()

    async def one(index: int, item: Any) -> None:
        if rate:
            await asyncio.sleep(max(0.0, start + index / rate - time.monotonic()))
        async with slots:
            await act(item)
        tick()

    await asyncio.gather(*(one(index, item) for index, item in enumerate(items)))


class _Demo:
    def __init__(
        self, client: StackClient, stack: InProcessStack, rng: random.Random, progress: Progress
    ) -> None:
        self.client, self.stack, self.rng, self.progress = client, stack, rng, progress
        self.operator = stack.options.operator_handle

    async def phase(
        self,
        name: str,
        items: Sequence[Any],
        act: Callable[[Any], Awaitable[None]],
        rate: float | None = None,
    ) -> None:
        self.progress(name, len(items), 0)
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            self.progress(name, len(items), done)

        await _bounded(items, act, tick, rate)

    async def journeys(self) -> list[Journey]:
        circles_with_packs: dict[str, list[str]] = {}
        for circle in sorted({c.circle for c in self.stack.population.customers}):
            packs = (await self.client.admin("/admin/catalog", circle=circle))["packs"]
            circles_with_packs[circle] = [p["hashtag"] for p in packs]
        every_pack = sorted({tag for tags in circles_with_packs.values() for tag in tags})
        plans: list[Journey] = []

        async def create(customer: Any) -> None:
            user = await self.client.create_user(customer.handle)
            roll = self.rng.random()
            channel: Channel = "tweet" if roll < 0.7 else "web" if roll < 0.85 else "dm"
            own = circles_with_packs.get(customer.circle) or []
            wrong_circle = not own or self.rng.random() < 0.08
            pack = self.rng.choice([t for t in every_pack if t not in own] if wrong_circle else own)
            plans.append(
                Journey(user, customer.msisdn, customer.circle, channel, self.rng.random() < 0.1, pack)
            )

        await self.phase("X accounts", self.stack.population.customers, create)
        plans.sort(key=lambda j: j.user.username)
        return plans

    async def send(self, journey: Journey, text: str, *, as_dm: bool) -> float:
        """Post ``text`` as the user (mention or DM); returns the wall time just before posting."""
        at = time.time()
        if as_dm:
            await self.client.dm(journey.user, text)
        else:
            await self.client.tweet(journey.user, f"@{self.operator} {text}")
        return at

    async def register(self, journey: Journey) -> None:
        local = journey.msisdn[-10:]
        if journey.channel == "web":
            journey.reg_at = time.time()
            await self.client.register_on_page(journey.user.username, f"{local[:5]} {local[5:]}")
        else:
            text = f"#reg {local[:5]} {local[5:]}" if journey.channel == "tweet" else f"reg {local}"
            journey.reg_at = await self.send(journey, text, as_dm=journey.channel == "dm")

    async def verify(self, journey: Journey, code: str) -> None:
        await self.send(
            journey, code if journey.channel == "dm" else f"#code {code}", as_dm=journey.channel == "dm"
        )

    async def buy(self, journey: Journey) -> None:
        as_dm = journey.channel == "dm"
        journey.act_at = await self.send(
            journey, f"act {journey.pack}" if as_dm else f"#act #{journey.pack}", as_dm=as_dm
        )

    async def carrier(self) -> _Carrier:
        before = time.time()
        clock = await self.client.sms_clock()
        return _Carrier(
            float(clock["carrier_time"]), (before + time.time()) / 2, float(clock["time_scale"] or 1)
        )

    async def outbox(self) -> list[dict[str, Any]]:
        return await self.client.sms_outbox(limit=1_000_000)

    async def wait_for_codes(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Once the processor has sent every code: until each code SMS reached a final status."""
        await self.client.settle(timeout=60)
        deadline = time.monotonic() + timeout
        while True:
            messages = await self.outbox()
            waiting = [m for m in messages if CODE_PATTERN.search(m["body"]) and m["status"] not in _FINAL]
            if not waiting or time.monotonic() > deadline:
                return messages
            await asyncio.sleep(0.02)


async def run_stack_demo(
    users: int = 500,
    *,
    seed: int = 0,
    dsn: str = "memory://",
    sms_time_scale: float = 600.0,
    x_limits: Literal["off", "real"] = "off",
    arrival_rate: float | None = 100.0,
    progress: Progress | None = None,
) -> StackDemoReport:
    """Run ``users`` faker subscribers through the in-process live stack; return the figures.

    Registrations arrive at ``arrival_rate`` per second (``None``: all at once); purchases are sent
    as fast as the stack takes them (activations per second is the stack's throughput).
    """
    progress = progress if progress is not None else (lambda phase, total, done: None)
    options = StackOptions(
        dsn=dsn,
        seed=seed,
        population=users,
        sms_time_scale=sms_time_scale,
        x_rate_limits=x_limits,
        tweet_budget=x_limits == "real",
        circles=tuple(load_catalog(default_catalog_path()).circles()),
        web_rate_limit=False,
    )
    report = StackDemoReport(users, sms_time_scale=sms_time_scale, arrival_rate=arrival_rate)
    started = time.perf_counter()
    stack = InProcessStack(options)
    async with stack, StackClient(stack.endpoints) as client:
        demo = _Demo(client, stack, random.Random(seed), progress)
        journeys = await demo.journeys()
        for j in journeys:
            report.channels[j.channel] = report.channels.get(j.channel, 0) + 1
        await demo.phase("registration", journeys, demo.register, rate=arrival_rate)
        messages = await demo.wait_for_codes()
        carrier = await demo.carrier()
        _code_latencies(report, journeys, messages, carrier)
        with_code = [j for j in journeys if j.code]
        await demo.phase(
            "mistyped codes",
            [j for j in with_code if j.mistype],
            lambda j: demo.verify(j, j.code[:-1] + str((int(j.code[-1]) + 3) % 10)),
        )
        await client.settle(timeout=60)
        await demo.phase("codes tweeted back", with_code, lambda j: demo.verify(j, j.code))
        await client.settle(timeout=60)
        bound = await _bound(client, with_code)
        window_start = time.time()
        await demo.phase("purchases", bound, demo.buy)
        await client.settle(timeout=60)
        messages = await demo.outbox()
        carrier = await demo.carrier()
        _activation_latencies(report, bound, messages, carrier, window_start)
        exposition = await client.metrics()
        report.outcomes = {
            k: int(v) for k, v in metric_samples(exposition, "twittcom_messages_total", "outcome").items()
        }
        web = sum(1 for j in journeys if j.channel == "web")
        if web:
            report.outcomes["web page #reg (not in the counts above)"] = web
        report.activations = int(sum(v for k, v in report.outcomes.items() if k == "activated"))
        report.replies_skipped_budget = int(
            sum(metric_samples(exposition, "twittcom_replies_skipped_budget_total", "").values())
        )
        featured = next((j for j in bound if j.mistype and j.channel == "tweet"), bound[0] if bound else None)
        if featured is not None:
            report.featured_handle = featured.user.username
            timeline = await client.admin(f"/admin/handles/{featured.user.username}/timeline")
            report.timeline = list(timeline["entries"])
    report.seconds = time.perf_counter() - started
    return report


def _code_latencies(
    report: StackDemoReport, journeys: list[Journey], messages: list[dict[str, Any]], carrier: _Carrier
) -> None:
    codes: dict[str, dict[str, Any]] = {}
    for m in messages:  # newest first: keep the oldest code per number
        if CODE_PATTERN.search(m["body"]):
            codes[m["to"]] = m
    for j in journeys:
        found = codes.get(j.msisdn)
        if found is None:
            continue
        m = found
        j.code = CODE_PATTERN.search(m["body"]).group(1)  # type: ignore[union-attr]
        details = m["carrier"]
        if m["status"] != "delivered" or details["done"] is None:
            report.codes_undelivered += 1
            j.code = ""  # never reached the handset: the user cannot answer
            continue
        if j.channel != "tweet":
            continue
        processor = max(0.0, carrier.wall(float(details["created"])) - j.reg_at)
        delay = float(details["done"]) - float(details["created"])
        report.processor_ms.append(processor * 1000)
        report.carrier_s.append(delay)
        report.total_s.append(processor + delay)


async def _bound(client: StackClient, journeys: list[Journey]) -> list[Journey]:
    bound = []
    for j in journeys:
        info = await client.admin_maybe(f"/admin/handles/{j.user.username}")
        if info is not None and info.get("msisdn") == j.msisdn:
            j.registered = True
            bound.append(j)
    return bound


def _activation_latencies(
    report: StackDemoReport,
    bound: list[Journey],
    messages: list[dict[str, Any]],
    carrier: _Carrier,
    window_start: float,
) -> None:
    confirmations = {m["to"]: m for m in messages if "debited, new balance" in m["body"]}
    last = window_start
    for j in bound:
        m = confirmations.get(j.msisdn)
        if m is None:
            continue
        accepted = carrier.wall(float(m["carrier"]["created"]))
        report.activation_ms.append(max(0.0, accepted - j.act_at) * 1000)
        last = max(last, accepted)
    report.activation_window_s = last - window_start
