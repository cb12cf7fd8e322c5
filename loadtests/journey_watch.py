"""What a journey's user watches for, as a base of :class:`loadtests.journeys.JourneyKit`: the code on
the handset (long-polled at the SMS fake), the processor's confirmations (an SMS or the operator's
reply at fake X), and the code latency split into the carrier's and the processor's shares."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from loadtests.config import LoadtestConfig
from loadtests.handset_wait import HandsetReader
from loadtests.journey_records import CODE_RE, Account, Transport, classify, snowflake_time
from loadtests.metrics import MetricSink

__all__ = ["ConfirmationWatch"]


class ConfirmationWatch:
    """Reads the handset and the timelines for one journey (the fields are :class:`JourneyKit`'s)."""

    config: LoadtestConfig
    sink: MetricSink
    now: Callable[[], float]
    sleep: Callable[[float], None]
    operator_id: str
    sms_time_scale: float
    x_clock_offset_s: float
    handset_marks: dict[str, float]
    handsets: HandsetReader

    def x_time(self, snowflake: str | int) -> float:
        """Wall-clock seconds at which fake X created ``snowflake`` (its clock offset taken out)."""
        return snowflake_time(snowflake) - self.x_clock_offset_s

    def _x(self, path: str) -> str:
        return f"{self.config.x_url}{path}"

    def _sms(self, path: str) -> str:
        return f"{self.config.sms_url}{path}"

    def _created_at(self, snowflake: str) -> float:
        """When X created ``snowflake`` (falls back to now for ids that are no snowflakes)."""
        now = self.now()
        created = self.x_time(snowflake) if snowflake.isdigit() else now
        return created if abs(created - now) < 60 else now

    def _await_code(
        self, http: Transport, msisdn: str, reg_at: float, patience_s: float
    ) -> tuple[dict[str, Any], str] | None:
        """The code SMS on the handset (long-polled at the fake), or None once the user gives up
        (``patience_s`` from now)."""
        deadline, after = self.now() + patience_s, reg_at - 0.001
        while self.now() < deadline:
            messages, after = self.handsets.until(http, msisdn, after, deadline)
            for message in messages:
                found = CODE_RE.search(str(message.get("body", "")))
                if found:
                    self.handset_marks[msisdn] = after
                    return message, found.group(1)
        return None

    def _code_latency(self, http: Transport, message: dict[str, Any], reg_at: float, circle: str) -> None:
        total = max(0.0, float(message["wall_time"]) - reg_at)
        self.sink.latency("code_latency", total)
        outages = self.config.outages
        if outages and all(circle.casefold() != down.casefold() for down, _, _ in outages):
            self.sink.latency("code_latency_outside_outages", total)
        created = message.get("created")  # the gateway's creation time, in the long-poll's answer
        if created is None:
            detail = http("GET", self._sms(f"/_fake/messages/{message['sid']}"), name="GET message detail")
            if detail is None or "carrier" not in detail:
                return
            created = detail["carrier"]["created"]
        created = float(created)
        carrier = max(0.0, (float(message["carrier_time"]) - created) / self.sms_time_scale)
        self.sink.latency("code_latency_carrier", min(carrier, total))
        self.sink.latency("code_latency_processor", max(0.0, total - carrier))

    def _await_registration(self, http: Transport, account: Account, code_id: str) -> bool:
        """Wait for the processor's registration confirmation (SMS or reply), as a user would."""
        sub = account.subscriber
        after = self.x_time(code_id) - 0.001
        deadline = self.now() + self.config.confirm_timeout_s
        for poll in itertools.count():
            if sub is not None:  # the handset waits up to a poll interval: the reply is checked between
                messages, after = self.handsets.until(
                    http, sub.msisdn, after, deadline, self.config.poll_interval_s
                )
                if any("linked" in str(m.get("body", "")) for m in messages):
                    self.handset_marks[sub.msisdn] = after
                    return True
            if poll % 2 == 1:
                reply = self._operator_reply(http, account, "tweet", code_id)
                if reply is not None:
                    return "linked" in reply[0]
            if self.now() >= deadline:
                return False
            if sub is None:
                self.sleep(self.config.poll_interval_s)
        return False

    def _await_confirmation(
        self, http: Transport, account: Account, channel: str, sent_id: str, accepted: float
    ) -> tuple[str, float] | None:
        deadline = accepted + self.config.confirm_timeout_s
        sub, stand_in, after = account.subscriber, self.config.stand_in, accepted - 1.0
        if sub is not None:  # what this run already read on the phone (the code) is no confirmation
            after = max(after, self.handset_marks.get(sub.msisdn, after))
        # stand-in runs confirm by SMS only: the handset's long-poll waits in full; live runs also
        # read the operator's reply, so the handset waits up to a poll interval between those reads
        wait = None if stand_in else self.config.poll_interval_s
        for poll in itertools.count():
            if sub is not None:
                messages, after = self.handsets.until(http, sub.msisdn, after, deadline, wait)
                for message in messages:
                    text = str(message.get("body", ""))
                    if "twittcom" in text.lower() and "code is" not in text and "linked" not in text:
                        self.handset_marks[sub.msisdn] = after
                        return classify(text), float(message["wall_time"])
            if not stand_in and (sub is None or poll % 2 == 1):
                reply = self._operator_reply(http, account, channel, sent_id)
                if reply is not None:
                    return classify(reply[0]), reply[1]
            if self.now() >= deadline:
                return None
            if sub is None:
                self.sleep(self.config.poll_interval_s)
        return None

    def _operator_reply(
        self, http: Transport, account: Account, channel: str, sent_id: str
    ) -> tuple[str, float] | None:
        """The operator's first answer after ``sent_id``: its text and when X created it."""
        kind = "dms" if channel == "dm" else "mentions"
        body = http(
            "GET",
            self._x(f"/_fake/timelines/{account.user_id}?kind={kind}&limit=5"),
            name=f"GET timeline {kind}",
        )
        for item in (body or {}).get("data", []):
            author = str(item.get("author_id") or item.get("sender_id") or "")
            item_id = str(item.get("id", "0"))
            if author != self.operator_id or not item_id.isdigit() or int(item_id) <= int(sent_id):
                continue
            replied = [r["id"] for r in item.get("referenced_tweets", []) if r.get("type") == "replied_to"]
            if channel == "dm" or not replied or sent_id in replied:
                text = str(item.get("text", ""))
                if channel != "dm" or "linked" not in text:
                    return text, self._created_at(item_id)
        return None
