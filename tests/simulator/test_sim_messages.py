"""The model sends every message the processor sends, through the same stations, counted per kind."""

from __future__ import annotations

from pathlib import Path

from scenario import load_scenario
from simulator.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_every_processor_message_is_counted_per_kind():
    """Code SMS per code sent, a "linked" SMS per registration, a confirmation per activation,
    a DM answer per DM buy, reply tweets within the write budget."""
    summary = run_scenario(load_scenario(ROOT / "scenarios" / "ci-smoke.toml"), plots=False).summary
    messages = summary["messages"]
    assert messages["sms_link"] > 0 and messages["dm_reply"] == summary["arrivals"]["dm"]
    assert messages["sms_code"] + messages.get("sms_expired", 0) >= summary["journeys"]["code_delivered"]
    assert messages["sms_confirmation"] == summary["activations"]["total"]  # no warm-up
    sent = messages["sms_code"] + messages["sms_link"] + messages["sms_confirmation"]
    assert summary["sms"]["sent"] == sent
    assert messages["reply_tweet"] == summary["replies"]["posted"]


def test_the_linked_sms_shares_the_sender_with_the_codes(tmp_path):
    """At 1 msg/s the "linked" SMS queue in front of later codes: the SMS queue stage grows."""
    scenario = ROOT / "scenarios" / "ci-smoke.toml"
    slow = run_scenario(load_scenario(scenario, ["sms_mps=1.5"]), plots=False).summary
    linked = slow["messages"]["sms_link"]
    assert linked > 0 and slow["sms"]["sent"] >= linked + slow["messages"]["sms_code"]
    assert slow["code_latency_stages_s"]["sms_queue"]["mean"] > 1.0


def test_activation_latency_ends_at_the_first_confirmation_the_buyer_sees():
    """With the reply budget spent at once, a tweet buy is confirmed by SMS: sender plus carrier."""
    scenario = ROOT / "scenarios" / "ci-smoke.toml"
    replied = run_scenario(load_scenario(scenario), plots=False).summary
    by_sms = run_scenario(load_scenario(scenario, ["system.x_budget.user_limit=1"]), plots=False).summary
    assert replied["activation_latency_s"]["p50"] < 1.0
    assert by_sms["activation_latency_s"]["p50"] > 3.0  # the carrier's p50 is 4 s
    assert by_sms["dm_activation_latency_s"]["p50"] < 1.0  # DM buys are answered by DM
