"""The offered steps of ``twittcom sweep SCENARIO --against ...`` and its calibration probe.

:class:`Offerer` offers one step to the running system: open-loop Poisson posts of the scenario's
mix through fake X, each by a new user (:mod:`loadtests.x_posts`, in a process of its own, its CPU
reported); it waits until the fakes go quiet (their counters only: reading the records themselves
would hold the system's last answers back), then until every timed event is answered (or answers
stop coming), and reads each event's first answer from the fakes. :func:`probe` finds the
system's capacity with such steps, from below, and the read cost of its polling rounds.
"""

from __future__ import annotations

import json
import math
import random
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from loadtests.sweep_driver import DriverResult, exact_offsets, poisson_offsets
from loadtests.sweep_steps import StepFigures, step_figures
from loadtests.x_posts import (
    PostEvent,
    drive_posts_in_subprocess,
    first_answers,
    mention_rounds,
    post_requests,
    wait_until_quiet,
)
from scenario import Scenario
from simulator.polled_sweep import KINDS, MENTIONS_DEPTH, read_cost_per_message

__all__ = ["Offerer", "Probe", "probe"]


@dataclass(frozen=True)
class Probe:
    """What the probe found: its last step, the rate the system finished at, whether its workers
    (not its reads) held it back, and its polling rounds' time beyond the interval
    (:func:`simulator.polled_sweep.read_cost_per_message`: s per mention read, and stalls)."""

    figures: dict[str, Any]
    finished: float
    read_cost: float
    stalls: tuple[float, ...]
    workers_bound: bool


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Offerer:
    """Offers steps to the running system: new users, new numbers, the posts, the answers."""

    def __init__(
        self, scenario: Scenario, x_url: str, sms_url: str, population: dict[str, Any], seed: int
    ) -> None:
        self.x_url, self.sms_url, self.seed = x_url, sms_url, seed
        self.operator = str(population["operator"]["handle"])
        self.operator_id = str(population["operator"]["user_id"])
        self.numbers = [s["msisdn"] for s in population["subscribers"] if s["active"] and s["prepaid"]]
        self.pack = str(population["packs"][0]["hashtag"]) if population["packs"] else "TD49DEL"
        mix = scenario.arrivals.mix
        self.shares = [mix.share(k) for k in KINDS]
        self.users = 0
        self.step = 0
        ing = scenario.system.ingestion
        self.polling, self.poll_interval = ing.mode == "polling", ing.poll_interval_s
        # no new answer for this long: the system is done with the step (a poll period and more)
        self.quiet_s = 0.5 + 2 * max(ing.poll_interval_s, ing.dm_poll_interval_s if self.polling else 1.0)
        self.last_events: list[PostEvent] = []
        self.last_offsets: list[float] = []
        self.record: Path | None = None  # each step's events and answers, one JSON line per step

    def _new_users(self, count: int) -> list[tuple[str, str]]:
        made: list[tuple[str, str]] = []
        with httpx.Client(timeout=120) as client:
            while len(made) < count:
                chunk = min(1000, count - len(made))
                names = [{"username": f"sw{self.users + i}"} for i in range(chunk)]
                self.users += chunk
                reply = client.post(f"{self.x_url}/_fake/users", json={"users": names})
                if reply.status_code != 201:
                    raise RuntimeError(f"fake X refused the sweep's users: {reply.text[:200]}")
                made += [(str(u["id"]), str(u.get("bearer_token", ""))) for u in reply.json()["data"]]
        return made

    def _events(self, count: int) -> list[PostEvent]:
        rng = random.Random(f"{self.seed}/{self.step}/kinds")
        users = self._new_users(count)
        out = []
        total = sum(self.shares)
        for n, (user_id, token) in enumerate(users):
            u, acc, kind = rng.random() * total, 0.0, KINDS[-1]
            for name, share in zip(KINDS, self.shares, strict=True):
                acc += share
                if u <= acc:
                    kind = name
                    break
            number, text = "", f"@{self.operator} hello there {n}"
            if kind == "reg":
                if not self.numbers:
                    raise RuntimeError(
                        "the population has no unregistered number left: a larger --population-size"
                    )
                number = self.numbers.pop()
                text = f"@{self.operator} #reg {number.removeprefix('+91')}"
            elif kind == "act":
                text = f"@{self.operator} #act #{self.pack}"
            elif kind == "dm":
                text = f"act {self.pack}"
            out.append(PostEvent(kind, user_id, token, text, number))
        return out

    def run(
        self, rate: float, seconds: float, drain_s: float, log: Callable[[str], None], exact: bool = False
    ) -> tuple[StepFigures, dict[int, float], DriverResult]:
        """One step; ``exact``: exactly ``rate * seconds`` events (a knee refinement), else Poisson."""
        self.step += 1
        offsets = (exact_offsets if exact else poisson_offsets)(rate, seconds, self.seed * 1000 + self.step)
        events = self._events(len(offsets))
        self.last_events, self.last_offsets = events, offsets
        payloads = post_requests(self.x_url, self.operator_id, events)
        own0, t0 = _own_cpu(), time.monotonic()
        driven = drive_posts_in_subprocess(self.x_url, offsets, payloads)
        fakes_cores = (_own_cpu() - own0) / max(1e-9, time.monotonic() - t0)
        timed = [i for i, e in enumerate(events) if e.kind != "noise"]
        answers: dict[int, float] = {}
        deadline, last_change, count = time.monotonic() + drain_s, time.monotonic(), -1
        wait_until_quiet(self.x_url, self.sms_url, self.quiet_s, deadline)
        while time.monotonic() < deadline:
            answers = first_answers(self.x_url, self.sms_url, self.operator_id, events, driven.start_epoch)
            if len(answers) >= len(timed):
                break
            if len(answers) != count:
                count, last_change = len(answers), time.monotonic()
            elif time.monotonic() - last_change > 8.0:
                break  # answers stopped coming: the rest count as unanswered (at the read time)
            time.sleep(1.0)
        only = DriverResult(
            driven.start_epoch,
            [driven.scheduled[i] for i in timed],
            [driven.answered[i] for i in timed],
            [driven.statuses[i] for i in timed],
            driven.cpu_s,
            driven.wall_s,
            driven.max_lateness_s,
            driven.process_cpu_s,
        )
        done = {j: answers[i] for j, i in enumerate(timed) if i in answers}
        if self.record is not None:
            with self.record.open("a", encoding="utf-8") as out:
                out.write(json.dumps({
                    "step": self.step, "rate": rate, "seconds": seconds, "start": driven.start_epoch,
                    "offsets": offsets, "kinds": [e.kind for e in events],
                    "answers": {str(i): t for i, t in answers.items()},
                }) + "\n")  # fmt: skip
        extra = {
            "driver_cores": driven.cpu_s / max(1e-9, driven.wall_s),
            "driver_cpu_per_post_ms": 1e3 * driven.cpu_s / max(1, len(offsets)),
            "driver_max_lateness_s": driven.max_lateness_s,
            "posts_offered": float(len(offsets)),
            "posts_accepted": float(driven.accepted),
            "sink_cores": fakes_cores,  # the fakes, served in this process, are the system's sink
            "service_cores": math.nan, "busiest_process_cores": math.nan, "database_cores": math.nan,
            "background_cores": math.nan, "background_threads": math.nan,
            "inbound_pending_max": math.nan, "outbox_due_max": math.nan,
            "unanswered": float(len(timed) - len(done)),
            **{f"unanswered_{k}": float(sum(1 for i in timed if events[i].kind == k and i not in answers))
               for k in KINDS[1:]},
        }  # fmt: skip
        figures = step_figures(rate, seconds, only, done, time.time(), extra)
        # the rates of the whole mix (noise included), the latencies of the timed events
        scale = len(offsets) / max(1, len(timed))
        figures = replace(figures, offered=len(offsets), accepted=driven.accepted,
                          processed_in_step=round(figures.processed_in_step * scale))  # fmt: skip
        return figures, done, only


def _answered_rate(figures: StepFigures, done: dict[int, float], driven: DriverResult) -> float:
    """Events/s (whole mix) a saturated system answered at while the posts still came (as in a
    step: the driver and the fakes busy beside it): answers from its first to the probe's end,
    scaled from the timed events to the whole mix."""
    end = driven.start_epoch + figures.seconds
    first = min(done.values(), default=end)
    inside = sum(1 for t in done.values() if t <= end)
    if inside < 3 or end - first <= 0:
        return 0.0
    return (inside - 1) * figures.offered / max(1, len(driven.scheduled)) / (end - first)


def probe(
    offerer: Offerer, estimate: float, seconds: float, drain: float, log: Callable[[str], None]
) -> Probe:
    """The calibration probe: steps from the calibrated capacity, 1.5 times more each, until the
    system falls behind (its answers end at least half the probe's length after its posts: a
    backlog long enough that the poll period does not blur the rate) or loses mentions (more than
    0.5 % never answered: a poller more than X's newest 800 mentions behind); the rate it finished
    at then, whether its workers were what held it (not its reads), and its polling rounds' cost.
    Ramping from below keeps the probe near the capacity: far above it, a poller reads only the
    newest 800 mentions a round and a backlog drains in larger, cheaper batches than any step sees."""
    rate, finished, figures, workers_bound = estimate, 0.0, None, True
    posts: list[float] = []  # the probes' mentions and when each probe posted them: the read cost
    windows: list[tuple[float, float]] = []
    for _ in range(6):
        figures, done, driven = offerer.run(rate, seconds, drain, log)
        posts += [driven.start_epoch + offerer.last_offsets[i] for i, e in enumerate(offerer.last_events)
                  if e.kind != "dm"]  # fmt: skip
        windows.append((driven.start_epoch, driven.start_epoch + seconds))
        finished = _answered_rate(figures, done, driven)
        behind = max(done.values(), default=0.0) - (driven.start_epoch + seconds)
        mentions = sum(1 for e in offerer.last_events if e.kind in ("reg", "act"))
        unread = figures.extra["unanswered_reg"] + figures.extra["unanswered_act"]
        lost = unread > 0.005 * mentions
        # the workers were the bottleneck: a backlog, or answers well behind what was read
        workers_bound = behind >= 0.5 * seconds or finished < 0.85 * (figures.offered - unread) / seconds
        log(
            f"probe: offered {figures.offered_rate:.1f}/s, finished {finished:.1f}/s "
            f"(model: {estimate:.1f}/s), answers end {behind:+.1f} s after the posts, "
            f"{unread:.0f} of {mentions} mentions unanswered"
        )
        if lost or behind >= 0.5 * seconds:
            break
        rate *= 1.5
    read_cost, stalls = 0.0, ()  # type: tuple[float, tuple[float, ...]]
    if figures is not None and offerer.polling:
        interval = offerer.poll_interval
        rounds = mention_rounds(offerer.x_url, 0.25 * interval)
        read_cost, stalls = read_cost_per_message(rounds, posts, interval, windows, MENTIONS_DEPTH)
        ordered = sorted(stalls) or [0.0]
        log(
            f"probe: polling rounds take {read_cost * 1e3:.2f} ms per mention read beyond the interval, "
            f"and stall {ordered[len(ordered) // 2] * 1e3:.0f} ms (median) to {ordered[-1] * 1e3:.0f} ms "
            f"(longest of {len(stalls)})"
        )
    return Probe({} if figures is None else figures.as_json(), finished, read_cost, stalls, workers_bound)
