"""The raw scenario schema: defaults, merging a TOML document over them, and ``--set`` overrides.

Works on plain nested dicts (what :mod:`tomllib` returns). Every key a scenario may hold appears in
:data:`DEFAULTS`; a key a file adds that the defaults do not know is an error naming the key and the
keys that are allowed, except under the free-form tables listed in :data:`FREE_FORM` (circle shares,
mix shares, distribution tables, lists). Typed construction lives in :mod:`scenario.loading`.
"""

from __future__ import annotations

import copy
import tomllib
from typing import Any

from scenario.errors import OverrideError, ScenarioError

__all__ = [
    "ALIASES", "DEFAULTS", "FREE_FORM", "apply_override", "merge_over_defaults", "parse_value", "short_name",
]  # fmt: skip

#: Short names accepted by ``--set`` and ``plan --vary`` for the keys planners change most.
ALIASES: dict[str, str] = {
    "workers": "system.workers.count",
    "sms_mps": "system.sms.mps",
    "poll_interval": "system.ingestion.poll_interval_s",
    "page_size": "system.ingestion.page_size",
    "seed": "run.seed",
    "duration": "run.duration_s",
}

_LOGNORMAL_CARRIER = {"dist": "lognormal", "p50": 4.0, "p95": 12.0}

DEFAULTS: dict[str, Any] = {
    "name": "",
    "description": "",
    "population": {
        "followers": 44_000,
        "registered_share": 0.2,
        "circles": {"Mumbai": 0.3, "Delhi": 0.3, "Karnataka": 0.2, "Kolkata": 0.2},
    },
    "arrivals": {
        "mix": {"noise": 0.3, "reg": 0.3, "act": 0.3, "dm": 0.1},
        "segments": [],
    },
    "user": {
        "code_reply_delay": {"dist": "lognormal", "p50": 8.0, "p95": 25.0},
        "typo_rate": 0.03,
        "abandon_after_s": 120.0,
        "max_code_attempts": 3,
        "buy_share": 0.8,
        "buy_delay": {"dist": "exponential", "mean": 10.0},
    },
    "system": {
        "ingestion": {
            "mode": "polling",
            "poll_interval_s": 1.0,
            "page_size": 100,
            "rate_limit_requests": 450,
            "rate_limit_window_s": 900.0,
            "webhook_delay": {"dist": "lognormal", "p50": 0.3, "p95": 1.0},
            "dm_poll_interval_s": 2.0,
            "dm_rate_limit_requests": 15,
            "dm_rate_limit_window_s": 900.0,
        },
        "workers": {
            "count": 4,
            "service": {
                "reg": {"dist": "exponential", "mean": 0.004},
                "code": {"dist": "exponential", "mean": 0.003},
                "act": {"dist": "exponential", "mean": 0.005},
                "dm": {"dist": "exponential", "mean": 0.005},
                "noise": {"dist": "exponential", "mean": 0.001},
            },
            "calibration_file": "",
            "calibration_map": {},
        },
        "sms": {
            "mps": 100.0,
            "sender": "short_code",
            "pool_size": 1,
            "validity_s": 36_000.0,
            "confirm_activations": True,
            "protocol": "twilio",
            "smpp": {
                "binds": 1,
                "window": 10,
                "throughput": 0.0,
                "bind_tps": 0.0,
                "system_tps": 0.0,
                "submit_latency_s": 0.0,
            },
        },
        "carrier": {"latency": _LOGNORMAL_CARRIER, "failure_rate": 0.01, "outages": []},
        "x_budget": {
            "user_limit": 100,
            "user_window_s": 900.0,
            "app_limit": 10_000,
            "app_window_s": 86_400.0,
            "reply_to": ["reg", "code", "act"],
        },
        "otp_ttl_s": 600.0,
    },
    "cost": {"per_worker": 1.0, "per_sms_mps": 0.05, "fixed": 0.0},
    "run": {"duration_s": 0.0, "drain_s": 120.0, "warmup_s": 0.0, "seed": 1, "sample_interval_s": 1.0},
}

#: Paths whose value is taken whole (not checked key by key against the defaults).
FREE_FORM: frozenset[str] = frozenset(
    {
        "population.circles",
        "arrivals.mix",
        "arrivals.segments",
        "user.code_reply_delay",
        "user.buy_delay",
        "system.ingestion.webhook_delay",
        "system.workers.service",
        "system.workers.calibration_map",
        "system.carrier.latency",
        "system.carrier.outages",
        "system.x_budget.reply_to",
    }
)


def merge_over_defaults(document: dict[str, Any]) -> dict[str, Any]:
    """Return DEFAULTS deep-merged with ``document``; unknown keys raise :class:`ScenarioError`."""
    resolved = copy.deepcopy(DEFAULTS)
    _merge(resolved, document, "")
    return resolved


def _merge(target: dict[str, Any], source: dict[str, Any], prefix: str) -> None:
    for key, value in source.items():
        path = f"{prefix}{key}"
        if key not in target:
            raise ScenarioError(path, f"unknown key; expected one of {sorted(target)}")
        if path == "system.workers.service" and isinstance(value, dict):
            target[key] = {**target[key], **value}
        elif isinstance(target[key], dict) and path not in FREE_FORM:
            if not isinstance(value, dict):
                raise ScenarioError(path, f"expected a table, got {value!r}")
            _merge(target[key], value, f"{path}.")
        else:
            target[key] = copy.deepcopy(value)


def parse_value(text: str) -> Any:
    """Parse ``text`` as a TOML value (``5``, ``0.5``, ``true``, ``"x"``, ``{dist=...}``); else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _type_name(value: object) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "table"}.get(
        type(value), type(value).__name__
    )


def _check_type(key: str, old: object, new: object) -> object:
    if isinstance(old, bool):
        ok = isinstance(new, bool)
    elif isinstance(old, int):
        ok = isinstance(new, int) and not isinstance(new, bool)
    elif isinstance(old, float):
        ok = isinstance(new, int | float) and not isinstance(new, bool)
        new = float(new) if ok else new  # type: ignore[arg-type]
    elif isinstance(old, dict):  # a distribution table also accepts a bare number
        ok = isinstance(new, dict | int | float) and not isinstance(new, bool)
    else:
        ok = isinstance(new, type(old))
    if not ok:
        expected = _type_name(old)
        article = "an" if expected[0] in "aeiou" else "a"
        raise OverrideError(key, f"expected {article} {expected}, got {_type_name(new)} {new!r}")
    return new


def apply_override(resolved: dict[str, Any], assignment: str) -> None:
    """Apply one ``key=value`` override in place, with the key's type checked against its current value."""
    if "=" not in assignment:
        raise OverrideError(assignment, "expected key=value")
    raw_key, text = (part.strip() for part in assignment.split("=", 1))
    key = ALIASES.get(raw_key, raw_key)
    parts = key.split(".")
    node: Any = resolved
    walked: list[str] = []
    for part in parts[:-1]:
        walked.append(part)
        node = _step(node, part, ".".join(walked), key)
    leaf = parts[-1]
    parent_path = ".".join(walked)
    new = parse_value(text)
    schema = _schema_value(parts)
    if isinstance(node, dict) and leaf in node and schema is not None:
        node[leaf] = _check_type(key, schema, new)
        return
    if isinstance(node, list):
        index = _index(node, leaf, key)
        node[index] = _check_type(key, node[index], new)
    elif not isinstance(node, dict):
        raise OverrideError(key, f"{parent_path} is not a table")
    elif leaf in node:
        node[leaf] = _check_type(key, node[leaf], new)
    elif parent_path in FREE_FORM or parent_path.startswith(
        ("arrivals.segments.", "system.carrier.outages.")
    ):
        node[leaf] = new
    else:
        raise OverrideError(key, f"unknown key; {parent_path or 'the top level'} has {sorted(node)}")


def _schema_value(parts: list[str]) -> Any:
    """The default at ``parts`` (what the schema types the key as), or None outside :data:`DEFAULTS`.

    ``--set sms_mps=12.5`` is checked against the schema's number, not against how the scenario
    file happened to write its value (``mps = 10`` is an integer in TOML, 12.5 is still valid).
    """
    node: Any = DEFAULTS
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return None if isinstance(node, dict | list) else node


def _step(node: Any, part: str, path: str, key: str) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, key)]
    if isinstance(node, dict) and part in node:
        return node[part]
    known = sorted(node) if isinstance(node, dict) else []
    raise OverrideError(key, f"unknown key {path!r}; expected one of {known}")


def _index(node: list[Any], part: str, key: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise OverrideError(key, f"{part!r} is not an index of a list of {len(node)}")
    return int(part)


def short_name(key: str) -> str:
    """The ``--vary`` alias of a dotted key (``workers``), else its last part."""
    reverse = {full: alias for alias, full in ALIASES.items()}
    return reverse.get(key, key.rsplit(".", 1)[-1])
