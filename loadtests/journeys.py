"""What each actor does, as plain functions over injected HTTP, clock, sleep, randomness and metrics.

Locust's users (:mod:`loadtests.locustfile`) are thin: each calls one journey here with its own HTTP
transport. The journeys talk only to the fakes' APIs and control routes (never the processor):

- **new subscriber**: tweets ``@operator #reg <mobile>``, polls its handset at the SMS fake for the
  code, tweets it back after the scenario's reply delay (sometimes mistyped, then retried), gives up
  if the code comes later than ``abandon_after_s``, and then (``buy_share``) buys its circle's pack;
- **repeat buyer**: a registered user tweets ``@operator #act #PACK``;
- **DM buyer**: the same by DM to the operator;
- **complainer**: tweets noise at the operator.

Measured: code latency (``#reg`` created at X -> code on the handset) split into the carrier's share
(handset receipt - SMS created, on the SMS fake's carrier clock) and the rest (the processor's
share, ingestion included), and activation latency (``#act`` accepted -> first confirmation: the
SMS on the handset or the operator's reply in the user's mentions/DMs).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from loadtests.config import LoadtestConfig
from loadtests.drain import all_lost
from loadtests.handset_wait import HandsetReader
from loadtests.journey_records import Account, Transport, classify, national_number, snowflake_time
from loadtests.journey_watch import ConfirmationWatch
from loadtests.metrics import MetricSink
from loadtests.population import Subscriber, SubscriberPool
from scenario import UserBehaviour

__all__ = [
    "Account",
    "JourneyKit",
    "Transport",
    "classify",
    "national_number",
    "snowflake_time",
]

#: fake-X users created ahead per request (``POST /_fake/users`` with ``{"users": [...]}``)
ACCOUNT_BATCH = 50


@dataclass
class JourneyKit(ConfirmationWatch):
    """Per-process state shared by the actors: population, registered accounts, samplers, sink."""

    config: LoadtestConfig
    behaviour: UserBehaviour
    population: SubscriberPool
    sink: MetricSink
    now: Callable[[], float]
    sleep: Callable[[float], None]
    rng: random.Random
    operator_id: str
    sms_time_scale: float = 1.0
    tag: str = "w0"
    #: how far fake X's clock runs ahead of the wall clock (``twittcom scenarios`` moves it forward)
    x_clock_offset_s: float = 0.0
    registered: list[Account] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: new subscribers waiting for their code: journey key -> (msisdn, circle, when they give up)
    waiting_codes: dict[int, tuple[str, str, float]] = field(default_factory=dict)
    _complainer: Account | None = None
    _spare_accounts: list[tuple[str, str, str]] = field(default_factory=list)
    _batches_work: bool = True
    #: per number, the newest handset delivery a journey has read (a later wait starts past it)
    handset_marks: dict[str, float] = field(default_factory=dict)
    _complaints: int = 0
    #: X's POST /2/tweets limit per user token (a complainer account tweets at most this many - 1)
    config_user_tweet_limit: int = 10**9

    def __post_init__(self) -> None:
        self.reply_delay = self.behaviour.code_reply_delay.sampler(self.rng)
        self.buy_delay = self.behaviour.buy_delay.sampler(self.rng)
        cfg = self.config
        self.handsets = HandsetReader(
            cfg.sms_url, wait_s=cfg.handset_wait_s, poll_s=cfg.poll_interval_s, now=self.now, sleep=self.sleep
        )

    # ---- helpers -------------------------------------------------------------------------------
    def _username(self) -> str:
        return f"l{self.config.run_tag[:4]}{self.tag}x{next(self._serial)}"[:15]

    def new_account(self, http: Transport, subscriber: Subscriber | None = None) -> Account | None:
        """A fresh fake-X user for one journey (usernames unique per run, process and journey), taken
        from a batch created ahead in one request (the person exists before the journey; creating
        them is the harness's set-up, not the user's action), or created alone if batches fail."""
        if not self._spare_accounts and self._batches_work:
            names = [{"username": self._username()} for _ in range(ACCOUNT_BATCH)]
            body = http(
                "POST", self._x("/_fake/users"), name="POST /_fake/users (batch)", json={"users": names}
            )
            if body is None:
                self._batches_work = False
            else:
                self._spare_accounts.extend(
                    (str(u["id"]), str(u["username"]), str(u["bearer_token"])) for u in body["data"]
                )
        if self._spare_accounts:
            user_id, username, token = self._spare_accounts.pop()
            return Account(user_id, username, token, subscriber)
        username = self._username()
        body = http("POST", self._x("/_fake/users"), name="POST /_fake/users", json={"username": username})
        if body is None:
            return None
        return Account(str(body["id"]), username, str(body["bearer_token"]), subscriber)

    def tweet(self, http: Transport, account: Account, text: str, name: str) -> str | None:
        """Post a tweet as ``account``; its id, or None on failure."""
        body = http("POST", self._x("/2/tweets"), name=name, json={"text": text}, headers=account.auth)
        return None if body is None else str(body["data"]["id"])

    def stand_in_sms(self, http: Transport, to: str, text: str) -> None:
        """Stand-in mode: send the SMS the processor would send, through the fake's Twilio API."""
        cfg = self.config
        http(
            "POST",
            self._sms(f"/2010-04-01/Accounts/{cfg.sms_account_sid}/Messages.json"),
            name="POST Messages.json (stand-in)",
            data={"To": to, "From": cfg.sms_from, "Body": text},
            auth=(cfg.sms_account_sid, cfg.sms_auth_token),
        )

    def sent_to(self, http: Transport, msisdn: str) -> list[dict[str, Any]]:
        """The gateway's latest messages to ``msisdn`` with their status (its outbox)."""
        body = http("GET", self._sms(f"/_fake/outbox?to={quote(msisdn)}&limit=5"), name="GET outbox")
        return list((body or {}).get("messages", []))

    # ---- journeys ------------------------------------------------------------------------------
    def new_subscriber(self, http: Transport, scheduled_at: float | None = None) -> str:
        """Register by tweet, read the code on the handset, tweet it back, maybe buy. Returns the outcome.

        The code latency counts from ``scheduled_at`` (the journey's scheduled start, so a late
        start is not hidden: no coordinated omission), or from the ``#reg`` tweet's creation."""
        subscriber = self.population.take_unused()
        if subscriber is None:
            return self._done("new_subscriber", "population_exhausted")
        account = self.new_account(http, subscriber)
        if account is None:
            return self._done("new_subscriber", "error")
        op = self.config.operator_handle
        reg_id = self.tweet(
            http, account, f"@{op} #reg {national_number(subscriber.msisdn)}", "POST /2/tweets #reg"
        )
        if reg_id is None:
            return self._done("new_subscriber", "error")
        reg_at = self.x_time(reg_id)
        code = f"{self.rng.randrange(10**6):06d}"
        if self.config.stand_in:
            self.stand_in_sms(
                http, subscriber.msisdn, f"Your Twittcom code is {code}. It is valid for 10 minutes."
            )
        key = next(self._serial)
        gives_up = self.now() + self.behaviour.abandon_after_s
        self.waiting_codes[key] = (subscriber.msisdn, subscriber.circle, gives_up)
        message = self._await_code(http, subscriber.msisdn, reg_at, self.behaviour.abandon_after_s)
        del self.waiting_codes[key]  # not in a finally: a journey killed at the end stays counted
        if message is None:
            lost = self.sent_to(http, subscriber.msisdn)
            return self._done("new_subscriber", "code_lost" if all_lost(lost) else "abandoned_late_code")
        code = message[1]
        origin = reg_at if scheduled_at is None else min(reg_at, scheduled_at)
        self._code_latency(http, message[0], origin, subscriber.circle)
        code_id = self._reply_code(http, account, code)
        if code_id is None:
            return self._done("new_subscriber", "abandoned_max_attempts")
        if not self.config.stand_in and not self._await_registration(http, account, code_id):
            return self._done("new_subscriber", "registration_unconfirmed")
        self.registered.append(account)
        self._done("new_subscriber", "registered")
        if self.rng.random() < self.behaviour.buy_share:
            self._pause(self.buy_delay())
            return self.buy(http, account, channel="tweet", actor="new_subscriber", intended_at=self.now())
        return "registered"

    def preregister(self, http: Transport) -> bool:
        """Warm-up: register one account (no typos, no delays, no buy); True when it got registered."""
        subscriber = self.population.take_unused()
        account = None if subscriber is None else self.new_account(http, subscriber)
        if account is None or subscriber is None:
            return False
        op = self.config.operator_handle
        reg_id = self.tweet(http, account, f"@{op} #reg {national_number(subscriber.msisdn)}", "warm-up #reg")
        if reg_id is None:
            return False
        found = self._await_code(http, subscriber.msisdn, self.x_time(reg_id), self.behaviour.abandon_after_s)
        if found is None:
            return False
        code_id = self.tweet(http, account, f"@{op} #code {found[1]}", "warm-up #code")
        if code_id is None or not self._await_registration(http, account, code_id):
            return False
        self.registered.append(account)
        return True

    def repeat_buyer(self, http: Transport, scheduled_at: float | None = None) -> str:
        """A registered user tweets ``#act #PACK`` (a fresh, unregistered user before anyone registered)."""
        account = self._buyer(http)
        if account is None:
            return "error"
        return self.buy(http, account, channel="tweet", actor="repeat_buyer", intended_at=scheduled_at)

    def dm_buyer(self, http: Transport, scheduled_at: float | None = None) -> str:
        """A registered user buys by DM to the operator."""
        account = self._buyer(http)
        if account is None:
            return "error"
        return self.buy(http, account, channel="dm", actor="dm_buyer", intended_at=scheduled_at)

    def complainer(self, http: Transport) -> str:
        """A mention that is not a command (chatter, complaints)."""
        per_account = max(1, min(50, self.config_user_tweet_limit - 1))
        if self._complainer is None or self._complaints >= per_account:
            self._complainer, self._complaints = self.new_account(http), 0
        if self._complainer is None:
            return self._done("complainer", "error")
        self._complaints += 1
        words = self.rng.choice(("no signal again", "network down?", "calls dropping", "love the new packs"))
        text = f"@{self.config.operator_handle} {words} #{self.tag}n{next(self._serial)}"
        ok = self.tweet(http, self._complainer, text, "POST /2/tweets noise") is not None
        return self._done("complainer", "sent" if ok else "error")

    def buy(
        self, http: Transport, account: Account, *, channel: str, actor: str, intended_at: float | None = None
    ) -> str:
        """Buy the account's circle pack by tweet or DM and wait for the first confirmation; the
        activation latency counts from ``intended_at`` (when the buyer meant to send it) when given."""
        sub = account.subscriber
        balance = self.balance_of(sub)
        pack = self.population.pack_for(sub.circle if sub else "", self.rng, balance)
        hashtag = pack.hashtag if pack else "LTNOPACK"
        op = self.config.operator_handle
        if channel == "dm":
            path = f"/2/dm_conversations/with/{self.operator_id}/messages"
            body = http(
                "POST",
                self._x(path),
                name="POST DM act",
                json={"text": f"act {hashtag}"},
                headers=account.auth,
            )
            sent_id = None if body is None else str(body["data"]["dm_event_id"])
        else:
            sent_id = self.tweet(
                http, account, f"@{op} #act #{hashtag} {next(self._serial)}", "POST /2/tweets #act"
            )
        if sent_id is None:
            return self._done(actor, "error")
        accepted = self._created_at(sent_id)
        if self.config.stand_in and sub is not None:
            self.stand_in_sms(http, sub.msisdn, f"Twittcom: {hashtag} activated, valid till tomorrow.")
        found = self._await_confirmation(http, account, channel, sent_id, accepted)
        if found is None:
            return self._done(actor, "unconfirmed")
        outcome, at = found
        if outcome == "activated":
            origin = accepted if intended_at is None else min(accepted, intended_at)
            self.sink.latency("activation_latency", max(0.0, at - origin))
            if channel == "dm":  # the DM buyers' own figure too: their answers wait for a DM poll
                self.sink.latency("dm_activation_latency", max(0.0, at - origin))
            if sub is not None and pack is not None and balance is not None:
                self.balances[sub.msisdn] = balance - pack.price_paise
        return self._done(actor, outcome)

    def balance_of(self, subscriber: Subscriber | None) -> int | None:
        """The balance this run believes ``subscriber`` has (its directory balance minus our buys)."""
        if subscriber is None:
            return None
        return self.balances.get(subscriber.msisdn, subscriber.balance_paise)

    def _buyer(self, http: Transport) -> Account | None:
        """A registered account, preferring one whose balance covers a pack (people who can pay buy)."""
        if self.registered:
            for _ in range(5):
                account = self.rng.choice(self.registered)
                sub = account.subscriber
                cheapest = self.population.cheapest(sub.circle) if sub else None
                balance = self.balance_of(sub)
                if cheapest is None or balance is None or balance >= cheapest:
                    return account
            return account
        subscriber = self.population.take_unused() if self.config.stand_in else None
        return self.new_account(http, subscriber)

    def _reply_code(self, http: Transport, account: Account, code: str) -> str | None:
        """Tweet the code back (mistyped first with ``typo_rate``); the id of the right one, or None."""
        op = self.config.operator_handle
        for attempt in range(1, self.behaviour.max_code_attempts + 1):
            self._pause(self.reply_delay())
            typo = self.rng.random() < self.behaviour.typo_rate
            sent = f"{(int(code) + 1 + self.rng.randrange(999_998)) % 10**6:06d}" if typo else code
            name = f"POST /2/tweets #code (try {attempt})"
            tweet_id = self.tweet(http, account, f"@{op} #code {sent}", name)
            if tweet_id is None:
                return None
            if not typo:
                return tweet_id
        return None

    def _pause(self, seconds: float) -> None:
        """The user's think time; none is none (no round through the event loop)."""
        if seconds > 0:
            self.sleep(seconds)

    def _done(self, actor: str, outcome: str) -> str:
        self.sink.outcome(actor, outcome)
        return outcome
