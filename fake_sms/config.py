"""Configuration of the SMS fake: defaults, deep merge of patches, accounts/senders from JSON,
and the fault-injection settings. The same JSON shape is accepted by ``--config`` (JSON or TOML)
and by ``PATCH /_fake/config``.

Shape (every key optional)::

    {"price_per_segment_paise": 25, "price_unit": "INR",
     "callback_statuses": ["queued", "sending", "sent", "delivered", "undelivered", "failed"],
     "retention": {"max_messages": 200000, "max_per_handset": 200, "max_handsets": 200000,
                   "max_pending_callbacks": 100000},
     "carrier": {"default": {"latency": {"p50": 4, "p95": 12},
                             "failure_rates": {"30003": 0.01, "30005": 0.003, ...}},
                 "circles": {"DL": {"latency": {"p50": 6, "p95": 20}}},
                 "prefixes": {"+9198": "DL"}, "handsets": {"+919812345678": "DL"}},
     "faults": {"api_latency_ms": 0, "api_error_rate": 0.0},
     "accounts": [{"sid": "AC...", "auth_token": "...", "max_concurrent": 100,
                   "senders": [{"number": "+15005550006", "kind": "long_code", "rate": 1}],
                   "services": [{"sid": "MG...", "pool": ["+15005550100"], "validity_period": 36000}]}]}
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .exceptions import ControlError
from .senders import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_LONG_CODE,
    DEFAULT_POOL,
    DEFAULT_SERVICE_SID,
    DEFAULT_SHORT_CODE,
    KIND_RATES,
    MAX_VALIDITY_S,
    Account,
    MessagingService,
    Sender,
)

__all__ = [
    "FaultSettings",
    "apply_accounts",
    "check_limits",
    "default_config",
    "load_config_file",
    "merge_config",
]


def default_config() -> dict[str, Any]:
    """The documented defaults: one account with a long code, a short code and a 10-number pool."""
    return {
        "price_per_segment_paise": 25,
        "price_unit": "INR",
        "callback_statuses": ["queued", "sending", "sent", "delivered", "undelivered", "failed"],
        "retention": {
            "max_messages": 200_000,
            "max_per_handset": 200,
            "max_handsets": 200_000,
            "max_pending_callbacks": 100_000,
        },
        "carrier": {
            "default": {
                "latency": {"p50": 4.0, "p95": 12.0},
                "failure_rates": {"30003": 0.01, "30005": 0.003, "30006": 0.002, "30008": 0.001},
            },
            "circles": {},
            "prefixes": {},
            "handsets": {},
        },
        "faults": {"api_latency_ms": 0.0, "api_error_rate": 0.0},
        "accounts": [
            {
                "sid": DEFAULT_ACCOUNT_SID,
                "auth_token": DEFAULT_AUTH_TOKEN,
                "max_concurrent": 100,
                "senders": [
                    {"number": DEFAULT_LONG_CODE, "kind": "long_code", "rate": 1.0},
                    {"number": DEFAULT_SHORT_CODE, "kind": "short_code", "rate": 100.0},
                ],
                "services": [
                    {
                        "sid": DEFAULT_SERVICE_SID,
                        "friendly_name": "Twittcom OTP pool",
                        "pool": list(DEFAULT_POOL),
                    }
                ],
            }
        ],
    }


_REPLACED = frozenset({"failure_rates", "prefixes"})


def merge_config(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with ``patch`` merged in: dicts merge (except ``failure_rates`` and
    ``prefixes``, which replace whole), ``accounts`` lists append (entries are upserts by sid,
    applied in order), everything else replaces."""
    if not isinstance(patch, Mapping):
        raise ControlError("configuration must be a JSON object")
    merged = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping) and key not in _REPLACED:
            merged[key] = merge_config(merged[key], value)
        elif key == "accounts" and isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = merged[key] + copy.deepcopy(value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _count(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ControlError(f"{name} must be an integer between {low} and {high}")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ControlError(f"{name} must be an integer between {low} and {high}") from exc
    if not low <= number <= high:
        raise ControlError(f"{name} must be an integer between {low} and {high}")
    return number


def check_limits(config: Mapping[str, Any]) -> None:
    """Refuse retention bounds and prices that cannot work (a store of 0 messages, a negative inbox,
    a negative price), so a bad patch gets a 400 instead of failing later inside the carrier model."""
    retention = config.get("retention")
    if not isinstance(retention, Mapping):
        raise ControlError("retention must be an object")
    for key in ("max_messages", "max_per_handset", "max_handsets", "max_pending_callbacks"):
        _count(retention.get(key), f"retention.{key}", 1, 100_000_000)
    _count(config.get("price_per_segment_paise"), "price_per_segment_paise", 0, 100_000_000)
    statuses = config.get("callback_statuses")
    if not isinstance(statuses, list) or not all(isinstance(s, str) for s in statuses):
        raise ControlError("callback_statuses must be a list of status names")


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a ``.toml`` or ``.json`` configuration file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    data: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    if not isinstance(data, dict):
        raise ControlError(f"{path}: configuration must be a table/object")
    return data


def _sender(data: Mapping[str, Any] | str, existing: Sender | None) -> Sender:
    if isinstance(data, str):
        return existing or Sender(data, "long_code", KIND_RATES["long_code"])
    try:
        number = str(data["number"])
        kind = str(data.get("kind", existing.kind if existing else "long_code"))
        if kind not in KIND_RATES:
            raise ControlError(f"sender kind must be one of {sorted(KIND_RATES)}")
        rate = float(
            data.get("rate", existing.rate if existing and kind == existing.kind else KIND_RATES[kind])
        )
        window = int(data.get("queue_window", existing.queue_window_s if existing else MAX_VALIDITY_S))
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ControlError(f"bad sender {data!r}: {exc}") from exc
    if not math.isfinite(rate) or rate <= 0 or window < 1:
        raise ControlError("sender rate must be positive and queue_window at least 1 s")
    if existing is not None:  # keep its queue position: reconfiguring must not reset throughput
        existing.kind, existing.rate, existing.queue_window_s = kind, rate, window
        if rate <= 0:
            raise ControlError("sender rate must be positive")
        return existing
    return Sender(number, kind, rate, window)


def apply_accounts(accounts: dict[str, Account], data: Any) -> None:
    """Create or update accounts, their senders and their messaging services from JSON."""
    if not isinstance(data, list):
        raise ControlError("accounts must be a list")
    for entry in data:
        try:
            sid = str(entry["sid"])
        except (KeyError, TypeError) as exc:
            raise ControlError("each account needs a sid") from exc
        if not (sid.startswith("AC") and len(sid) == 34):
            raise ControlError("an AccountSid is 'AC' + 32 hex digits")
        account = accounts.get(sid)
        if account is None:
            if "auth_token" not in entry:
                raise ControlError(f"new account {sid} needs an auth_token")
            account = accounts[sid] = Account(sid, str(entry["auth_token"]))
        account.auth_token = str(entry.get("auth_token", account.auth_token))
        account.max_concurrent = _count(
            entry.get("max_concurrent", account.max_concurrent), "max_concurrent", 1, 1_000_000
        )
        for sender_data in entry.get("senders", []):
            number = sender_data if isinstance(sender_data, str) else str(sender_data.get("number", ""))
            account.senders[number] = _sender(sender_data, account.senders.get(number))
        for service_data in entry.get("services", []):
            _apply_service(account, service_data)


def _apply_service(account: Account, data: Mapping[str, Any]) -> None:
    try:
        sid = str(data["sid"])
    except (KeyError, TypeError) as exc:
        raise ControlError("each messaging service needs a sid") from exc
    if not (sid.startswith("MG") and len(sid) == 34):
        raise ControlError("a MessagingServiceSid is 'MG' + 32 hex digits")
    existing = account.services.get(sid)
    pool: list[Sender] = existing.pool if existing else []
    if "pool" in data:
        pool = []
        for member in data["pool"]:
            number = member if isinstance(member, str) else str(member.get("number", ""))
            sender = account.senders[number] = _sender(member, account.senders.get(number))
            pool.append(sender)
    if not pool:
        raise ControlError(f"messaging service {sid} needs a non-empty pool")
    validity = int(data.get("validity_period", existing.validity_period_s if existing else MAX_VALIDITY_S))
    if not 1 <= validity <= MAX_VALIDITY_S:
        raise ControlError("validity_period must be between 1 and 36000 seconds")
    name = str(data.get("friendly_name", existing.friendly_name if existing else sid))
    account.services[sid] = MessagingService(sid, name, pool, validity)


#: An injected API latency above 10 minutes would only park requests (and the client) forever.
MAX_API_LATENCY_S = 600.0


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """Faults the API layer injects: extra latency per API request, probability of a 500."""

    api_latency_s: float = 0.0
    api_error_rate: float = 0.0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultSettings:
        try:
            latency = float(data.get("api_latency_ms", 0.0)) / 1000.0
            error_rate = float(data.get("api_error_rate", 0.0))
        except (TypeError, ValueError) as exc:
            raise ControlError(f"bad faults: {exc}") from exc
        if not 0.0 <= latency <= MAX_API_LATENCY_S or not 0.0 <= error_rate <= 1.0:
            raise ControlError("api_latency_ms must be within [0, 600000] and api_error_rate within [0, 1]")
        return cls(latency, error_rate)

    def to_json(self) -> dict[str, float]:
        return {"api_latency_ms": self.api_latency_s * 1000.0, "api_error_rate": self.api_error_rate}
