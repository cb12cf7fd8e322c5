"""One-time code rules (NIST SP 800-63B §5.1.3.2, OWASP ASVS V2.7, Twilio Verify defaults).

* 6 digits from a CSPRNG (:class:`SystemOtpSource`); tests and simulations inject a seeded source;
* only a keyed hash is stored: HMAC-SHA256 over (user id, number, code), so a code is bound to the
  handle+number pair that asked for it and a leaked table reveals nothing without the key;
* valid for ``ttl`` (10 minutes), usable once, void after ``max_attempts`` wrong tries (5);
* at most ``max_sends`` codes per number per ``send_window`` (5 per 10 minutes);
* comparison with :func:`hmac.compare_digest`.

Everything here is pure: the clock's reading and the random source are passed in.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import random
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeAlias

from reference.domain.errors import ConfigError

__all__ = [
    "CheckResult",
    "CodeCheck",
    "CodeHasher",
    "CodeState",
    "OtpPolicy",
    "OtpSource",
    "PendingCode",
    "SeededOtpSource",
    "SystemOtpSource",
    "check_code",
    "issue_code",
    "send_allowed",
]

CodeState: TypeAlias = Literal["pending", "used", "void"]


@dataclass(frozen=True, slots=True)
class OtpPolicy:
    """The configurable limits; defaults follow Twilio Verify and NIST/OWASP."""

    digits: int = 6
    ttl: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    max_sends: int = 5
    send_window: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        if not 6 <= self.digits <= 10:
            raise ConfigError("OTP digits must be 6..10 (at least 20 bits of entropy)")
        if self.max_attempts < 1 or self.max_sends < 1:
            raise ConfigError("OTP max_attempts and max_sends must be at least 1")
        if self.ttl <= timedelta(0) or self.send_window <= timedelta(0):
            raise ConfigError("OTP ttl and send_window must be positive")


class OtpSource(Protocol):
    """Where code digits come from (a port, so tests control it)."""

    def code(self, digits: int) -> str:
        """A string of ``digits`` decimal digits."""
        ...


class SystemOtpSource:
    """Codes from the operating system's CSPRNG (:mod:`secrets`): the production source."""

    def code(self, digits: int) -> str:
        return f"{secrets.randbelow(10**digits):0{digits}d}"


class SeededOtpSource:
    """Deterministic codes from a seed, for tests, demos and simulations only (not a CSPRNG)."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)

    def code(self, digits: int) -> str:
        return f"{self._random.randrange(10**digits):0{digits}d}"


class CodeHasher:
    """Keyed hash of a code bound to its (user id, number) pair."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ConfigError("the OTP HMAC key must be at least 16 bytes")
        self._key = key

    def digest(self, user_id: str, msisdn: str, code: str) -> str:
        """Hex HMAC-SHA256 of the code for this pair."""
        message = f"{user_id}\x1f{msisdn}\x1f{code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def matches(self, pending: PendingCode, code: str) -> bool:
        """Constant-time check of ``code`` against the stored hash of ``pending``."""
        candidate = self.digest(pending.user_id, pending.msisdn, code)
        return hmac.compare_digest(candidate, pending.code_hash)


@dataclass(frozen=True, slots=True)
class PendingCode:
    """The stored side of a code: never the code itself."""

    user_id: str
    handle: str
    msisdn: str
    code_hash: str
    issued_at: datetime
    expires_at: datetime
    attempts: int = 0
    state: CodeState = "pending"


class CheckResult(enum.Enum):
    """What checking a submitted code found."""

    MATCHED = "matched"
    WRONG = "wrong"
    EXPIRED = "expired"
    VOIDED = "voided"  # this wrong try used up the last attempt
    NONE_PENDING = "none_pending"


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The result of a check and the code record as it must be stored afterwards."""

    result: CheckResult
    code: PendingCode | None
    tries_left: int = 0


def send_allowed(recent_sends: Iterable[datetime], now: datetime, policy: OtpPolicy) -> bool:
    """True when fewer than ``max_sends`` codes went to this number within ``send_window``."""
    since = now - policy.send_window
    return sum(1 for sent in recent_sends if sent > since) < policy.max_sends


def issue_code(
    *,
    user_id: str,
    handle: str,
    msisdn: str,
    now: datetime,
    source: OtpSource,
    hasher: CodeHasher,
    policy: OtpPolicy,
) -> tuple[str, PendingCode]:
    """A fresh code (to send by SMS, never to store) and its stored record."""
    code = source.code(policy.digits)
    record = PendingCode(
        user_id=user_id,
        handle=handle,
        msisdn=msisdn,
        code_hash=hasher.digest(user_id, msisdn, code),
        issued_at=now,
        expires_at=now + policy.ttl,
    )
    return code, record


def check_code(
    pending: PendingCode | None, code: str, *, now: datetime, hasher: CodeHasher, policy: OtpPolicy
) -> CodeCheck:
    """Check ``code`` submitted by ``pending.user_id``; the returned record replaces the stored one.

    A used or void code counts as none pending; an expired code becomes void; a wrong code spends
    one attempt and the last attempt voids the code.
    """
    if pending is None or pending.state != "pending":
        return CodeCheck(CheckResult.NONE_PENDING, pending)
    if now >= pending.expires_at:
        return CodeCheck(CheckResult.EXPIRED, replace(pending, state="void"))
    if hasher.matches(pending, code):
        return CodeCheck(CheckResult.MATCHED, replace(pending, state="used"))
    attempts = pending.attempts + 1
    tries_left = policy.max_attempts - attempts
    if tries_left <= 0:
        return CodeCheck(CheckResult.VOIDED, replace(pending, attempts=attempts, state="void"))
    return CodeCheck(CheckResult.WRONG, replace(pending, attempts=attempts), tries_left)
