"""User sizing for the open model, outcome classification and package boundaries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import loadtests
from loadtests.journeys import classify, national_number, snowflake_time
from loadtests.sizing import peak_rates, users_needed
from scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_users_cover_peak_rate_times_journey_length():
    """Each actor gets at least peak rate x journey seconds users; unused kinds get none."""
    scenario = load_scenario(ROOT / "scenarios" / "ci-smoke.toml", ["arrivals.mix={reg=1,act=1}"])
    users = users_needed(scenario, headroom=1.0, minimum=0)
    peaks = peak_rates(scenario.arrivals)
    assert users["noise"] == 0 and users["dm"] == 0
    assert users["reg"] >= peaks["reg"] * scenario.user.abandon_after_s
    assert users["act"] >= peaks["act"] * 15


def test_storm_peak_rates_follow_the_profile():
    """The record-spike scenario's peak total rate is its 25x surge."""
    scenario = load_scenario(ROOT / "scenarios" / "record-spike.toml")
    total = sum(peak_rates(scenario.arrivals).values())
    assert (
        abs(
            total
            - max(scenario.arrivals.rate_at(t / 4) for t in range(int(scenario.arrivals.duration_s * 4)))
        )
        < 1
    )


def test_confirmation_texts_are_classified():
    """Activation, low balance and not-registered replies map to their outcomes."""
    assert classify("Done! TD49 activated on 98xxxx, valid till 3 Dec. Check your SMS.") == "activated"
    assert (
        classify("Twittcom: TD49 costs Rs 49; your balance is Rs 2. Please recharge.")
        == "insufficient_balance"
    )
    assert (
        classify("To buy packs, register first by tweeting #reg and your mobile number.") == "not_registered"
    )
    assert classify("#XYZ is for another circle. In yours: #TD49DEL") == "rejected"


def test_number_and_snowflake_helpers():
    """#reg tweets carry the 10-digit national number; snowflakes decode to Unix time."""
    assert national_number("+919812345678") == "9812345678"
    assert abs(snowflake_time((1_000 << 22) | 5) - (1_288_834_974.657 + 1.0)) < 1e-6


def test_exports_are_sorted_and_resolvable():
    """The package's __all__ is sorted and every name exists."""
    assert list(loadtests.__all__) == sorted(loadtests.__all__)
    assert all(hasattr(loadtests, name) for name in loadtests.__all__)


def test_loadtests_never_imports_the_stack_components():
    """No module of loadtests imports reference, fake_twitter or fake_sms (the stack is a black box)."""
    for path in (ROOT / "loadtests").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            for name in names:
                assert name.split(".")[0] not in {"reference", "fake_twitter", "fake_sms"}, (path, name)


def test_importing_the_pure_modules_does_not_load_locust():
    """The schedule, thresholds, bench and report modules import without locust (no gevent patching)."""
    code = (
        "import sys, loadtests, loadtests.bench, loadtests.report, loadtests.sizing, loadtests.population;"
        "print('locust' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"
