"""A scripted day of Twittcom for a faker population, run in-process through the processor.

Users register by tweet or DM (some mistype their number, some are not on the network, some are
already registered), answer their codes (some mistype, some answer too late, some never do), then
buy packs (some short of balance, some with another circle's hashtag, some with an unknown one;
some tweets are delivered twice) and chat. Everything is drawn from one seed, so a seed gives the
same outcomes every time; only the measured purchase rate varies.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from reference.bootstrap import Settings, Store, build_processor
from reference.domain.catalog import Catalog, default_catalog_path, load_catalog
from reference.domain.commands import Channel, Inbound
from reference.domain.otp import SeededOtpSource
from reference.domain.outcomes import Outcome, SendSms
from reference.population import Customer, build_population
from reference.service.processor import Processed, Processor

__all__ = ["DemoClock", "DemoReport", "Progress", "run_demo"]

#: progress callback: (phase name, messages in the phase) on start, then (phase, done) as it goes
Progress = Callable[[str, int, int], None]
_NOISE = (
    "@tatadocomo my internet is so slow today",
    "@tatadocomo why was I charged twice?",
    "@tatadocomo great service, thanks!",
    "@tatadocomo when will 3G come to my area",
)


class DemoClock:
    """Simulated time: starts at a fixed instant, moves ``step`` per reading."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(milliseconds=20)) -> None:
        self.current = start or datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        self.step = step

    def now(self) -> datetime:
        self.current += self.step
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class DemoReport:
    """What the demo did."""

    users: int
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    phases: dict[str, Counter[Outcome]] = field(default_factory=dict)
    purchase_messages: int = 0
    purchase_seconds: float = 0.0
    featured_handle: str = ""
    timeline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def purchases_per_second(self) -> float:
        return self.purchase_messages / self.purchase_seconds if self.purchase_seconds else 0.0


class _Driver:
    def __init__(
        self, processor: Processor, clock: DemoClock, rng: random.Random, report: DemoReport
    ) -> None:
        self.processor = processor
        self.clock = clock
        self.rng = rng
        self.report = report
        self.ids = itertools.count(1_790_000_000_000_000_000 + rng.randrange(10**12))

    def message(self, customer: Customer, text: str, channel: Channel = "tweet") -> Inbound:
        return Inbound(
            channel, str(next(self.ids)), customer.user_id, customer.handle, text, self.clock.now()
        )

    def run(
        self,
        phase: str,
        messages: Sequence[Inbound],
        progress: Progress | None,
        batch: int = 100,
        total: int | None = None,
        offset: int = 0,
    ) -> list[Processed]:
        counts = self.report.phases.setdefault(phase, Counter())
        results: list[Processed] = []
        total = len(messages) if total is None else total
        if progress:
            progress(phase, total, offset)
        for start in range(0, len(messages), batch):
            done = self.processor.process_batch(messages[start : start + batch])
            results.extend(done)
            for result in done:
                counts[result.outcome] += 1
                self.report.outcomes[result.outcome] += 1
            if progress:
                progress(phase, total, offset + len(results))
        return results


def _typed_number(msisdn: str, rng: random.Random) -> str:
    national = msisdn[3:]
    return rng.choice(
        [
            national,
            msisdn,
            f"+91 {national[:5]} {national[5:]}",
            f"0{national}",
            f"{national[:5]}-{national[5:]}",
        ]
    )


def _code_of(result: Processed) -> str | None:
    for effect in result.effects:
        if isinstance(effect, SendSms) and "code is " in effect.text:
            return effect.text.split("code is ", 1)[1][:6]
    return None


def run_demo(
    store: Store,
    *,
    users: int = 500,
    seed: int = 0,
    catalog: Catalog | None = None,
    progress: Progress | None = None,
) -> DemoReport:
    """Seed ``store`` with ``users`` faker users and run the scripted day through the processor."""
    rng = random.Random(seed)
    catalog = catalog if catalog is not None else load_catalog(default_catalog_path())
    circles = tuple(catalog.circles()) + ("NE", "JK")
    population = build_population(users, seed=seed, circles=circles)
    store.add_subscribers(population.subscribers)
    clock = DemoClock()
    settings = Settings(otp_key=hashlib.sha256(f"twittcom-demo-{seed}".encode()).digest())
    processor = build_processor(
        store, settings, catalog=catalog, clock=clock, otp_source=SeededOtpSource(seed)
    )
    report = DemoReport(users=users)
    driver = _Driver(processor, clock, rng, report)
    customers = population.customers
    circle_of = {c.user_id: c.circle for c in customers}

    # 1. registrations: by tweet or DM; a few mistype the number
    registrations = []
    for customer in customers:
        number = _typed_number(customer.msisdn, rng)
        if rng.random() < 0.03:
            number = number[:-3]
        if rng.random() < 0.3:
            registrations.append(driver.message(customer, f"reg {number}", "dm"))
        else:
            registrations.append(driver.message(customer, f"@tatadocomo #reg {number}"))
    codes: dict[str, str] = {}
    for result in driver.run("register", registrations, progress):
        code = _code_of(result)
        if code is not None:
            codes[result.message.author_id] = code
    by_id = {c.user_id: c for c in customers}

    # 2. codes: most answer right; some mistype first; some never answer; some answer too late
    answers, late = [], []
    for user_id, code in codes.items():
        customer = by_id[user_id]
        roll = rng.random()
        if roll < 0.04:
            continue
        if roll < 0.08:
            late.append(driver.message(customer, f"@tatadocomo {code}"))
            continue
        if roll < 0.2:
            wrong = f"{(int(code) + rng.randrange(1, 999_999)) % 1_000_000:06d}"
            answers.append(driver.message(customer, f"@tatadocomo {wrong}"))
        form = rng.choice(["@tatadocomo {c}", "@tatadocomo #code {c}", "@tatadocomo here it is: {c}"])
        answers.append(driver.message(customer, form.format(c=code)))
    registered = [
        r.message.author_id
        for r in driver.run("verify", answers, progress)
        if r.outcome is Outcome.REGISTERED
    ]
    clock.advance(timedelta(minutes=11))
    driver.run("late codes", late, progress)
    again = [driver.message(by_id[u], f"@tatadocomo #reg {by_id[u].msisdn[3:]}") for u in registered[::20]]
    driver.run("re-register", again, progress)

    # 3. purchases, in rounds an hour apart: own-circle packs mostly; some another circle's or an
    #    unknown hashtag; some tweets delivered twice; some chatter
    intents: dict[str, list[tuple[str, Channel, bool]]] = {}
    for user_id in registered:
        customer = by_id[user_id]
        own = catalog.packs_in(circle_of[user_id])
        plan = intents.setdefault(user_id, [])
        for _ in range(rng.randint(1, 6)):
            roll = rng.random()
            if roll < 0.05 or not own:
                tag = f"TD{rng.randrange(1000, 9999)}X"
            elif roll < 0.1:
                other = rng.choice([c for c in catalog.circles() if c != customer.circle])
                tag = rng.choice(catalog.packs_in(other)).hashtag
            else:
                tag = rng.choice(own).hashtag
            form = rng.choice(
                ["@tatadocomo #act #{t}", "@tatadocomo #{t} #act please", "@tatadocomo #act# {t}", "act {t}"]
            )
            text = form.format(t=tag if rng.random() < 0.7 else tag.lower())
            plan.append((text, "dm" if form == "act {t}" else "tweet", rng.random() < 0.05))
        if rng.random() < 0.2:
            plan.insert(rng.randrange(len(plan) + 1), (rng.choice(_NOISE), "tweet", False))
    total = sum(len(plan) + sum(dup for _, _, dup in plan) for plan in intents.values())
    bought: list[Processed] = []
    for round_no in range(max((len(p) for p in intents.values()), default=0)):
        purchases: list[Inbound] = []
        for user_id, plan in intents.items():
            if round_no < len(plan):
                text, channel, twice = plan[round_no]
                message = driver.message(by_id[user_id], text, channel)
                purchases.append(message)
                if twice:  # delivered twice (webhook retry / overlapping polls)
                    purchases.insert(rng.randrange(len(purchases) + 1), message)
        started = time.perf_counter()
        bought += driver.run("purchase", purchases, progress, batch=200, total=total, offset=len(bought))
        report.purchase_seconds += time.perf_counter() - started
        clock.advance(timedelta(hours=1))
    variety: dict[str, set[Outcome]] = {}
    attempts: Counter[str] = Counter()
    for result in bought:
        variety.setdefault(result.message.author_id, set()).add(result.outcome)
        attempts[result.message.author_id] += 1
    report.purchase_messages = len(bought)

    # 4. people not registered try to buy
    strays = [c for c in customers if c.user_id not in set(registered)][:25]
    driver.run(
        "unregistered buys", [driver.message(c, "@tatadocomo #act #TD49DEL") for c in strays], progress
    )

    if variety:
        featured = max(
            variety, key=lambda u: (Outcome.ACTIVATED in variety[u], len(variety[u]), attempts[u], u)
        )
        report.featured_handle = by_id[featured].handle
        report.timeline = store.timeline(user_id=featured)
    return report
