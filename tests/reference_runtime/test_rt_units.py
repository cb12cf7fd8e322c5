"""Pure pieces of the runtime: write budget, configuration, outage replies, webhook parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import twitter_text
from reference.clients import RateLimitState
from reference.domain.errors import ConfigError
from reference.runtime import (
    BadPayload,
    Operator,
    ServiceConfig,
    WindowLimit,
    WriteBudget,
    events_from_webhook,
)
from reference.runtime.outage import OutageState, status_reply

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Ticker:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_budget_counts_writes_in_sliding_windows() -> None:
    """100 per 15 min: the 101st write waits until the oldest leaves the window; 0 means unlimited."""
    clock = Ticker()
    budget = WriteBudget(
        [WindowLimit(100, 900.0), WindowLimit(10_000, 86_400.0), WindowLimit(0, 1.0)], clock=clock
    )
    for _ in range(100):
        assert budget.take()
        clock.t += 1
    assert not budget.available() and budget.left() == 0
    clock.t += 800  # the first write is now 900 s old: it leaves the window
    assert budget.left() == 1 and budget.take()
    assert WriteBudget([], clock=clock).left() == float("inf")


def test_budget_learns_from_x_headers_and_pauses_on_429() -> None:
    """x-rate-limit-remaining caps the budget until its reset; a 429 pauses writes until the reset."""
    clock = Ticker()
    budget = WriteBudget([WindowLimit(100, 900.0)], clock=clock)
    budget.learn(RateLimitState(limit=100, remaining=2, reset_at=int(clock.t) + 60))
    assert budget.left() == 2 and budget.take() and budget.take() and not budget.take()
    clock.t += 61
    assert budget.left() == 98
    budget.pause_until(clock.t + 30)
    assert budget.left() == 0 and budget.paused_until == clock.t + 30
    clock.t += 31
    assert budget.available()


def test_config_reads_twittcom_variables_and_rejects_nonsense() -> None:
    """TWITTCOM_* variables fill the config with their types; bad values are ConfigErrors."""
    env = {"TWITTCOM_DSN": "x.db", "TWITTCOM_WORKERS": "3", "TWITTCOM_LEASE_S": "2.5",
           "TWITTCOM_WEB_RATE_LIMIT": "off", "TWITTCOM_INGESTION": "poll"}  # fmt: skip
    config = ServiceConfig.from_env(env, batch_size=8)
    assert (config.dsn, config.workers, config.lease_s, config.web_rate_limit) == ("x.db", 3, 2.5, False)
    assert config.ingestion == "poll" and config.batch_size == 8
    assert config.webhook_url.endswith("/webhooks/x") and "admin_token" in config.problems()
    assert "x_user_token" not in repr(ServiceConfig(x_user_token="secret-value")).replace("x_user_token", "")
    with pytest.raises(ConfigError):
        ServiceConfig.from_env({"TWITTCOM_WORKERS": "many"})
    with pytest.raises(ConfigError):
        ServiceConfig(ingestion="carrier-pigeon")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        ServiceConfig(workers=0)


def test_status_replies_fit_a_tweet_and_differ_per_complaint() -> None:
    """A long status is cut to 280 weighted characters; two complaints get different reply texts."""
    long_status = "नेटवर्क समस्या " * 60
    first = status_reply("ravi", long_status, "1800000000000000001")
    second = status_reply("ravi", long_status, "1800000000000000002")
    assert twitter_text.weighted_length(first) <= 280 and first.startswith("@ravi ")
    assert first != second
    assert OutageState.from_json(OutageState(True, "down", "t").to_json()) == OutageState(True, "down", "t")


def test_webhook_reads_the_full_text_of_long_tweets() -> None:
    """A truncated v1.1 tweet is read from extended_tweet.full_text."""
    operator = Operator("1", "TataDocomo")
    tweet = {
        "id_str": "5", "text": "@tatadocomo #act …", "truncated": True,
        "user": {"id_str": "2", "screen_name": "a"},
        "extended_tweet": {"full_text": "@tatadocomo #act #TD49DEL " + "x" * 200,
                           "entities": {"user_mentions": [{"screen_name": "tatadocomo", "id_str": "1"}]}},
    }  # fmt: skip
    (event,) = events_from_webhook({"for_user_id": "1", "tweet_create_events": [tweet]}, operator, NOW)
    assert event.text.startswith("@tatadocomo #act #TD49DEL") and event.handle == "a"
    with pytest.raises(BadPayload):
        events_from_webhook({"direct_message_events": [{"type": "message_create"}]}, operator, NOW)


def test_config_round_trips_through_the_environment_and_shares_limits() -> None:
    """to_env/from_env give back the same config; N processes each keep to 1/N of a write limit."""
    config = ServiceConfig(dsn="a.db", workers=3, web_rate_limit=False, lease_s=2.5, processes=4)
    assert ServiceConfig.from_env(config.to_env()) == config
    assert (config.share(100), config.share(0), config.share(3)) == (25, 0, 1)


def test_the_service_sells_the_catalog_it_is_given(tmp_path) -> None:
    """``--catalog`` / TWITTCOM_CATALOG: the operator's own packs, not the sample's; a missing file is
    a ConfigError before anything starts."""
    from reference.bootstrap import build_service

    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        'version = 1\n\n[[pack]]\nid = "stv5"\nname = "Rs 5 SMS Pack"\nkind = "stv"\nprice_paise = 500\n'
        'validity_days = 1\nbenefit = "100 SMS"\nhashtags = { DL = "XSTV5DL" }\n',
        encoding="utf-8",
    )
    config = ServiceConfig.from_env({"TWITTCOM_CATALOG": str(catalog)}, dsn=str(tmp_path / "t.db"))
    service = build_service(config)
    assert [(p.pack_id, p.circle, p.hashtag) for p in service.catalog] == [("stv5", "DL", "XSTV5DL")]
    sample = build_service(ServiceConfig(dsn=str(tmp_path / "s.db")))
    assert "XSTV5DL" not in {p.hashtag for p in sample.catalog} and len(list(sample.catalog)) > 20
    with pytest.raises(ConfigError, match="no such file"):
        ServiceConfig(catalog=str(tmp_path / "missing.toml"))
