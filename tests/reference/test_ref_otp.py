"""One-time code rules (NIST SP 800-63B, OWASP ASVS V2.7, Twilio Verify), unit level."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from reference.domain import otp
from reference.domain.errors import ConfigError
from reference.domain.otp import (
    CheckResult,
    CodeHasher,
    OtpPolicy,
    SeededOtpSource,
    SystemOtpSource,
    check_code,
    issue_code,
    send_allowed,
)

KEY = b"k" * 32
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POLICY = OtpPolicy()
HASHER = CodeHasher(KEY)


def _issue(user_id: str = "u1", msisdn: str = "+919876543210") -> tuple[str, otp.PendingCode]:
    return issue_code(
        user_id=user_id,
        handle="h",
        msisdn=msisdn,
        now=T0,
        source=SeededOtpSource(3),
        hasher=HASHER,
        policy=POLICY,
    )


def test_codes_are_six_digits_from_the_csprng(monkeypatch: pytest.MonkeyPatch) -> None:
    """The production source draws 6 digits from secrets (the OS CSPRNG), zero-padded."""
    drawn: list[int] = []

    def randbelow(n: int) -> int:
        drawn.append(n)
        return 42

    monkeypatch.setattr(otp.secrets, "randbelow", randbelow)
    assert SystemOtpSource().code(6) == "000042"
    assert drawn == [10**6]


def test_only_a_keyed_hash_is_stored() -> None:
    """The stored record holds HMAC-SHA256(key, user|number|code), never the code."""
    code, record = _issue()
    assert code not in repr(record)
    expected = hmac.new(KEY, f"u1\x1f+919876543210\x1f{code}".encode(), hashlib.sha256).hexdigest()
    assert record.code_hash == expected


def test_code_expires_after_ten_minutes() -> None:
    """A correct code presented at 10 minutes is expired and the record becomes void."""
    code, record = _issue()
    assert check_code(
        record, code, now=T0 + timedelta(minutes=9, seconds=59), hasher=HASHER, policy=POLICY
    ).result is (CheckResult.MATCHED)
    late = check_code(record, code, now=T0 + timedelta(minutes=10), hasher=HASHER, policy=POLICY)
    assert late.result is CheckResult.EXPIRED
    assert late.code is not None and late.code.state == "void"


def test_code_is_single_use() -> None:
    """Once matched the record is 'used' and the same code no longer counts."""
    code, record = _issue()
    first = check_code(record, code, now=T0, hasher=HASHER, policy=POLICY)
    assert first.result is CheckResult.MATCHED
    again = check_code(first.code, code, now=T0, hasher=HASHER, policy=POLICY)
    assert again.result is CheckResult.NONE_PENDING


def test_code_is_bound_to_the_pair_that_asked() -> None:
    """The same digits issued for another handle or number do not verify this record."""
    code, record = _issue("u1", "+919876543210")
    other = CodeHasher(KEY).digest("u2", "+919876543210", code)
    assert other != record.code_hash
    assert CodeHasher(KEY).digest("u1", "+919800000000", code) != record.code_hash


def test_five_wrong_tries_void_the_code() -> None:
    """Wrong tries count down 4..1, the fifth voids the code, and then even the right code fails."""
    code, record = _issue()
    wrong = "000000" if code != "000000" else "111111"
    current: otp.PendingCode | None = record
    left = []
    for _ in range(4):
        checked = check_code(current, wrong, now=T0, hasher=HASHER, policy=POLICY)
        assert checked.result is CheckResult.WRONG
        left.append(checked.tries_left)
        current = checked.code
    assert left == [4, 3, 2, 1]
    fifth = check_code(current, wrong, now=T0, hasher=HASHER, policy=POLICY)
    assert fifth.result is CheckResult.VOIDED
    assert (
        check_code(fifth.code, code, now=T0, hasher=HASHER, policy=POLICY).result is CheckResult.NONE_PENDING
    )


def test_send_limit_is_five_per_ten_minutes() -> None:
    """Five sends within the window block a sixth; sends older than the window do not count."""
    recent = [T0 - timedelta(minutes=m) for m in (1, 2, 3, 4)]
    assert send_allowed(recent, T0, POLICY)
    assert not send_allowed([*recent, T0], T0, POLICY)
    old = [T0 - timedelta(minutes=10, seconds=1)] * 10
    assert send_allowed(old, T0, POLICY)


def test_send_limit_is_configurable() -> None:
    """The per-number send limit comes from the policy."""
    assert not send_allowed([T0], T0, OtpPolicy(max_sends=1))


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking a code goes through hmac.compare_digest."""
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(otp.hmac, "compare_digest", spy)
    code, record = _issue()
    check_code(record, code, now=T0, hasher=HASHER, policy=POLICY)
    assert calls and calls[0][1] == record.code_hash


@pytest.mark.parametrize(
    "kwargs",
    [{"digits": 4}, {"max_attempts": 0}, {"max_sends": 0}, {"ttl": timedelta(0)}],
)
def test_policy_rejects_unsafe_settings(kwargs: dict[str, object]) -> None:
    """Fewer than 6 digits, zero limits or a zero lifetime are configuration errors."""
    with pytest.raises(ConfigError):
        OtpPolicy(**kwargs)  # type: ignore[arg-type]


def test_short_hmac_key_is_refused() -> None:
    """The HMAC key must be at least 16 bytes."""
    with pytest.raises(ConfigError):
        CodeHasher(b"short")
