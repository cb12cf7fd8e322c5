"""Scenario registry, per-scenario context, runner and JUnit XML report.

A scenario is an ``async def`` taking a :class:`ScenarioContext`, registered with
:func:`scenario`; its docstring is the story it tells (shown by ``twittcom scenarios --list`` and
written into the JUnit report). Scenarios run one after another against one stack; each starts
with fake X's clock moved past every X window (15 minutes), so rate limits, the processor's
write budget and code send windows start fresh, and each makes its own subscribers and X users.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import random
import re
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twittcom.qa.client import StackClient, StackNotReady, XUser, eventually
from twittcom.qa.replies import REPLY_PATTERNS, outcome_of_reply

__all__ = [
    "Customer",
    "Result",
    "SCENARIOS",
    "Scenario",
    "ScenarioContext",
    "ScenarioFailed",
    "ScenarioSkipped",
    "run_scenarios",
    "scenario",
    "select",
    "write_junit",
]

#: seconds fake X's clock moves before each scenario (past X's 15-minute windows)
FRESH_WINDOW_S = 16 * 60.0


class ScenarioFailed(AssertionError):
    """A scenario's expectation did not hold."""


class ScenarioSkipped(Exception):
    """The stack cannot play this story (e.g. polling is off); reported as skipped, not passed."""


@dataclass(frozen=True)
class Scenario:
    """A named, documented end-to-end story."""

    name: str
    story: str
    run: Callable[[ScenarioContext], Awaitable[None]]
    timeout_s: float = 60.0


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str, *, timeout_s: float = 60.0
) -> Callable[[Callable[[ScenarioContext], Awaitable[None]]], Callable[[ScenarioContext], Awaitable[None]]]:
    """Register the decorated coroutine function as scenario ``name`` (its docstring is the story)."""

    def register(
        fn: Callable[[ScenarioContext], Awaitable[None]],
    ) -> Callable[[ScenarioContext], Awaitable[None]]:
        if name in SCENARIOS:
            raise ValueError(f"scenario {name!r} is registered twice")
        story = inspect.cleandoc(fn.__doc__ or "")
        if not story:
            raise ValueError(f"scenario {name!r} needs a docstring telling its story")
        SCENARIOS[name] = Scenario(name, story, fn, timeout_s)
        return fn

    return register


@dataclass(frozen=True)
class Customer:
    """A QA subscriber: an X user and the prepaid number they own."""

    user: XUser
    msisdn: str
    circle: str
    balance_paise: int

    @property
    def local(self) -> str:
        """The number as an Indian writes it in a tweet (10 digits, split 5+5)."""
        digits = self.msisdn[-10:]
        return f"{digits[:5]} {digits[5:]}"


@dataclass
class ScenarioContext:
    """What a scenario works with: the HTTP client and fixture helpers."""

    client: StackClient
    rng: random.Random
    run_tag: str
    serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """A line for the report (what was observed)."""
        self.notes.append(text)

    def check(self, condition: object, message: str) -> None:
        if not condition:
            raise ScenarioFailed(message)

    # fixtures -----------------------------------------------------------------------------------
    def fresh_number(self) -> str:
        """A mobile number no earlier run used (random, tagged by the run)."""
        return f"+91{self.rng.choice('6789')}{self.rng.randrange(10**9):09d}"

    async def user(self, stem: str = "qa") -> XUser:
        return await self.client.create_user(f"{stem[:5]}{self.run_tag}{next(self.serial)}"[:15])

    async def customer(
        self,
        *,
        circle: str = "DL",
        balance_paise: int = 50_000,
        active: bool = True,
        prepaid: bool = True,
        stem: str = "qa",
    ) -> Customer:
        """A new directory entry (via ``/_stack/``) and a new X user who owns it."""
        msisdn = self.fresh_number()
        await self.client.add_subscribers(
            [
                {
                    "msisdn": msisdn,
                    "circle": circle,
                    "balance_paise": balance_paise,
                    "active": active,
                    "prepaid": prepaid,
                }
            ]
        )
        return Customer(await self.user(stem), msisdn, circle, balance_paise)

    async def pack(self, circle: str, *, cheapest: bool = True) -> dict[str, Any]:
        packs = (await self.client.admin("/admin/catalog", circle=circle))["packs"]
        self.check(packs, f"the catalog has no pack in circle {circle}")
        ordered = sorted(packs, key=lambda p: int(p["price_paise"]))
        return dict(ordered[0] if cheapest else ordered[-1])

    # acting and observing ------------------------------------------------------------------------
    async def mention(self, who: Customer | XUser, text: str) -> str:
        user = who.user if isinstance(who, Customer) else who
        return await self.client.tweet(user, f"@{self.client.endpoints.operator_handle} {text}")

    async def reply_outcome(self, tweet_id: str, *, timeout: float = 10.0) -> str:
        """The outcome announced by the operator's reply to ``tweet_id`` (waits for the reply)."""
        replies = await eventually(
            lambda: self.client.replies_to(tweet_id), timeout=timeout, what=f"a reply to tweet {tweet_id}"
        )
        text = str(replies[-1]["text"])
        outcome = outcome_of_reply(text)
        self.check(outcome is not None, f"the reply {text!r} announces no known outcome")
        return str(outcome)

    async def expect_reply(self, tweet_id: str, outcome: str, *, timeout: float = 10.0) -> str:
        """Wait for the reply to ``tweet_id``; it must announce ``outcome``; returns its text."""
        got = await self.reply_outcome(tweet_id, timeout=timeout)
        replies = await self.client.replies_to(tweet_id)
        text = str(replies[-1]["text"])
        self.check(got == outcome, f"expected a {outcome} reply to {tweet_id}, got {got}: {text!r}")
        self.check(len(replies) == 1, f"{len(replies)} replies to one tweet (expected one)")
        return text

    async def expect_dm(self, user: XUser, outcome: str, *, after: int = 0, timeout: float = 10.0) -> str:
        pattern = REPLY_PATTERNS[outcome]

        async def probe() -> str | None:
            for text in (await self.client.dms_to(user))[after:]:
                if pattern.search(text):
                    return text
            return None

        return await eventually(probe, timeout=timeout, what=f"a {outcome} DM to @{user.username}")

    async def expect_sms(self, number: str, pattern: str, *, timeout: float = 10.0) -> str:
        """Wait until the handset got an SMS matching ``pattern``; returns its body."""
        compiled = re.compile(pattern)

        async def probe() -> str | None:
            for message in await self.client.handset(number):
                if compiled.search(str(message.get("body", ""))):
                    return str(message["body"])
            return None

        return await eventually(probe, timeout=timeout, what=f"an SMS /{pattern}/ on {number}")

    async def register(self, customer: Customer) -> None:
        """#reg by tweet, then the code from the handset tweeted back: the handle is linked."""
        before = len(await self.client.handset(customer.msisdn))
        reg = await self.mention(customer, f"#reg {customer.local}")
        await self.expect_reply(reg, "code_sent")
        code = await self.client.code_for(customer.msisdn, after=before)
        verify = await self.mention(customer, code)
        await self.expect_reply(verify, "registered")

    async def balance(self, msisdn: str) -> int:
        return int((await self.client.admin(f"/admin/subscribers/{msisdn}"))["balance_paise"])


@dataclass(frozen=True)
class Result:
    """How one scenario went."""

    name: str
    story: str
    passed: bool
    seconds: float
    error: str = ""
    detail: str = ""
    notes: tuple[str, ...] = ()
    skipped: bool = False


def select(names: Iterable[str] | None = None, keyword: str | None = None) -> list[Scenario]:
    """Registered scenarios (in registration order), by exact names and/or a ``-k`` substring."""
    chosen = list(SCENARIOS.values())
    if names:
        wanted = list(names)
        unknown = [n for n in wanted if n not in SCENARIOS]
        if unknown:
            raise KeyError(f"unknown scenario(s): {', '.join(unknown)}")
        chosen = [SCENARIOS[n] for n in wanted]
    if keyword:
        chosen = [s for s in chosen if keyword.casefold() in s.name.casefold()]
    return chosen


async def run_scenarios(
    client: StackClient,
    scenarios: Iterable[Scenario],
    *,
    seed: int | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Run ``scenarios`` one after another; every failure is caught and reported, never raised."""
    rng = random.Random(seed if seed is not None else time.time_ns())
    run_tag = f"{rng.randrange(36**3):03x}"
    results: list[Result] = []
    serial = itertools.count(1)  # handles unique across the run
    for item in scenarios:
        context = ScenarioContext(client, random.Random(rng.random()), run_tag, serial)
        started = time.perf_counter()
        try:
            await client.settle()
            await client.advance_x_clock(FRESH_WINDOW_S)
            await asyncio.wait_for(item.run(context), item.timeout_s)
            await client.settle()
            result = Result(
                item.name, item.story, True, time.perf_counter() - started, notes=tuple(context.notes)
            )
        except ScenarioSkipped as exc:
            result = Result(
                item.name,
                item.story,
                True,
                time.perf_counter() - started,
                str(exc),
                notes=tuple(context.notes),
                skipped=True,
            )
        except (ScenarioFailed, StackNotReady, TimeoutError, AssertionError) as exc:
            message = str(exc) or type(exc).__name__
            result = Result(
                item.name,
                item.story,
                False,
                time.perf_counter() - started,
                message,
                traceback.format_exc(),
                tuple(context.notes),
            )
        except Exception as exc:  # a bug in the scenario or an unexpected answer: a failure too
            result = Result(
                item.name,
                item.story,
                False,
                time.perf_counter() - started,
                f"{type(exc).__name__}: {exc}",
                traceback.format_exc(),
                tuple(context.notes),
            )
        finally:
            await _cleanup(client)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


async def _cleanup(client: StackClient) -> None:
    """Leave no fault behind for the next scenario."""
    try:
        await client.x_faults(None)
    except Exception:  # the stack may be gone; the next scenario will report it
        return


def write_junit(results: list[Result], path: Path, *, suite: str = "twittcom.scenarios") -> None:
    """JUnit XML (one testsuite, one testcase per scenario, the story as its system-out)."""
    failures = sum(1 for r in results if not r.passed)
    skipped = sum(1 for r in results if r.skipped)
    total = sum(r.seconds for r in results)
    root = ET.Element(
        "testsuites",
        name=suite,
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        time=f"{total:.3f}",
    )
    node = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{total:.3f}",
    )
    for r in results:
        case = ET.SubElement(node, "testcase", classname=suite, name=r.name, time=f"{r.seconds:.3f}")
        if r.skipped:
            ET.SubElement(case, "skipped", message=r.error[:500])
        elif not r.passed:
            failure = ET.SubElement(case, "failure", message=r.error[:500], type="ScenarioFailed")
            failure.text = r.detail
        out = ET.SubElement(case, "system-out")
        out.text = r.story + ("\n\nobserved:\n" + "\n".join(r.notes) if r.notes else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
