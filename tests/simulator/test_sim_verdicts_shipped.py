"""Every shipped scenario's simulate and plan report opens with a verdict naming a resource and a figure."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scenario import load_scenario
from simulator.plan import parse_slo, parse_vary, plan_grid
from simulator.plan_html import plan_verdict
from simulator.runner import run_scenario
from simulator.verdict import simulate_verdict

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml"))
RESOURCE = re.compile(r"(the workers|the SMS sender|X's [a-z_]+ budget|the number of workers|code_p95<)")
FIGURE = re.compile(r"\d")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_simulate_report_opens_with_the_binding_resource_and_a_figure(path, tmp_path):
    outcome = run_scenario(load_scenario(path, ()), None, tmp_path, plots=False)
    first = simulate_verdict(outcome.summary)[0]
    assert first.startswith(("The binding resource is", "The most used resource is")), first
    assert RESOURCE.search(first) and FIGURE.search(first), first
    page = (tmp_path / "report.html").read_text()
    assert page.index('id="verdict"') < page.index("<h2>"), "the verdict comes before every section"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_plan_report_opens_with_its_verdict(path):
    result = plan_grid(
        path, [parse_vary("workers=1,2")], [parse_slo("code_p95<60s")], 2, jobs=1, max_replications=2
    )
    first = plan_verdict(result)[0]
    assert first.startswith(("The cheapest configuration proven", "No configuration of the 2")), first
    assert RESOURCE.search(first) or "workers=" in first, first
    assert FIGURE.search(first), first
