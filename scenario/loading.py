"""Loading a scenario: read the TOML file, merge it over the defaults of :mod:`scenario.schema`,
apply ``--set key=value`` overrides (type-checked) and validate into :class:`~scenario.records.Scenario`,
raising :class:`~scenario.errors.ScenarioError` that names the offending key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from scenario.calibration import calibrate_services
from scenario.checks import boolean, choice, integer, number, parse_arrivals, shares
from scenario.distributions import parse_dist
from scenario.errors import ScenarioError
from scenario.records import (
    COMMANDS,
    SENDER_KINDS,
    SMS_PROTOCOLS,
    Audience,
    Carrier,
    Cost,
    Ingestion,
    Outage,
    RunSettings,
    Scenario,
    Smpp,
    Sms,
    System,
    UserBehaviour,
    Workers,
    XBudget,
)
from scenario.schema import apply_override, merge_over_defaults

__all__ = ["build_scenario", "load_scenario"]


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, merge, override and validate the scenario at ``path``."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ScenarioError("", f"scenario file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError("", f"{path} is not valid TOML: {exc}") from exc
    document.setdefault("name", path.stem)
    resolved = merge_over_defaults(document)
    for assignment in overrides:
        apply_override(resolved, assignment)
    return build_scenario(resolved, base_dir=path.parent)


def _smpp(raw: Mapping[str, Any]) -> Smpp:
    p = "system.sms.smpp"
    return Smpp(
        integer(raw, "binds", p, 1),
        integer(raw, "window", p, 1),
        number(raw, "throughput", p, 0.0),
        number(raw, "bind_tps", p, 0.0),
        number(raw, "system_tps", p, 0.0),
        number(raw, "submit_latency_s", p, 0.0),
    )


def _system(raw: Mapping[str, Any], base_dir: Path, circles: set[str]) -> System:
    ing, wk, sms, car, xb = (raw[k] for k in ("ingestion", "workers", "sms", "carrier", "x_budget"))
    p = "system.ingestion"
    ingestion = Ingestion(
        choice(ing, "mode", p, ("polling", "webhook")),
        number(ing, "poll_interval_s", p, 1e-6),
        integer(ing, "page_size", p, 1),
        integer(ing, "rate_limit_requests", p, 1),
        number(ing, "rate_limit_window_s", p, 1e-6),
        parse_dist(f"{p}.webhook_delay", ing["webhook_delay"]),
        number(ing, "dm_poll_interval_s", p, 1e-6),
        integer(ing, "dm_rate_limit_requests", p, 1),
        number(ing, "dm_rate_limit_window_s", p, 1e-6),
    )
    workers = _workers(wk, base_dir)
    sms_cfg = Sms(
        number(sms, "mps", "system.sms", 1e-6),
        number(sms, "validity_s", "system.sms"),
        boolean(sms, "confirm_activations", "system.sms"),
        choice(sms, "sender", "system.sms", SENDER_KINDS),
        integer(sms, "pool_size", "system.sms", 1),
        choice(sms, "protocol", "system.sms", SMS_PROTOCOLS),
        _smpp(sms["smpp"]),
    )
    outages = []
    if not isinstance(car["outages"], list):
        raise ScenarioError(
            "system.carrier.outages", "expected a list of tables ([[system.carrier.outages]])"
        )
    for i, o in enumerate(car["outages"]):
        path = f"system.carrier.outages.{i}"
        if not isinstance(o, Mapping) or set(o) != {"circles", "start_s", "end_s"}:
            raise ScenarioError(path, "expected a table with exactly circles, start_s, end_s")
        names = o["circles"]
        if not isinstance(names, list) or not all(isinstance(n, str) and n in circles for n in names):
            raise ScenarioError(
                f"{path}.circles", f"expected a list of circles among {sorted(circles)}, got {names!r}"
            )
        start, end = number(o, "start_s", path), number(o, "end_s", path)
        if end <= start:
            raise ScenarioError(f"{path}.end_s", "must be after start_s")
        outages.append(Outage(tuple(names), start, end))
    carrier = Carrier(
        parse_dist("system.carrier.latency", car["latency"]),
        number(car, "failure_rate", "system.carrier", 0, 1),
        tuple(outages),
    )
    reply_to = xb["reply_to"]
    if not isinstance(reply_to, list) or any(r not in COMMANDS for r in reply_to):
        raise ScenarioError(
            "system.x_budget.reply_to", f"expected a list drawn from {list(COMMANDS)}, got {reply_to!r}"
        )
    p = "system.x_budget"
    budget = XBudget(
        integer(xb, "user_limit", p),
        number(xb, "user_window_s", p, 1e-6),
        integer(xb, "app_limit", p),
        number(xb, "app_window_s", p, 1e-6),
        tuple(reply_to),
    )
    return System(ingestion, workers, sms_cfg, carrier, budget, number(raw, "otp_ttl_s", "system", 1e-6))


def _workers(wk: Mapping[str, Any], base_dir: Path) -> Workers:
    service = wk["service"]
    for name in service:
        if name not in COMMANDS:
            raise ScenarioError(
                f"system.workers.service.{name}", f"unknown command; expected one of {list(COMMANDS)}"
            )
    specs = {name: parse_dist(f"system.workers.service.{name}", service[name]) for name in COMMANDS}
    mapping = wk["calibration_map"]
    if not isinstance(mapping, Mapping) or any(
        k not in COMMANDS or not isinstance(v, str) for k, v in mapping.items()
    ):
        raise ScenarioError(
            "system.workers.calibration_map",
            f'expected command = "benchmark name" with commands from {list(COMMANDS)}',
        )
    file = wk["calibration_file"]
    if not isinstance(file, str):
        raise ScenarioError("system.workers.calibration_file", "expected a path string")
    if file:
        specs.update(calibrate_services(base_dir / file, dict(mapping)))
    return Workers(
        integer(wk, "count", "system.workers", 1), tuple(specs.items()), file, tuple(sorted(mapping.items()))
    )


def build_scenario(resolved: dict[str, Any], base_dir: Path = Path(".")) -> Scenario:
    """Validate a merged raw dict and build the :class:`Scenario`."""
    pop = resolved["population"]
    circles = shares(pop["circles"], "population.circles")
    total = sum(circles.values())
    population = Audience(
        integer(pop, "followers", "population", 1),
        number(pop, "registered_share", "population", 0, 1),
        tuple((name, share / total) for name, share in circles.items()),
    )
    u = resolved["user"]
    user = UserBehaviour(
        parse_dist("user.code_reply_delay", u["code_reply_delay"]),
        number(u, "typo_rate", "user", 0, 1),
        number(u, "abandon_after_s", "user"),
        integer(u, "max_code_attempts", "user", 1),
        number(u, "buy_share", "user", 0, 1),
        parse_dist("user.buy_delay", u["buy_delay"]),
    )
    arrivals = parse_arrivals(resolved["arrivals"])
    system = _system(resolved["system"], base_dir, set(circles))
    c = resolved["cost"]
    cost = Cost(number(c, "per_worker", "cost"), number(c, "per_sms_mps", "cost"), number(c, "fixed", "cost"))
    r = resolved["run"]
    duration = number(r, "duration_s", "run") or arrivals.duration_s
    run = RunSettings(
        duration,
        number(r, "drain_s", "run"),
        number(r, "warmup_s", "run"),
        integer(r, "seed", "run"),
        number(r, "sample_interval_s", "run", 1e-3),
    )
    if run.warmup_s >= run.duration_s:
        raise ScenarioError("run.warmup_s", f"must be shorter than the run ({run.duration_s} s)")
    for key in ("name", "description"):
        if not isinstance(resolved[key], str):
            raise ScenarioError(key, "expected a string")
    return Scenario(
        resolved["name"], resolved["description"], population, arrivals, user, system, cost, run, resolved
    )
