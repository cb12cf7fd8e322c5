"""``twittcom calibrate`` as a library: a storm's observations -> a calibrated scenario file.

:func:`calibrate_storm` reads a storm directory (``storm.json``: the scenario and overrides it ran;
``observed.json``: the jobs and reads the fakes saw, :mod:`loadtests.observe`), fits the model's
stations (:func:`simulator.fit.fit_stations`), writes the scenario as run with the keys it found
over it (a complete scenario TOML, its fit in the header), then runs the simulator on the calibrated
scenario over the storm's own arrivals and compares it with the storm's measurement: the fit's error
as the storm states every error (:func:`loadtests.compare.comparison_rows`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.compare import Row, activation_series, comparison_rows
from scenario import build_scenario, load_scenario
from scenario.schema import apply_override, merge_over_defaults
from simulator.fit import StationFit, fit_stations
from simulator.seeds import run_seeds

__all__ = ["Calibration", "calibrate_storm", "toml_text"]


@dataclass
class Calibration:
    """The fit, where it was written, and the calibrated model beside the measured storm."""

    fit: StationFit
    path: Path
    rows: list[Row]
    document: dict[str, Any]


def _merge(target: dict[str, Any], keys: dict[str, Any]) -> None:
    for key, value in keys.items():
        if key == "service" or not isinstance(value, dict) or not isinstance(target.get(key), dict):
            target[key] = value
        else:
            _merge(target[key], value)


def calibrated_document(storm_dir: Path, fit: StationFit) -> tuple[dict[str, Any], Path]:
    """The run's resolved scenario with the fitted keys over it, and the scenario file's path."""
    import tomllib

    run = json.loads((storm_dir / "storm.json").read_text())
    path = Path(run["scenario"])
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document.setdefault("name", path.stem)
    resolved = merge_over_defaults(document)
    for assignment in run.get("overrides", []):
        apply_override(resolved, assignment)
    _merge(resolved, fit.scenario_keys())
    resolved["name"] = f"{resolved['name']}-calibrated"
    workers = resolved["system"]["workers"]
    workers["calibration_file"], workers["calibration_map"] = "", {}
    return resolved, path


def calibrate_storm(storm_dir: Path, out: Path, *, fit_workers: bool = False, seeds: int = 4) -> Calibration:
    """Fit, write ``out`` and compare (see the module docstring)."""
    run = json.loads((storm_dir / "storm.json").read_text())
    scenario = load_scenario(run["scenario"], run.get("overrides", []))
    observed = json.loads((storm_dir / "observed.json").read_text())
    if "error" in observed:
        raise ValueError(f"{storm_dir / 'observed.json'}: {observed['error']}")
    fit = fit_stations(
        observed,
        workers=scenario.system.workers.count,
        fit_workers=fit_workers,
        webhook_delay_s=scenario.system.ingestion.webhook_delay.mean,
    )
    document, source = calibrated_document(storm_dir, fit)
    calibrated = build_scenario(document, base_dir=source.parent)
    simulated = run_seeds(calibrated, seeds)
    measured = json.loads((storm_dir / "measured.json").read_text())
    series = activation_series(storm_dir / "locust_stats_history.csv", float(measured.get("t0", 0)))
    rows = comparison_rows(simulated, measured, series)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_header(storm_dir, fit, rows) + toml_text(document))
    return Calibration(fit, out, rows, document)


def _header(storm_dir: Path, fit: StationFit, rows: list[Row]) -> str:
    lines = [
        f"# Calibrated by `twittcom calibrate {storm_dir}` from what the fakes observed of the system.",
        f"# Fit: {fit.answered} answered of {fit.jobs} jobs; processing latency (posted -> first answer)",
        f"# replayed with a median absolute error of {100 * fit.error:.1f} % of its median.",
        "# Mean absolute error of the replayed done times per configured concurrency (s): "
        + ", ".join(f"{c}: {e:.4f}" for c, e in sorted(fit.error_by_workers.items())),
        "# The calibrated model on the calibration run's arrivals, beside the measured run:",
    ]
    for row in rows:
        err = "-" if row.error is None else f"{100 * row.error:+.1f} %"
        lines.append(
            f"#   {row.label.strip():<32} measured {_num(row.measured):>8}  "
            f"model {_num(row.simulated):>8}  {err}"
        )
    return "\n".join(lines) + "\n\n"


def _num(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3g}"


def _key(key: str) -> str:
    """A bare TOML key when it can be one, else a quoted one."""
    bare = key and all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in key)
    return key if bare else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def toml_text(document: dict[str, Any], prefix: str = "") -> str:
    """``document`` as TOML: a mapping is a ``[table]`` (a distribution or an empty one inline), a
    list of mappings an array of tables, anything else a value."""
    plain, tables, arrays = [], [], []
    for key, value in document.items():
        if isinstance(value, dict) and value and "dist" not in value:
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        else:
            plain.append(f"{_key(key)} = {_value(value)}")
    out = "\n".join(plain) + ("\n" if plain else "")
    for key, value in tables:
        name = f"{prefix}{_key(key)}"
        out += f"\n[{name}]\n" + toml_text(value, f"{name}.")
    for key, items in arrays:
        name = f"{prefix}{_key(key)}"
        for item in items:
            body = "\n".join(f"{_key(k)} = {_value(v)}" for k, v in item.items())
            out += f"\n[[{name}]]\n{body}\n"
    return out
