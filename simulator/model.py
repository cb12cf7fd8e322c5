"""The simpy model of the whole Twittcom flow.

Stations and actors, in the order a registration meets them::

    arrivals (NHPP by thinning) -> ingestion (polling: interval, page size, rate limit | webhook delay)
      -> processor workers (FIFO, per-command service times) -> SMS sender (mps cap, validity)
      -> carrier (latency, failures, outages per circle) -> user (read + reply delay, typos,
      abandonment) -> ingestion -> workers (code check) -> user buys (#act) -> ingestion -> workers
      -> activation, confirmed by a reply (X write budget) and an SMS (same sender queue); the
      activation latency ends at the first confirmation the buyer sees (the reply tweet or DM
      answer, or the SMS on the handset when the write budget dropped the reply).

Every message the processor sends goes through the same stations and is counted per kind in
``RunRecord.messages``: the code SMS, the "number linked" SMS of each registration, the purchase
confirmation SMS, reply tweets (to ``#reg``, ``#code`` and ``#act``, within the X write budget)
and DM answers; chatter and complaints get no answer.

The pollers and the depth sampler are simpy processes; every job with consequences downstream is
one simpy timeout whose callback carries the journey on. Infinite-server stages (carrier, user
delays) are exact as scheduled times rather than processes, and FIFO stations use the exact
recursions of :mod:`simulator.stations`, so simpy's cost is a few events per journey.
Determinism: one :class:`random.Random` per component, seeded from the run seed and its name.
"""

from __future__ import annotations

import bisect
import gc
import heapq
import random
import time
from collections import deque
from collections.abc import Callable
from itertools import accumulate, count
from math import ceil
from operator import itemgetter
from typing import Any

import simpy
from simpy.events import Timeout

from scenario import Scenario
from simulator.carrier import Carrier
from simulator.journey import ACT, CODE, DM, NOISE, REG, Journey, RunRecord
from simulator.stations import BusyMeter, FifoServers, RateCappedSender, SmppSubmit, WindowBudget
from simulator.utilisation import budget_summary, depth_sampler, meter_bin_s, run_utilisation

__all__ = ["TwittcomModel"]

_COMMANDS = ("noise", "reg", "act", "dm", "code")
_by_time = itemgetter(0)


class TwittcomModel:
    """One run of a scenario; build, then :meth:`run` (optionally with a progress callback)."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = sc = scenario
        self.seed = sc.run.seed if seed is None else seed
        self.env = env = simpy.Environment()
        self.record = RunRecord(sc, self.seed)
        rng = self._rng
        self._arrivals = sc.arrivals.stream(rng("arrivals"))
        self._end_arrivals = sc.run.duration_s
        first = next(self._arrivals, None)
        self._next_arrival: tuple[float, int] | None = (
            first if first is not None and first[0] < self._end_arrivals else None
        )
        self._pop_rng = rng("population").random
        self._user_rng = rng("user").random
        self._carrier_rng = rng("carrier").random
        self._service = [sc.system.workers.service_of(c).sampler(rng(f"service/{c}")) for c in _COMMANDS]
        self._reply_delay = sc.user.code_reply_delay.sampler(rng("user/reply"))
        self._buy_delay = sc.user.buy_delay.sampler(rng("user/buy"))
        self._carrier_latency = sc.system.carrier.latency.sampler(rng("carrier/latency"))
        self._confirm_latency = sc.system.carrier.latency.sampler(rng("carrier/confirmations"))
        self._confirm_rng = rng("carrier/confirmation-outcomes").random
        self._run_end = sc.run.duration_s + sc.run.drain_s
        self._webhook_delay = sc.system.ingestion.webhook_delay.sampler(rng("ingestion/webhook"))
        self.workers = FifoServers(sc.system.workers.count)
        sms = sc.system.sms
        self.sms = RateCappedSender(sms.mps, sms.validity_s, sms.pool_size)
        bin_s = meter_bin_s(sc.run.duration_s)
        self.workers.meter = BusyMeter(bin_s, self._run_end)
        self.sms.meter = BusyMeter(bin_s, self._run_end)
        self._sms_slot = self.sms.slot_s
        smpp = sms.smpp
        self.smpp: SmppSubmit | None = None
        if sms.protocol == "smpp":  # submit_sm caps and binds x window, then the SMSC's sender
            self.smpp = SmppSubmit(smpp.rate_cap, smpp.binds * smpp.window, smpp.submit_latency_s,
                                   sms.validity_s)  # fmt: skip
        xb = sc.system.x_budget
        self.reply_user = WindowBudget(xb.user_limit, xb.user_window_s)
        self.reply_app = WindowBudget(xb.app_limit, xb.app_window_s)
        self._reply_kinds = {_COMMANDS.index(k) for k in xb.reply_to}
        ing = sc.system.ingestion
        self.mentions_limit = WindowBudget(ing.rate_limit_requests, ing.rate_limit_window_s)
        self.dm_limit = WindowBudget(ing.dm_rate_limit_requests, ing.dm_rate_limit_window_s)
        pop = sc.population
        self._unclaimed = round(pop.followers * (1 - pop.registered_share))
        self.registered = pop.followers - self._unclaimed
        names = [name for name, _ in pop.circles]
        self._circle_cum = list(accumulate(share for _, share in pop.circles))
        self._circle_cum[-1] = 1.0 + 1e-12
        self._handset_time = Carrier(sc, names, self._sms_slot).handset_time
        # settings read on every journey, hoisted out of the dataclass chains
        self._polling = ing.mode == "polling"
        self._confirm_activations = sc.system.sms.confirm_activations
        self._otp_ttl = sc.system.otp_ttl_s
        self._abandon_after = sc.user.abandon_after_s
        self._typo_rate = sc.user.typo_rate
        self._max_attempts = sc.user.max_code_attempts
        self._buy_share = sc.user.buy_share
        self._done_cb = self._done
        self._user_tweets: list[tuple[float, int, int, Journey | None]] = []  # heap (time, seq, kind, j)
        self._seq = count()
        self._mention_backlog: deque[tuple[float, int, Journey | None]] = deque()
        self._dm_backlog: deque[tuple[float, int, Journey | None]] = deque()
        if ing.mode == "polling":
            env.process(
                self._poller(ing.poll_interval_s, self.mentions_limit, self._mention_backlog, ing.page_size)
            )
            env.process(self._poller(ing.dm_poll_interval_s, self.dm_limit, self._dm_backlog, ing.page_size))
        elif self._next_arrival is not None:
            Timeout(env, self._next_arrival[0]).callbacks.append(self._webhook_arrival)
        queues = (self.workers, self.sms, self.smpp, self._mention_backlog, self._dm_backlog)
        env.process(depth_sampler(env, self.record.samples, sc.run.sample_interval_s, *queues))

    def _rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}/{name}")

    # -- running ---------------------------------------------------------------------------------
    def run(self, progress: Callable[[float, float], None] | None = None, chunks: int = 50) -> RunRecord:
        """Run arrivals for the scenario's duration plus the drain time; return the record.

        Python's cyclic garbage collector is paused while the model runs: a run allocates millions
        of small objects that live until its end, and generation-2 scans over them took about half
        the time. The previous state is restored afterwards.
        """
        end = self.scenario.run.duration_s + self.scenario.run.drain_s
        was_enabled = gc.isenabled()
        gc.disable()
        started = time.perf_counter()
        try:
            for k in range(1, chunks + 1):
                self.env.run(until=end * k / chunks)
                if progress is not None:
                    progress(self.env.now, end)
        finally:
            if was_enabled:
                gc.enable()
        rec = self.record
        rec.wall_s = time.perf_counter() - started
        rec.end_s = end
        rec.worker_busy_s = self.workers.busy_time
        rec.sms_sent, rec.sms_expired = self.sms.sent, self.sms.expired
        budgets = self._budgets()
        rec.budgets = {name: budget_summary(budget) for name, budget in budgets.items()}
        run = self.scenario.run
        rec.utilisation = run_utilisation(
            self.workers,
            self.sms,
            budgets,
            window=(run.warmup_s, run.duration_s),
            mps=self.scenario.system.sms.mps,
            duration_s=run.duration_s,
        )
        return rec

    def _budgets(self) -> dict[str, WindowBudget]:
        return {
            "x_replies_user": self.reply_user,
            "x_replies_app": self.reply_app,
            "mentions_read": self.mentions_limit,
            "dm_read": self.dm_limit,
        }

    # -- ingestion -------------------------------------------------------------------------------
    def _take_external(self, now: float) -> None:
        """Move external arrivals up to ``now`` into the channel backlogs (polling mode)."""
        nxt, stop = self._next_arrival, self._end_arrivals
        mentions, dms, stream = self._mention_backlog, self._dm_backlog, self._arrivals
        while nxt is not None and nxt[0] <= now and nxt[0] < stop:
            t, kind = nxt
            journey = self._arrive(t, kind)
            (dms if kind == DM else mentions).append((t, kind, journey))
            nxt = next(stream, None)
        if nxt is not None and nxt[0] >= stop:
            nxt = None
        self._next_arrival = nxt

    def _arrive(self, t: float, kind: int) -> Journey | None:
        """Count an external arrival; a #reg from an unregistered follower starts a journey."""
        self.record.arrivals[kind] += 1
        if kind == ACT or kind == DM:
            self.record.buys_posted.append((t, kind))
        if kind == REG and self._unclaimed > 0:
            self._unclaimed -= 1
            circle = bisect.bisect_right(self._circle_cum, self._pop_rng())
            journey = Journey(t, circle)
            self.record.journeys.append(journey)
            return journey
        return None

    def _poller(
        self,
        interval: float,
        limit: WindowBudget,
        backlog: deque[tuple[float, int, Journey | None]],
        page: int,
    ) -> Any:
        env, user_tweets, pop = self.env, self._user_tweets, heapq.heappop
        is_mentions = backlog is self._mention_backlog
        while True:
            yield env.timeout(interval)
            now = env.now
            self._take_external(now)
            if is_mentions and user_tweets and user_tweets[0][0] <= now:
                fresh = []
                while user_tweets and user_tweets[0][0] <= now:
                    t, _, kind, journey = pop(user_tweets)
                    fresh.append((t, kind, journey))
                if backlog and backlog[-1][0] > fresh[0][0]:
                    merged = sorted([*backlog, *fresh], key=_by_time)
                    backlog.clear()
                    backlog.extend(merged)
                else:
                    backlog.extend(fresh)
            pages = limit.take(now, max(1, ceil(len(backlog) / page)))
            for _ in range(min(len(backlog), pages * page)):
                t, kind, journey = backlog.popleft()
                self._submit(now, t, kind, journey)

    def _post_user_tweet(self, t: float, kind: int, journey: Journey) -> None:
        """A subscriber tweets at future time ``t`` (a code reply or a #act)."""
        if self._polling:
            heapq.heappush(self._user_tweets, (t, next(self._seq), kind, journey))
        else:
            delay = t + self._webhook_delay() - self.env.now
            Timeout(self.env, delay, (t, kind, journey)).callbacks.append(self._webhook_delivered)

    def _webhook_arrival(self, event: simpy.Event) -> None:
        nxt = self._next_arrival
        assert nxt is not None
        t, kind = nxt
        journey = self._arrive(t, kind)
        Timeout(self.env, self._webhook_delay(), (t, kind, journey)).callbacks.append(self._webhook_delivered)
        nxt = next(self._arrivals, None)
        self._next_arrival = nxt if nxt is not None and nxt[0] < self._end_arrivals else None
        if self._next_arrival is not None:
            Timeout(self.env, self._next_arrival[0] - self.env.now).callbacks.append(self._webhook_arrival)

    def _webhook_delivered(self, event: simpy.Event) -> None:
        t, kind, journey = event._value
        self._submit(self.env.now, t, kind, journey)

    # -- processor -------------------------------------------------------------------------------
    def _submit(self, now: float, posted: float, kind: int, journey: Journey | None) -> None:
        start, done = self.workers.admit(now, self._service[kind]())
        if kind == NOISE:
            return
        if kind == REG and journey is not None and journey.t_ingest < 0:
            journey.t_ingest, journey.t_start = now, start
        Timeout(self.env, done - now, (posted, kind, journey)).callbacks.append(self._done_cb)

    def _done(self, event: simpy.Event) -> None:
        posted, kind, journey = event._value
        now = self.env.now
        answered = False
        if kind in self._reply_kinds:
            answered = self._reply(now)
        elif kind == DM:
            self.record.messages["dm_reply"] += 1  # answered by DM (no write budget on either side)
            answered = True
        if kind == REG:
            if journey is not None:
                self._send_code(now, journey)
        elif kind == CODE:
            assert journey is not None
            self._check_code(now, journey)
        elif self.registered > 0:  # ACT or DM
            if journey is not None:
                journey.t_activated = now
            confirmed: float | None = now if answered else None
            if self._confirm_activations:
                slot = self._sms_submit(now)
                self._count_sms("sms_confirmation", slot)
                if not answered and slot is not None:  # the SMS is the buyer's first confirmation
                    circle = journey.circle if journey is not None else self._buyer_circle()
                    confirmed = self._handset_time(
                        now, slot, circle, self._confirm_latency, self._confirm_rng
                    )
            # activation latency ends at the first confirmation the buyer sees; one that comes after
            # the run's end (held by an outage) is never seen, as a live run cannot see it either
            if confirmed is not None and confirmed <= self._run_end:
                self.record.activations.append((posted, confirmed, kind))
        else:
            self.record.rejected_buys.append((posted, kind))

    def _reply(self, now: float) -> bool:
        """Post a reply if both X write budgets allow it (True); otherwise it is dropped and counted."""
        user, app = self.reply_user, self.reply_app
        user_left, app_left = user.remaining(now), app.remaining(now)
        if user_left > 0 and app_left > 0:
            user.use_one(now)
            app.use_one(now)
            self.record.replies_posted += 1
            self.record.messages["reply_tweet"] += 1
            return True
        if user_left <= 0:
            user.denied += 1
        if app_left <= 0:
            app.denied += 1
        self.record.replies_dropped += 1
        return False

    # -- SMS, carrier and the subscriber ------------------------------------------------------------
    def _sms_submit(self, now: float) -> float | None:
        """The sender slot of an SMS created at ``now`` (over SMPP: once the SMSC has taken it)."""
        if self.smpp is None:
            return self.sms.submit(now)
        at = self.smpp.submit(now)
        if at is None:
            self.sms.expired += 1
            return None
        return self.sms.submit(at)

    def _count_sms(self, kind: str, dispatch: float | None) -> None:
        self.record.messages[kind if dispatch is not None else "sms_expired"] += 1

    def _send_code(self, now: float, journey: Journey) -> None:
        """The code SMS: sender queue and slot, then the carrier (latency, failure, outages).

        As at the SMS gateway: a receipt due inside an outage of the subscriber's circle is held and
        retried another sampled latency after the outage ends, unless that is past the message's
        validity (counted from its creation), and then it is lost.
        """
        journey.t_done = now
        journey.expires = now + self._otp_ttl
        slot = self._sms_submit(now)
        self._count_sms("sms_code", slot)
        if slot is None:
            journey.outcome = "sms_expired"
            return
        journey.t_dispatch = slot + self._sms_slot
        handset = self._handset_time(now, slot, journey.circle, self._carrier_latency, self._carrier_rng)
        if handset is None or handset < 0:
            journey.outcome = "sms_failed" if handset is None else "sms_expired"
            return
        delivered = handset
        journey.t_delivered = delivered
        if delivered - journey.t_reg > self._abandon_after:
            journey.outcome = "late_code"
            return
        self._reply_with_code(delivered, journey)

    def _buyer_circle(self) -> int:
        return bisect.bisect_right(self._circle_cum, self._confirm_rng())

    def _reply_with_code(self, t: float, journey: Journey) -> None:
        journey.attempts += 1
        journey.typo = self._user_rng() < self._typo_rate
        posted = t + self._reply_delay()
        if journey.t_code_reply < 0:
            journey.t_code_reply = posted
        self._post_user_tweet(posted, CODE, journey)

    def _check_code(self, now: float, journey: Journey) -> None:
        if now > journey.expires:
            journey.outcome = "otp_expired"
        elif journey.typo:
            if journey.attempts < self._max_attempts:
                self._reply_with_code(now, journey)
            else:
                journey.outcome = "max_attempts"
        else:
            journey.t_registered = now
            journey.outcome = "registered"
            self.registered += 1
            self._count_sms("sms_link", self._sms_submit(now))  # "your number is now linked"
            if self._user_rng() < self._buy_share:
                t_act = now + self._buy_delay()
                journey.t_act = t_act
                self.record.buys_posted.append((t_act, ACT))
                self._post_user_tweet(t_act, ACT, journey)
