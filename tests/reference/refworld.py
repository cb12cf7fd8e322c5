"""Helpers for the reference processor's tests: a ticking fake clock and a small world of users.

``World`` drives a processor the way X would: it sends tweets and DMs with fresh ids and reads the
one-time codes from the SMS effects (never from storage, which holds only hashes).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reference.bootstrap import Settings, build_processor
from reference.domain.catalog import Catalog
from reference.domain.commands import Channel, Inbound
from reference.domain.otp import SeededOtpSource
from reference.domain.outcomes import SendSms
from reference.domain.subscribers import Subscriber
from reference.service.events import Events
from reference.service.processor import Processed, Processor

OTP_KEY = b"test-otp-key-0123456789abcdef!!"
_CODE = re.compile(r"code is (\d{6})")


class FakeClock:
    """Starts at a fixed instant and moves 1 ms per reading (and on ``advance``)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self.current += timedelta(milliseconds=1)
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass(frozen=True)
class User:
    """A Twitter user: stable id and current handle."""

    user_id: str
    handle: str


ALICE = User("1001", "alice")
BOB = User("1002", "bob_k")
CAROL = User("1003", "carol")
DAVE = User("1004", "dave")

ALICE_NO = "+919876543210"  # Delhi, Rs 100
BOB_NO = "+919812345678"  # Mumbai, Rs 5
INACTIVE_NO = "+917000000001"
POSTPAID_NO = "+918000000002"
CAROL_NO = "+916300000003"  # Karnataka, Rs 1000


def directory() -> list[Subscriber]:
    """The test directory of subscribers."""
    return [
        Subscriber(ALICE_NO, "DL", 10_000),
        Subscriber(BOB_NO, "MU", 500),
        Subscriber(INACTIVE_NO, "KA", 10_000, active=False),
        Subscriber(POSTPAID_NO, "DL", 10_000, prepaid=False),
        Subscriber(CAROL_NO, "KA", 100_000),
    ]


class World:
    """A processor plus helpers to tweet, DM and onboard users."""

    def __init__(self, processor: Processor, store: object, clock: FakeClock) -> None:
        self.processor = processor
        self.store = store
        self.clock = clock
        self._ids = itertools.count(1_790_000_000_000_000_001)

    def message(
        self, user: User, text: str, channel: Channel = "tweet", message_id: str | None = None
    ) -> Inbound:
        return Inbound(
            channel, message_id or str(next(self._ids)), user.user_id, user.handle, text, self.clock.now()
        )

    def tweet(self, user: User, text: str, message_id: str | None = None) -> Processed:
        return self.processor.process(self.message(user, text, "tweet", message_id))

    def dm(self, user: User, text: str) -> Processed:
        return self.processor.process(self.message(user, text, "dm"))

    def register(self, user: User, number: str) -> tuple[Processed, str | None]:
        result = self.tweet(user, f"@tatadocomo #reg {number}")
        return result, code_in(result)

    def onboard(self, user: User, number: str) -> Processed:
        _, code = self.register(user, number)
        assert code is not None
        return self.tweet(user, f"@tatadocomo {code}")


def code_in(result: Processed) -> str | None:
    """The one-time code in the SMS effect of ``result``, if any."""
    for effect in result.effects:
        if isinstance(effect, SendSms):
            found = _CODE.search(effect.text)
            if found:
                return found.group(1)
    return None


def make_world(store: object, clock: FakeClock, catalog: Catalog, settings: Settings, **kw: object) -> World:
    """A world on ``store`` seeded with :func:`directory`."""
    store.add_subscribers(directory())  # type: ignore[attr-defined]
    processor = build_processor(
        store,  # type: ignore[arg-type]
        settings,
        catalog=catalog,
        clock=clock,
        otp_source=SeededOtpSource(7),
        events=kw.get("events") or Events(),  # type: ignore[arg-type]
    )
    return World(processor, store, clock)
