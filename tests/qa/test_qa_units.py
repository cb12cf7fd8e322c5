"""The QA suite's own parts: reply patterns, --against parsing, failure reporting and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zlib
from datetime import date
from pathlib import Path

import click
import pytest

from fake_twitter.webhooks import sign_body
from reference.domain.catalog import Pack
from reference.domain.outcomes import Outcome
from reference.domain.replies import ReplyFacts, render_reply, render_sms
from twittcom.commands.scenarios import parse_against
from twittcom.qa.client import metric_value
from twittcom.qa.replies import REPLY_PATTERNS, SMS_PATTERNS, outcome_of_reply
from twittcom.qa.scenario import Result, Scenario, ScenarioContext, run_scenarios, write_junit
from twittcom.qa.webhooks import sign

PACK = Pack("stv49", "Rs 49 Local+STD STV", "stv", 4900, 28, "calls", "DL", "TD49DEL")


def _facts(message_id: str) -> ReplyFacts:
    return ReplyFacts(
        "asha",
        message_id,
        "+919812345678",
        tries_left=3,
        pack=PACK,
        hashtag="TD49DEL",
        circle="DL",
        suggestions=[PACK],
        balance_paise=1000,
        valid_until=date(2026, 1, 2),
        code="123456",
    )


def _ids_covering_variants(count: int) -> list[str]:
    ids: dict[int, str] = {}
    number = 1_000_000
    while len(ids) < count:
        number += 1
        ids.setdefault(zlib.crc32(str(number).encode()) % count, str(number))
    return list(ids.values())


@pytest.mark.parametrize("outcome", [o for o in Outcome if o.value in REPLY_PATTERNS], ids=lambda o: o.value)
def test_every_reply_variant_reads_as_its_own_outcome(outcome: Outcome) -> None:
    """Each phrasing the processor rotates through matches its outcome's pattern and no other."""
    for message_id in _ids_covering_variants(3):
        for public in (True, False):
            text = render_reply(outcome, _facts(message_id), public=public)
            assert text is not None
            assert outcome_of_reply(text) == outcome.value, text


@pytest.mark.parametrize("name", sorted(SMS_PATTERNS))
def test_sms_patterns_match_the_processor_sms(name: str) -> None:
    """The SMS patterns QA waits for match the SMS the processor sends for that outcome."""
    text = render_sms(Outcome(name), _facts("42"))
    assert text is not None and SMS_PATTERNS[name].search(text), text


def test_parse_against_reads_three_urls_and_needs_the_token() -> None:
    """--against takes x=, sms= and processor= URLs; a missing one or a missing token is a usage error."""
    endpoints = parse_against(
        "x=http://127.0.0.1:1/,sms=http://127.0.0.1:2,processor=http://127.0.0.1:3", "t", "op"
    )
    assert (endpoints.x, endpoints.sms, endpoints.processor) == (
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
        "http://127.0.0.1:3",
    )
    with pytest.raises(click.BadParameter):
        parse_against("x=http://a,sms=http://b", "t", "op")
    with pytest.raises(click.BadParameter):
        parse_against("x=http://a,sms=http://b,processor=http://c", "", "op")


def test_metric_value_sums_matching_samples() -> None:
    """metric_value adds the samples of a name whose labels include the asked ones."""
    text = (
        '# HELP x\nt_total{source="webhook",result="duplicate"} 2.0\n'
        't_total{source="poll",result="duplicate"} 3.0\nt_total{source="poll",result="queued"} 7.0\n'
    )
    assert metric_value(text, "t_total", {"result": "duplicate"}) == 5.0
    assert metric_value(text, "t_total") == 12.0
    assert metric_value(text, "other") == 0.0


def test_sign_agrees_with_fake_x() -> None:
    """QA signs webhook bodies exactly as fake X does (sha256= + base64 HMAC-SHA256 of the body)."""
    for body in (b"{}", '{"for_user_id": "1", "text": "\u0939\u093f"}'.encode()):
        assert sign(body, "consumer-secret") == sign_body("consumer-secret", body)


class _NoStack:
    """A client whose every stack call fails: the runner must report, not raise."""

    async def settle(self) -> None:
        return None

    async def advance_x_clock(self, seconds: float) -> float:
        return seconds

    async def x_faults(self, rule: object) -> None:
        raise RuntimeError("gone")


async def test_runner_reports_a_failing_story_and_junit_marks_it(tmp_path: Path) -> None:
    """A scenario whose expectation fails is a failure in the results and in the JUnit XML."""

    async def broken(ctx: ScenarioContext) -> None:
        ctx.check(1 + 1 == 3, "arithmetic changed")

    async def fine(ctx: ScenarioContext) -> None:
        ctx.note("all good")

    stories = [
        Scenario("broken", "A story that fails.", broken),
        Scenario("fine", "A story that passes.", fine),
    ]
    results = await run_scenarios(_NoStack(), stories, seed=1)  # type: ignore[arg-type]
    assert [(r.name, r.passed) for r in results] == [("broken", False), ("fine", True)]
    assert results[0].error == "arithmetic changed"
    path = tmp_path / "out.xml"
    write_junit(results + [Result("later", "Skipped story.", True, 0.0, "no poll", skipped=True)], path)
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("skipped") == "1"
    failure = suite.find("testcase[@name='broken']/failure")
    assert failure is not None and failure.get("message") == "arithmetic changed"


def test_scenarios_against_nothing_fails_before_running(tmp_path: Path) -> None:
    """--against URLs where nothing listens: a clear error and a non-zero exit, no scenario run."""
    from click.testing import CliRunner

    from twittcom.cli import main

    junit = tmp_path / "none.xml"
    urls = "x=http://127.0.0.1:9,sms=http://127.0.0.1:9,processor=http://127.0.0.1:9"
    result = CliRunner().invoke(
        main, ["scenarios", "--against", urls, "--admin-token", "t", "--junit", str(junit)]
    )
    assert result.exit_code != 0
    assert "does not answer" in result.output and not junit.exists()
