"""Scenario loading: defaults, validation errors naming the key, and --set overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario import OverrideError, ScenarioError, load_scenario

SHIPPED = ["steady", "launch", "outage-storm", "record-spike", "ci-smoke"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_load(scenarios_dir, name):
    """Every shipped scenario validates."""
    scenario = load_scenario(scenarios_dir / f"{name}.toml")
    assert scenario.name == name
    assert scenario.run.duration_s > 0


def test_launch_has_about_5000_registrations(scenarios_dir):
    """launch.toml: 44,000 followers, none registered, ~5,000 expected #reg."""
    sc = load_scenario(scenarios_dir / "launch.toml")
    assert sc.population.followers == 44_000 and sc.population.registered_share == 0
    assert sc.arrivals.expected_count(0, sc.run.duration_s, "reg") == pytest.approx(5_000, rel=0.05)


def test_outage_storm_complaints_peak_near_12_per_s(scenarios_dir):
    """outage-storm.toml: 5 % of customers cut off; complaint noise rises by about 12 tweets/s."""
    sc = load_scenario(scenarios_dir / "outage-storm.toml")
    base = sc.arrivals.kind_rate_at("noise", 5)  # in the calm first segment
    peak = max(sc.arrivals.kind_rate_at("noise", t) for t in range(120))
    assert peak - base == pytest.approx(12, abs=1)
    affected = {c for o in sc.system.carrier.outages for c in o.circles}
    assert sum(share for name, share in sc.population.circles if name in affected) == pytest.approx(0.05)


def test_record_spike_is_25x_within_seconds(scenarios_dir):
    """record-spike.toml: the rate goes from its base to 25x within 3 s."""
    sc = load_scenario(scenarios_dir / "record-spike.toml")
    assert sc.arrivals.rate_at(29) * 25 == pytest.approx(sc.arrivals.rate_at(32.999), rel=0.01)


def test_defaults_fill_what_the_file_omits(write_scenario, minimal):
    """A file with only segments gets the documented defaults."""
    sc = load_scenario(write_scenario(minimal))
    assert sc.system.workers.count == 4
    assert sc.system.x_budget.user_limit == 100 and sc.system.x_budget.app_limit == 10_000
    assert sc.system.carrier.latency.param("p50") == 4.0
    assert sc.run.duration_s == 10


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[system.sms]\nmsp = 5\n", "system.sms.msp", "unknown key"),
        ("[system.sms]\nmps = 0\n", "system.sms.mps", "must be > 0"),
        ("[system.workers]\ncount = 2.5\n", "system.workers.count", "integer"),
        ("[user]\ntypo_rate = 1.5\n", "user.typo_rate", "between"),
        (
            "[user]\ncode_reply_delay = { dist = 'weibull' }\n",
            "user.code_reply_delay.dist",
            "unknown distribution",
        ),
        ("[user]\nbuy_delay = { dist = 'lognormal', p50 = 5 }\n", "user.buy_delay", "p50"),
        ("[arrivals]\nmix = { spam = 1 }\n", "arrivals.mix.spam", "unknown kind"),
        ("[system.ingestion]\nmode = 'push'\n", "system.ingestion.mode", "polling"),
        (
            "[[system.carrier.outages]]\ncircles = ['Goa']\nstart_s = 1\nend_s = 2\n",
            "outages.0.circles",
            "Goa",
        ),
        ("[run]\nwarmup_s = 50\n", "run.warmup_s", "shorter"),
    ],
)
def test_validation_errors_name_the_key(write_scenario, minimal, text, key, problem):
    """Bad values raise ScenarioError naming the dotted key and the problem."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_scenario(minimal + text))
    assert key in info.value.key
    assert problem in str(info.value)


@pytest.mark.parametrize(
    ("segment", "key"),
    [
        ("kind = 'wave'\nduration_s = 5", "arrivals.segments.0.kind"),
        ("kind = 'ramp'\nduration_s = 5\nfrom = 1", "arrivals.segments.0.to"),
        ("kind = 'decay'\nduration_s = 5\nfrom = 1\nhalf_life_s = 0", "arrivals.segments.0.half_life_s"),
        ("kind = 'piecewise'\npoints = [[1, 2], [3, 4]]", "arrivals.segments.0.points"),
        ("kind = 'constant'\nrate = 3", "arrivals.segments.0.duration_s"),
        ("kind = 'constant'\nduration_s = 5\nrate = 3\nspeed = 2", "arrivals.segments.0.speed"),
    ],
)
def test_segment_errors(write_scenario, segment, key):
    """Malformed segments are reported with their index and key."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(write_scenario(f"[[arrivals.segments]]\n{segment}\n"))
    assert info.value.key == key


def test_missing_segments_and_bad_toml(write_scenario, tmp_path):
    """No segments, invalid TOML and a missing file are clear errors."""
    with pytest.raises(ScenarioError, match="at least one segment"):
        load_scenario(write_scenario("name = 'x'\n"))
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(write_scenario("name = \n"))
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "nope.toml")


def test_overrides_apply_with_type_checks(smoke):
    """--set changes values (aliases, nested keys, list indices, distribution tables)."""
    sc = load_scenario(
        smoke,
        [
            "workers=9",
            "sms_mps=12",
            "system.carrier.failure_rate=0",
            "arrivals.segments.0.rate=33",
            'user.buy_delay={dist="constant", value=3}',
            "system.workers.service.reg=0.5",
            "population.circles.Kolkata=0.5",
        ],
    )
    assert sc.system.workers.count == 9
    assert sc.system.sms.mps == 12.0
    assert sc.system.carrier.failure_rate == 0
    assert sc.arrivals.rate_at(1) == 33
    assert sc.user.buy_delay.mean == 3
    assert sc.system.workers.service_of("reg").mean == 0.5
    assert dict(sc.population.circles)["Kolkata"] == pytest.approx(0.5 / 1.5)


@pytest.mark.parametrize(
    ("assignment", "problem"),
    [
        ("workers=many", "expected an integer"),
        ("system.sms.nope=1", "unknown key"),
        ("system.smss.mps=1", "unknown key"),
        ("arrivals.segments.4.rate=1", "not an index"),
        ("user.typo_rate=true", "expected a number"),
        ("no-equals-sign", "key=value"),
    ],
)
def test_bad_overrides(smoke, assignment, problem):
    """A malformed or mistyped override raises OverrideError naming the key."""
    with pytest.raises(OverrideError, match=problem):
        load_scenario(smoke, [assignment])


def test_override_values_are_still_validated(smoke):
    """An override of the right type but an invalid value fails validation."""
    with pytest.raises(ScenarioError, match="system.sms.mps"):
        load_scenario(smoke, ["sms_mps=-1"])


def test_numeric_overrides_are_typed_by_the_schema_not_by_how_the_file_wrote_them():
    """`--set sms_mps=12.5` works though launch.toml writes `mps = 100` (a TOML integer)."""
    launch = Path(__file__).resolve().parents[2] / "scenarios" / "launch.toml"
    assert load_scenario(launch, ["sms_mps=12.5"]).system.sms.mps == 12.5
    assert load_scenario(launch, ["sms_mps=25"]).system.sms.mps == 25.0
    with pytest.raises(OverrideError, match="expected an integer"):
        load_scenario(launch, ["workers=2.5"])
