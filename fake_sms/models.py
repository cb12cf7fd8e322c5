"""State and behaviour of the SMS fake, with no HTTP (moto's ``models.py``).

:class:`SmsBackend` holds accounts (credentials, senders, messaging services), messages, handsets,
the carrier model and the schedule. Its methods are named after the Twilio operations
(``create_message``, ``fetch_message``, ``list_messages``, ``update_message``, ``delete_message``)
and the control operations (``reset``, ``seed``, ``configure``, ``add_outage``, ``advance`` ...). All state is
built in :meth:`SmsBackend._build`, which :meth:`reset` re-runs, so a reset restores the start-up
configuration. Randomness comes from ``random.Random(seed)`` instances only. The Twilio Messages
operations live in :mod:`fake_sms.backend_messages` (:class:`MessageOperations`, a base of this class).
"""

from __future__ import annotations

import base64
import random
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from typing import Any

from .backend_messages import E164, MAX_BODY_CHARS, MessageOperations
from .carrier import CarrierProfile, CircleMap
from .clock import US_PER_S, Clock, ManualClock
from .config import FaultSettings, apply_accounts, check_limits, default_config, merge_config
from .exceptions import AuthenticationError, ControlError, InvalidParameterError
from .handsets import Handsets, Received
from .lifecycle import CarrierEngine
from .messages import Message, RFC2822Dates
from .senders import Account, Sender

__all__ = ["E164", "MAX_BODY_CHARS", "MAX_CARRIER_TIME_S", "SmsBackend"]

#: carrier seconds the manual clock may reach (dates of the fake's epoch + this stay valid)
MAX_CARRIER_TIME_S = 100 * 365 * 86_400.0


class SmsBackend(MessageOperations):
    """The whole fake gateway: accounts, senders, messages, handsets, carrier model and schedule."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        config: Mapping[str, Any] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock or ManualClock()
        self.wall = wall
        self._startup_config = merge_config(default_config(), config or {})
        check_limits(self._startup_config)
        self._startup_seed = seed
        #: told of every message that reaches a final status; kept across resets (wiring, not state)
        self.final_listeners: list[Callable[[Message], None]] = []
        self._build(self._startup_config, seed)

    # ---- state --------------------------------------------------------------------------------
    def _build(self, config: dict[str, Any], seed: int) -> None:
        self.config = config
        self.seed_value = seed
        self.random = random.Random(seed)
        self.fault_random = random.Random(seed ^ 0x5EED5EED)
        self.dates = RFC2822Dates(self.clock.epoch)
        retention = config["retention"]
        self.max_messages = int(retention["max_messages"])
        self.handsets = Handsets(int(retention["max_per_handset"]), int(retention["max_handsets"]))
        self.engine = CarrierEngine(
            self.clock,
            self.dates,
            self.handsets,
            price_per_segment_paise=int(config["price_per_segment_paise"]),
            price_unit=str(config["price_unit"]),
            callback_statuses=frozenset(config["callback_statuses"]),
            max_pending_callbacks=int(retention["max_pending_callbacks"]),
            wall=self.wall,
            final_listeners=self.final_listeners,
        )
        self.counters = self.engine.counters
        carrier = config["carrier"]
        self.default_profile = CarrierProfile.from_json(carrier.get("default", {}))
        self.profiles: dict[str, CarrierProfile] = {
            circle: CarrierProfile.from_json(data, self.default_profile)
            for circle, data in carrier.get("circles", {}).items()
        }
        self.circles = CircleMap(carrier.get("prefixes", {}))
        for number, circle in carrier.get("handsets", {}).items():
            self.circles.register(number, circle)
        self.accounts: dict[str, Account] = {}
        apply_accounts(self.accounts, config["accounts"])
        # OrderedDict: evicting the oldest is O(1) (next(iter(dict)) after many deletions scans the
        # dict's dead slots, which made each create O(retention) once the store was full)
        self.messages: OrderedDict[str, Message] = OrderedDict()
        self._by_to: dict[str, dict[str, None]] = {}
        self.faults = FaultSettings.from_json(config.get("faults", {}))
        self._auth_cache: dict[str, Account] = {}

    def reset(self) -> None:
        """Forget everything since start-up (messages, handsets, outages, run-time configuration)."""
        self._build(self._startup_config, self._startup_seed)

    def seed(self, seed: int) -> None:
        """Re-seed the RNGs (sids, latencies, outcomes, faults) without touching other state."""
        self.seed_value = seed
        self.random = random.Random(seed)
        self.fault_random = random.Random(seed ^ 0x5EED5EED)

    def configure(self, patch: Mapping[str, Any]) -> dict[str, Any]:
        """Apply a configuration patch at run time (carrier, senders, prices, retention, faults).
        Messages already scheduled keep what was decided when they were created."""
        try:
            return self._configure(patch)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ControlError(f"bad configuration: {exc}") from exc

    def _configure(self, patch: Mapping[str, Any]) -> dict[str, Any]:
        config = merge_config(self.config, patch)
        check_limits(config)
        carrier = config["carrier"]
        default = CarrierProfile.from_json(carrier.get("default", {}))
        profiles = {c: CarrierProfile.from_json(d, default) for c, d in carrier.get("circles", {}).items()}
        self.default_profile, self.profiles = default, profiles
        self.circles.set_prefixes(carrier.get("prefixes", {}))
        for number, circle in dict(patch.get("carrier", {}).get("handsets", {})).items():
            self.circles.register(number, circle)
        if "accounts" in patch:
            apply_accounts(self.accounts, patch["accounts"])
            self._auth_cache.clear()
        if "faults" in patch:
            self.faults = FaultSettings.from_json(config["faults"])
        retention = config["retention"]
        self.max_messages = int(retention["max_messages"])
        self.handsets.max_per_handset = int(retention["max_per_handset"])
        self.handsets.max_handsets = int(retention["max_handsets"])
        max_callbacks = int(retention["max_pending_callbacks"])
        if self.engine.callbacks.maxlen != max_callbacks:  # keep the newest pending ones
            dropped = max(0, len(self.engine.callbacks) - max_callbacks)
            self.engine.callbacks = deque(self.engine.callbacks, maxlen=max_callbacks)
            self.counters["callbacks_dropped"] += dropped
        self.engine.price_per_segment_paise = int(config["price_per_segment_paise"])
        self.engine.price_unit = str(config["price_unit"])
        self.engine.callback_statuses = frozenset(config["callback_statuses"])
        self.config = config
        return self.describe()

    def describe(self) -> dict[str, Any]:
        """The effective configuration as JSON."""
        return {
            "seed": self.seed_value,
            "manual_clock": self.clock.manual,
            "time_scale": getattr(self.clock, "time_scale", None),
            "price_per_segment_paise": self.engine.price_per_segment_paise,
            "price_unit": self.engine.price_unit,
            "callback_statuses": sorted(self.engine.callback_statuses),
            "retention": self.config["retention"],
            "carrier": {
                "default": self.default_profile.to_json(),
                "circles": {c: p.to_json() for c, p in sorted(self.profiles.items())},
                "prefixes": self.circles.prefixes,
                "registered_handsets": len(self.circles.registry),
            },
            "faults": self.faults.to_json(),
            "accounts": [account.to_json() for account in self.accounts.values()],
        }

    # ---- auth ---------------------------------------------------------------------------------
    def authenticate(self, authorization: str | None, account_sid: str) -> Account:
        """The account named in the URL, if the Basic credentials are its SID and auth token."""
        key = f"{authorization}|{account_sid}"
        account = self._auth_cache.get(key)
        if account is not None:
            return account
        if not authorization or not authorization.startswith("Basic "):
            raise AuthenticationError()
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise AuthenticationError() from exc
        account = self.accounts.get(user)
        if account is None or account.auth_token != password or user != account_sid:
            raise AuthenticationError()
        if len(self._auth_cache) > 1024:
            self._auth_cache.clear()
        self._auth_cache[key] = account
        return account

    def auth_token(self, account_sid: str) -> str | None:
        account = self.accounts.get(account_sid)
        return None if account is None else account.auth_token

    # ---- time ---------------------------------------------------------------------------------
    def advance(self, seconds: float) -> int:
        """Manual clock only: move carrier time forward, processing transitions in order."""
        if not isinstance(self.clock, ManualClock):
            raise ControlError("advance needs the manual clock (the served fake runs in real time)")
        if seconds < 0:
            raise ControlError("seconds must be >= 0")
        if self.clock.now() + seconds > MAX_CARRIER_TIME_S:
            raise ControlError("carrier time cannot pass 100 years (RFC 2822 dates must stay valid)")
        target = self.clock.now_us() + round(seconds * US_PER_S)
        processed = 0
        while True:  # step event by event so a transition sees the clock at its own time
            nxt = self.engine.next_event_us()
            if nxt is None or nxt > target:
                break
            self.clock.advance_us(max(0, nxt - self.clock.now_us()))
            processed += self.engine.run_until(nxt)
        self.clock.advance_us(target - self.clock.now_us())
        return processed

    # ---- handsets and carrier control ---------------------------------------------------------
    def handset_messages(self, number: str) -> list[Received]:
        self.run_due()
        return self.handsets.inbox(number)

    def register_handsets(self, numbers: Mapping[str, str]) -> int:
        """Seed number -> circle entries (the processor side knows each subscriber's circle)."""
        for number, circle in numbers.items():
            if E164.match(number) is None:
                raise InvalidParameterError(f"{number} is not an E.164 number")
            self.circles.register(number, str(circle))
        return len(numbers)

    def add_outage(self, circle: str, start_s: float | None = None, end_s: float | None = None) -> Any:
        """Take ``circle`` down from ``start_s`` (carrier seconds; default now) to ``end_s`` (or forever)."""
        self.run_due()
        start = self.clock.now_us() if start_s is None else round(start_s * US_PER_S)
        end = None if end_s is None else round(end_s * US_PER_S)
        return self.engine.add_outage(circle, start, end)

    def remove_outage(self, outage_id: int) -> Any:
        self.run_due()
        return self.engine.remove_outage(outage_id)

    def sender(self, account_sid: str, number: str) -> Sender:
        account = self.accounts.get(account_sid)
        if account is None or number not in account.senders:
            raise ControlError(f"no sender {number} in account {account_sid}")
        return account.senders[number]

    def live_counters(self) -> dict[str, Any]:
        """Counters for dashboards: transitions, errors, queue backlogs, memory use."""
        now = self.clock.now_us()
        return {
            "carrier_time": now / US_PER_S,
            "counters": dict(sorted(self.counters.items())),
            "stored_messages": len(self.messages),
            "pending_events": self.engine.pending(),
            "pending_callbacks": len(self.engine.callbacks),
            "held_in_outage": self.engine.held_count(),
            "handsets": len(self.handsets),
            "backlog_seconds": {
                number: sender.backlog_us(now) / US_PER_S
                for account in self.accounts.values()
                for number, sender in account.senders.items()
                if sender.backlog_us(now)
            },
        }
