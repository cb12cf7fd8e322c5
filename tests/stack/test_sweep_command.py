"""``twittcom sweep`` end to end on a short grid: deployment, probes, steps, model, report."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_sweep_command_measures_predicts_and_reports(tmp_path: Path) -> None:
    """Three short steps on SQLite with two processes (and up to three more bisecting the knee's
    bracket): every delivery accepted at the low step, the steps' latencies from the store, a
    prediction per step, each figure's verdict, a headline and both report files."""
    out = tmp_path / "report"
    command = [sys.executable, "-c", "from twittcom.cli import main; main()", "sweep",
               "--steps", "0.2,0.6,1.3", "--step-seconds", "2", "--probe-seconds", "2",
               "--replications", "2", "--check-repeats", "1", "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "This processor" in done.stdout and " knee: measured " in done.stdout
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["capacity_per_s"] > 0 and doc["store"] == "sqlite" and doc["processes"] == 2
    grid = [m for m in doc["measured"] if not m.get("refined")]
    assert [round(m["target_rate"] / doc["capacity_per_s"], 2) for m in grid] == [0.2, 0.6, 1.3]
    rates = [m["target_rate"] for m in doc["measured"]]
    assert rates == sorted(rates)
    low = doc["measured"][0]
    assert low["offered"] > 0 and low["accepted"] == low["offered"] and low["completed"] == low["offered"]
    assert 0 < low["p50_s"] <= low["p95_s"] <= low["p99_s"] < 5
    assert low["service_cores"] > 0 and low["driver_cores"] > 0
    assert len(doc["predicted"]) == len(doc["measured"])
    for predicted in doc["predicted"]:
        assert predicted["offered_rate"]["median"] > 0 and math.isfinite(predicted["p99_s"]["median"])
    params = doc["calibration"]["params"]
    assert params["ingest_s"] > 0 and params["send_s"] > 0 and 0 <= params["store_share"] <= 1
    assert low["stage_out_p50_s"] > 0 and doc["calibration"]["high_probe"]["other_cores_drained"] >= 0
    assert set(doc["acceptance"]) >= {"knee_ratio"} and doc["other_load_cores"]["mean"] >= 0
    # the machine's speed read again every third measured step and at the end, the first reading
    # the calibration's own saturating probe; each step knows when it ran
    speeds = doc["calibration"]["speed_probes"]
    steps_run = len(doc["measured"]) + len(doc["knee_share_runs"])
    assert len(speeds) == 1 + steps_run // 3 + 1 and speeds[0]["cpu_per_event_s"] > 0
    assert [p["at_s"] for p in speeds] == sorted(p["at_s"] for p in speeds)
    assert all(speeds[0]["at_s"] < m["at_s"] < speeds[-1]["at_s"] for m in doc["measured"])
    assert "the machine's speed over the run" in done.stdout
    # every figure's verdict, earned on both sides' intervals, with its line in the output
    verdicts = doc["verdicts"]
    assert verdicts["exit_code"] in (0, 1, 3) and verdicts["figures"][0]["figure"] == "knee"
    assert all(f["line"] in done.stdout for f in verdicts["figures"])
    refinement = doc.get("refinement", {})
    if refinement.get("grid_bracket_per_s"):  # a step failed above one that kept up: bisected
        low, high = refinement["bracket_per_s"]
        grid_low, grid_high = refinement["grid_bracket_per_s"]
        assert grid_low <= low < high <= grid_high and refinement["steps_run"] <= 3
        refined = [m for m in doc["measured"] if m.get("refined")]
        assert len(refined) == refinement["steps_run"] and len(doc["predicted"]) == len(doc["measured"])
        assert high / low < grid_high / grid_low or refinement["steps_run"] == 0
    if doc["knee"]["measured_per_s"]:  # the checks: one run at each share, every event's latency kept
        runs = doc["knee_share_runs"]
        assert [r["share"] for r in runs] == [0.5, 0.8] and all(r["repeat"] == 0 for r in runs)
        assert all(len(r["latencies_ms"]) == r["accepted"] for r in runs)
        assert [a["measured_how"] for a in doc["at_knee_share"]] == ["pooled", "pooled"]
        assert doc["at_knee_share"][0]["measured_p95_s"] == pytest.approx(runs[0]["p95_s"], rel=0.05)
    page = (out / "sweep.html").read_text()
    assert page.count("<svg") == 2 and "predicted" in page and "<table>" in page
    # the saved run predicted again, measuring nothing: the same measured steps, a new model run
    again = tmp_path / "again"
    replay = [*command[:4], "--replay", str(out), "--out", str(again)]
    done = subprocess.run(replay, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert " knee: measured " in done.stdout
    redone = json.loads((again / "sweep.json").read_text())
    assert redone["measured"] == doc["measured"] and len(redone["predicted"]) == len(doc["measured"])
    assert all(0 < row["cpu_per_event_s"]["median"] < 0.1 for row in redone["predicted"])
    assert redone["calibration"]["params"] == params  # the fit is deterministic
