"""One scenario, one world: the live stack takes every scenario key with a live counterpart."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from scenario import load_scenario
from twittcom.live_scenario import LiveScenarioError, circle_code, live_settings
from twittcom.live_stack import scenario_options
from twittcom.qa.client import StackClient
from twittcom.stack import InProcessStack

ROOT = Path(__file__).resolve().parents[2]


def _scenario(tmp_path: Path, text: str, overrides: tuple[str, ...] = ()):
    path = tmp_path / "s.toml"
    path.write_text(
        "[[arrivals.segments]]\nkind = 'constant'\nduration_s = 10\nrate = 5\n" + text, encoding="utf-8"
    )
    return load_scenario(path, overrides)


POOL = """
[population]
circles = { Delhi = 0.7, "Tamil Nadu" = 0.2, HP = 0.1 }
[system.ingestion]
poll_interval_s = 0.5
dm_poll_interval_s = 3.0
page_size = 50
rate_limit_requests = 60
rate_limit_window_s = 120
dm_rate_limit_requests = 7
dm_rate_limit_window_s = 300
[system.workers]
count = 8
[system.sms]
sender = "long_code"
pool_size = 12
mps = 12
validity_s = 900
[system.carrier]
latency = { dist = "uniform", low = 1.0, high = 3.0 }
failure_rate = 0.05
[system.x_budget]
user_limit = 300
user_window_s = 600
app_limit = 5000
app_window_s = 3600
"""


def test_circle_names_and_codes_map_to_the_22_circles():
    assert circle_code("Delhi") == "DL" and circle_code("dl") == "DL"
    assert circle_code("Tamil Nadu") == "TN" and circle_code("Andhra Pradesh & Telangana") == "AP"
    assert circle_code("Uttar Pradesh (East)") == "UE" and circle_code("Springfield") is None


def test_every_live_key_becomes_a_stack_setting(tmp_path):
    """Sender pool, validity, carrier latency and failures, circles, workers, polling, X limits."""
    live = live_settings(_scenario(tmp_path, POOL))
    assert [c for c, _ in live.circle_shares] == ["DL", "TN", "HP"]
    assert [s for _, s in live.circle_shares] == pytest.approx([0.7, 0.2, 0.1])
    assert (live.workers, live.poll_interval_s, live.dm_poll_interval_s, live.page_size) == (8, 0.5, 3.0, 50)
    service = live.sms_config["accounts"][0]["services"][0]
    assert live.sms_service_sid == service["sid"] and not live.sms_from
    assert len(service["pool"]) == 12 and {m["rate"] for m in service["pool"]} == {1.0}
    assert {m["kind"] for m in service["pool"]} == {"long_code"} and service["validity_period"] == 900
    carrier = live.sms_config["carrier"]["default"]
    assert carrier == {
        "latency": {"dist": "uniform", "low": 1.0, "high": 3.0},
        "failure_rates": {"30003": 0.05},
    }
    assert live.x_limits["GET /2/users/:id/mentions"]["user"] == [[60, 120.0]]
    assert live.x_limits["GET /2/dm_events"]["user"] == [[7, 300.0]]
    assert live.x_limits["POST /2/tweets"]["user"] == [[300, 600.0]]
    assert live.tweet_limits == (300, 600.0, 5000, 3600.0)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[population]\ncircles = { Springfield = 1.0 }\n", "population.circles.Springfield"),
        ("[system.sms]\nvalidity_s = 40000\n", "system.sms.validity_s"),
        ("[system.sms]\nconfirm_activations = false\n", "system.sms.confirm_activations"),
        ("[system.ingestion]\npage_size = 200\n", "system.ingestion.page_size"),
        ("[system.workers]\ncount = 100\n", "system.workers.count"),
        ("[system.x_budget]\nreply_to = ['act']\n", "system.x_budget.reply_to"),
        ("[system.x_budget]\nuser_limit = 0\n", "system.x_budget.user_limit"),
        ("[[arrivals.segments]]\nkind = 'constant'\nduration_s = 5\nrate = 900\n", "arrivals.segments"),
    ],
)
def test_a_value_the_live_stack_cannot_run_is_refused_in_one_line(tmp_path, text, key):
    with pytest.raises(LiveScenarioError) as caught:
        live_settings(_scenario(tmp_path, text))
    message = str(caught.value)
    assert message.startswith(f"{key}: ") and "\n" not in message


async def test_the_stack_runs_as_the_scenario_says(tmp_path):
    """Started from a scenario, the fakes and the processor hold its settings."""
    options = scenario_options(_scenario(tmp_path, POOL), population=600)
    async with InProcessStack(options) as stack, StackClient(stack.endpoints) as client:
        config = (await client.sms.get("/_fake/config")).json()
        account = config["accounts"][0] if isinstance(config.get("accounts"), list) else None
        assert account is not None
        pool = next(s for s in account["services"] if s["sid"] == options.sms_service_sid)
        assert len(pool["pool"]) == 12 and pool["rate"] == pytest.approx(12.0)
        assert config["carrier"]["default"]["latency"]["dist"] == "uniform"
        assert stack.service is not None
        cfg = stack.service.config
        assert (cfg.workers, cfg.dm_poll_interval_s, cfg.mentions_page_size) == (8, 3.0, 50)
        assert (
            cfg.twilio_messaging_service_sid == options.sms_service_sid and cfg.twilio_validity_period == 900
        )
        # the per-user write limit is fake X's, set at the first scheduled start (X's headers steer
        # the processor); the app's is the processor's own budget
        assert (cfg.x_user_tweet_limit, cfg.x_app_tweet_limit, cfg.x_app_tweet_window_s) == (0, 5000, 3600.0)
        assert cfg.x_dm_limit == 0
        circles = Counter(s.circle for s in stack.population.subscribers)
        assert set(circles) == {"DL", "TN", "HP"} and circles["DL"] > 3 * circles["TN"] > 0
        for circle in ("DL", "TN", "HP"):
            assert (await client.admin("/admin/catalog", circle=circle))["packs"], circle


def test_the_shipped_scenarios_run_live_but_the_record_spike():
    """record-spike's 500 events/s is beyond one generator process here: refused, naming the key."""
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        if path.stem == "record-spike":
            with pytest.raises(LiveScenarioError, match="^arrivals.segments: peak 500 events/s"):
                live_settings(load_scenario(path))
        else:
            live_settings(load_scenario(path))


async def test_x_limits_from_a_scenario_are_set_at_fake_x(tmp_path):
    """The table the load run sets at t0 is one fake X accepts: mentions, DM reads, POST /2/tweets."""
    from dataclasses import replace

    scenario = _scenario(tmp_path, POOL)
    options = replace(scenario_options(scenario, population=50), x_limits=live_settings(scenario).x_limits)
    async with InProcessStack(options) as stack, StackClient(stack.endpoints) as client:
        limits = (await client.x.get("/_fake/rate-limits")).json()
        text = str(limits)
        assert "custom" in text and "60" in text and "300" in text


@pytest.mark.parametrize(
    ("delay", "latency"),
    [
        ("0.2", {"kind": "fixed", "a": 200.0}),
        ('{dist = "exponential", mean = 0.4}', {"kind": "exponential", "a": 400.0}),
        ('{dist = "uniform", low = 0.1, high = 0.5}', {"kind": "uniform", "a": 100.0, "b": 500.0}),
        ('{dist = "lognormal", p50 = 0.3, p95 = 1.0}', {"kind": "lognormal", "a": 300.0, "b": 1000.0}),
    ],
)
def test_a_webhook_delay_becomes_fake_x_delivery_latency(tmp_path, delay, latency):
    text = f"[system.ingestion]\nmode = 'webhook'\nwebhook_delay = {delay}\n"
    got = live_settings(_scenario(tmp_path, text)).webhook_latency
    assert got is not None and got.keys() == latency.keys()
    assert all(got[k] == pytest.approx(v) for k, v in latency.items())
    assert live_settings(_scenario(tmp_path, "")).webhook_latency is None  # polling: no deliveries


async def test_webhook_deliveries_carry_the_scenario_delay(tmp_path):
    scenario = _scenario(tmp_path, "[system.ingestion]\nmode = 'webhook'\nwebhook_delay = 0.25\n")
    async with (
        InProcessStack(scenario_options(scenario, population=50)) as stack,
        StackClient(stack.endpoints) as client,
    ):
        faults = (await client.x.get("/_fake/faults")).json()
        assert "webhooks" in str(faults) and "250" in str(faults)
        assert stack.x_app is not None and stack.x_app.dispatcher.concurrency >= 1000
