"""plan's report.html: the verdict names the answer and the binding resource; each row says why."""

from __future__ import annotations

from simulator.plan import parse_slo, parse_vary, plan_grid
from simulator.plan_html import binding_key, plan_verdict, why
from simulator.plan_report import write_plan_outputs


def _plan(scenarios_dir, slos, vary):
    return plan_grid(
        scenarios_dir / "30mps-registration-wave.toml",
        [parse_vary(v) for v in vary],
        [parse_slo(s) for s in slos],
        replications=3,
        jobs=1,
        max_replications=6,
    )


def test_the_verdict_names_the_cheapest_answer_and_the_resource_that_binds(scenarios_dir, tmp_path):
    result = _plan(scenarios_dir, ["code_p95<30s"], ["workers=1,2", "sms_mps=10,30"])
    assert result.best is not None and result.best.settings["system.sms.mps"] == 30
    assert binding_key(result) == "system.sms.mps"
    verdict = " ".join(plan_verdict(result))
    assert verdict.startswith("The cheapest configuration proven to meet every SLO is workers=1, sms_mps=30")
    assert "The binding resource is the SMS sender's rate" in verdict and "fails code_p95<30s." in verdict
    failed = next(c for c in result.configs if c.settings["system.sms.mps"] == 10)
    mean = failed.metrics["code_p95"][0]
    assert why(failed, list(result.slos)).startswith(f"fails code_p95<30s: {mean:.3g}")
    paths = write_plan_outputs(result, tmp_path, "plan test")
    page = (tmp_path / "report.html").read_text()
    assert paths[-1].name == "report.html" and verdict.split(";")[0] in page.replace("&#x27;", "'")
    assert "fails code_p95&lt;30s" in page


def test_when_nothing_meets_the_verdict_says_which_slo_binds(scenarios_dir):
    result = _plan(scenarios_dir, ["code_p95<5s"], ["workers=1,2"])
    assert result.best is None
    assert plan_verdict(result) == [
        "No configuration of the 2 is proven to meet every SLO; code_p95<5s binds: 2 of them fail it."
    ]
