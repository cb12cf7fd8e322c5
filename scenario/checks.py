"""Typed checks for raw scenario values, and parsing of the arrival profile.

Each checker takes the raw table, the key and the dotted path of the table, and returns the typed
value or raises :class:`~scenario.errors.ScenarioError` naming ``path.key`` and the problem.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from scenario.arrivals import KINDS, ArrivalProfile, Mix, Segment
from scenario.errors import ScenarioError

__all__ = ["boolean", "choice", "integer", "number", "parse_arrivals", "shares"]


def number(raw: Mapping[str, Any], key: str, path: str, lo: float = 0.0, hi: float = math.inf) -> float:
    """``raw[key]`` as a finite float within [lo, hi]."""
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(f"{path}.{key}", f"expected a number, got {value!r}")
    if not lo <= value <= hi:
        if math.isinf(hi):
            bound = "must be > 0" if 0 < lo <= 1e-6 else f"must be >= {lo:g}"
        else:
            bound = f"must be between {lo:g} and {hi:g}"
        raise ScenarioError(f"{path}.{key}", f"{bound}, got {value}")
    return float(value)


def integer(raw: Mapping[str, Any], key: str, path: str, lo: int = 0) -> int:
    """``raw[key]`` as an int >= lo (booleans refused)."""
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{path}.{key}", f"expected an integer, got {value!r}")
    if value < lo:
        raise ScenarioError(f"{path}.{key}", f"must be >= {lo}, got {value}")
    return value


def shares(raw: object, path: str, allowed: Iterable[str] | None = None) -> dict[str, float]:
    """A non-empty table of name = share (>= 0, not all zero), names limited to ``allowed``."""
    if not isinstance(raw, Mapping) or not raw:
        raise ScenarioError(path, f"expected a non-empty table of name = share, got {raw!r}")
    allowed = None if allowed is None else tuple(allowed)
    out: dict[str, float] = {}
    for name in raw:
        if allowed is not None and name not in allowed:
            raise ScenarioError(f"{path}.{name}", f"unknown kind; expected one of {list(allowed)}")
        out[name] = number(raw, name, path)
    if sum(out.values()) <= 0:
        raise ScenarioError(path, "shares must not all be zero")
    return out


def _segment(raw: object, path: str) -> Segment:
    if not isinstance(raw, Mapping):
        raise ScenarioError(path, f"expected a table, got {raw!r}")
    kind = raw.get("kind")
    fields = {
        "constant": {"kind", "duration_s", "rate", "mix"},
        "ramp": {"kind", "duration_s", "from", "to", "mix"},
        "decay": {"kind", "duration_s", "from", "to", "half_life_s", "mix"},
        "piecewise": {"kind", "points", "duration_s", "mix"},
    }
    if kind not in fields:
        raise ScenarioError(f"{path}.kind", f"expected one of {sorted(fields)}, got {kind!r}")
    for key in raw:
        if key not in fields[kind]:
            raise ScenarioError(
                f"{path}.{key}", f"unknown key for a {kind} segment; allowed {sorted(fields[kind])}"
            )
    mix = Mix.from_mapping(shares(raw["mix"], f"{path}.mix", KINDS)) if "mix" in raw else None
    if kind == "piecewise":
        points = raw.get("points")
        if not isinstance(points, list) or len(points) < 2:
            raise ScenarioError(f"{path}.points", "expected at least two [t, rate] pairs")
        pairs: list[tuple[float, float]] = []
        for i, point in enumerate(points):
            if not (isinstance(point, list) and len(point) == 2):
                raise ScenarioError(f"{path}.points.{i}", f"expected [t, rate], got {point!r}")
            pairs.append(
                (
                    number({"t": point[0]}, "t", f"{path}.points.{i}"),
                    number({"r": point[1]}, "r", f"{path}.points.{i}"),
                )
            )
        if pairs[0][0] != 0 or any(b[0] <= a[0] for a, b in zip(pairs, pairs[1:], strict=False)):
            raise ScenarioError(f"{path}.points", "times must start at 0 and increase")
        duration = number(raw, "duration_s", path, pairs[-1][0]) if "duration_s" in raw else pairs[-1][0]
        return Segment("piecewise", duration, points=tuple(pairs), mix=mix)
    for key in fields[kind] - {"mix", "to"}:
        if key not in raw:
            raise ScenarioError(f"{path}.{key}", f"required for a {kind} segment")
    duration = number(raw, "duration_s", path)
    if duration <= 0:
        raise ScenarioError(f"{path}.duration_s", "must be > 0")
    if kind == "constant":
        return Segment("constant", duration, number(raw, "rate", path), number(raw, "rate", path), mix=mix)
    if kind == "ramp" and "to" not in raw:
        raise ScenarioError(f"{path}.to", "required for a ramp segment")
    to = number(raw, "to", path) if "to" in raw else 0.0
    half_life = number(raw, "half_life_s", path) if kind == "decay" else 0.0
    if kind == "decay" and half_life <= 0:
        raise ScenarioError(f"{path}.half_life_s", "must be > 0")
    return Segment(kind, duration, number(raw, "from", path), to, half_life, mix=mix)


def parse_arrivals(raw: Mapping[str, Any]) -> ArrivalProfile:
    """The ``[arrivals]`` table as an :class:`ArrivalProfile` (segments and mix)."""
    segments = raw["segments"]
    if not isinstance(segments, list) or not segments:
        raise ScenarioError("arrivals.segments", "at least one segment is required ([[arrivals.segments]])")
    mix = Mix.from_mapping(shares(raw["mix"], "arrivals.mix", KINDS))
    return ArrivalProfile(tuple(_segment(s, f"arrivals.segments.{i}") for i, s in enumerate(segments)), mix)


def choice(raw: Mapping[str, Any], key: str, path: str, options: tuple[str, ...]) -> str:
    """``raw[key]`` if it is one of ``options``."""
    value = raw[key]
    if value not in options:
        raise ScenarioError(f"{path}.{key}", f"expected one of {list(options)}, got {value!r}")
    return str(value)


def boolean(raw: Mapping[str, Any], key: str, path: str) -> bool:
    """``raw[key]`` as a bool (true or false only)."""
    if not isinstance(raw[key], bool):
        raise ScenarioError(f"{path}.{key}", f"expected true or false, got {raw[key]!r}")
    return bool(raw[key])
