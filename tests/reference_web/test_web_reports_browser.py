"""The simulate, plan and storm reports as a person sees them: headless Chromium, verdict on top.

Each report of a shipped scenario is opened from its file in a desktop-sized window; the verdict
paragraph must be there, begin with the binding resource and sit in the first screenful. A
full-page screenshot of each goes to ``$TWITTCOM_SCREENSHOTS`` (default ``/tmp/twittcom-report-shots``)
for a person to look at; nothing is committed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from .browser import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, require_chromium

pytestmark = pytest.mark.browser

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SHOTS = Path(os.environ.get("TWITTCOM_SCREENSHOTS", "/tmp/twittcom-report-shots"))
FIRST_SCREEN = 900  # px: the verdict is read before scrolling


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    require_chromium()
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    options.add_argument("--window-size=1280,900")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _verdict_on_page(driver: Any, report: Path, shot: str) -> str:
    from selenium.webdriver.common.by import By

    driver.set_window_size(1280, 900)
    driver.get(report.resolve().as_uri())
    verdict = driver.find_element(By.ID, "verdict")
    assert verdict.is_displayed() and verdict.location["y"] < FIRST_SCREEN, verdict.location
    deadline = time.monotonic() + 10  # the plots are data: URIs, decoded after the load event
    while not driver.execute_script("return [...document.images].every(i => i.complete)"):
        assert time.monotonic() < deadline, "the plots did not load"
        time.sleep(0.1)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height) + 40, 6000))
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SHOTS / f"{shot}.png"))
    text: str = verdict.text
    assert re.search(r"\d", text), text  # a figure, not only words
    return text


def test_simulate_report_opens_with_its_verdict(desktop: Any, tmp_path: Path) -> None:
    from scenario import load_scenario
    from simulator.runner import run_scenario
    from simulator.verdict import simulate_verdict

    outcome = run_scenario(load_scenario(SCENARIOS / "outage-storm.toml", ()), None, tmp_path)
    text = _verdict_on_page(desktop, tmp_path / "report.html", "simulate-outage-storm")
    assert text == " ".join(simulate_verdict(outcome.summary))
    assert text.startswith("The binding resource is X's x_replies_user budget")


def test_plan_report_opens_with_its_verdict(desktop: Any, tmp_path: Path) -> None:
    from simulator.plan import parse_slo, parse_vary, plan_grid
    from simulator.plan_html import plan_verdict
    from simulator.plan_report import write_plan_outputs

    vary = [parse_vary("workers=1,2"), parse_vary("sms_mps=10,30,100")]
    result = plan_grid(
        SCENARIOS / "30mps-registration-wave.toml", vary, [parse_slo("code_p95<30s")], 3, jobs=1
    )
    write_plan_outputs(result, tmp_path, "Twittcom plan: 30mps-registration-wave.toml")
    text = _verdict_on_page(desktop, tmp_path / "report.html", "plan-30mps-registration-wave")
    assert text == " ".join(plan_verdict(result))
    assert "The binding resource is the SMS sender's rate" in text


@pytest.mark.slow
def test_storm_report_opens_with_its_verdict(desktop: Any, tmp_path: Path) -> None:
    """A short storm of the CI scenario (5 s of arrivals, 5 s of drain, 2 seeds): about 30 s."""
    from twittcom.commands.storm import storm

    args = [str(SCENARIOS / "ci-smoke.toml"), "--duration", "5s", "--seeds", "2", "--preregister", "0",
            "--set", "run.drain_s=5", "--out", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(storm, args)
    assert result.exit_code == 0, result.output
    text = _verdict_on_page(desktop, tmp_path / "report.html", "storm-ci-smoke")
    assert text.startswith("Measured on the live stack, codes reached the handset in p50")
    assert "In the model of the same scenario: the " in text
