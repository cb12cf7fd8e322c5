"""The command parser: tweets and DMs -> Register / Verify / Buy / Noise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import twitter_text
from reference.domain.commands import Buy, Command, Noise, Register, Verify
from reference.domain.parser import KEYWORDS, CommandParser

PARSER = CommandParser("tatadocomo")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("@tatadocomo #reg 9876543210", Register("9876543210")),
        ("@TataDocomo #REG +91 98765-43210 thanks", Register("+91 98765-43210")),
        ("#reg 09876543210 @tatadocomo", Register("09876543210")),
        ("@tatadocomo #reg", Register("")),
        ("@tatadocomo #reg my number is 98765 43210 thanks", Register("98765 43210")),
        ("D @tatadocomo act TD49DEL", Buy("TD49DEL")),
        ("d @TATADOCOMO reg 9876543210", Register("9876543210")),
        ("D @someoneelse act TD49DEL", Noise()),
        ("@tatadocomo 123456", Verify("123456")),
        ("@tatadocomo my code is 123456 thanks", Verify("123456")),
        ("@tatadocomo #code 654321", Verify("654321")),
        ("@tatadocomo #Code: 654321", Verify("654321")),
        ("@tatadocomo #act #TD49DEL", Buy("TD49DEL")),
        ("@tatadocomo #TD49DEL #act please", Buy("TD49DEL")),
        ("@tatadocomo please #act #td49del now", Buy("TD49DEL")),
        ("@tatadocomo #act# TD49DEL", Buy("TD49DEL")),
        ("@tatadocomo #ACT#td49del", Buy("TD49DEL")),
        ("@tatadocomo #act", Buy(None)),
        ("@tatadocomo network is down again!", Noise()),
        ("@tatadocomo 9876543210", Noise()),
        ("@tatadocomo 123456 654321", Noise()),
        ("#act #TD49DEL", Noise()),  # not addressed to the operator
        ("@tatadocomofan #act #TD49DEL", Noise()),  # another account
        ("tatadocomo #act #TD49DEL", Noise()),  # no mention
        ("@tatadocomo #actnow #TD49DEL", Noise()),
        ("@tatadocomo a#act #TD49DEL", Noise()),  # not a hashtag per twitter-text
    ],
)
def test_tweet_commands(text: str, command: Command) -> None:
    """Tweets addressed to the operator parse to the command the launch rules describe."""
    assert PARSER.parse("tweet", text) == command


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("reg 9876543210", Register("9876543210")),
        ("REG: +91 98765 43210", Register("+91 98765 43210")),
        ("#reg 9876543210", Register("9876543210")),
        ("code 123456", Verify("123456")),
        ("123456", Verify("123456")),
        ("act TD49DEL", Buy("TD49DEL")),
        ("Act td49del please", Buy("TD49DEL")),
        ("#act #TD49DEL", Buy("TD49DEL")),
        ("act", Buy(None)),
        ("hello, my balance is wrong", Noise()),
        ("react TD49DEL", Noise()),
    ],
)
def test_dm_keywords_with_or_without_hash(text: str, command: Command) -> None:
    """DMs are addressed by construction; keywords work with or without '#'."""
    assert PARSER.parse("dm", text) == command


def test_operator_handle_is_configurable() -> None:
    """Another operator handle changes which tweets are addressed."""
    parser = CommandParser("@OtherTelco")
    assert parser.parse("tweet", "@othertelco #act #X1") == Buy("X1")
    assert parser.parse("tweet", "@tatadocomo #act #X1") == Noise()


def test_parser_uses_twitter_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashtags come from the shared twitter_text library (what X counts as a hashtag)."""
    calls: list[str] = []
    real = twitter_text.extract_hashtags_with_indices

    def spy(text: str) -> list[twitter_text.Entity]:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(twitter_text, "extract_hashtags_with_indices", spy)
    assert CommandParser(cache_size=0).parse("tweet", "@tatadocomo #act #TD49DEL") == Buy("TD49DEL")
    assert calls == ["@tatadocomo #act #TD49DEL"]


def test_fullwidth_hash_is_a_hashtag() -> None:
    """The full-width number sign counts as '#', as in twitter-text."""
    assert PARSER.parse("tweet", "@tatadocomo ＃act ＃TD49DEL") == Buy("TD49DEL")


@settings(max_examples=400, deadline=None)
@given(st.text(), st.sampled_from(["tweet", "dm"]))
def test_parser_never_raises_on_arbitrary_unicode(text: str, channel: str) -> None:
    """Any Unicode text parses to some command; the parser never raises."""
    assert isinstance(PARSER.parse(channel, text), Register | Verify | Buy | Noise)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(), max_size=60), st.text(max_size=60))
def test_parser_never_raises_around_commands(before: str, after: str) -> None:
    """Arbitrary text around real command keywords never makes the parser raise."""
    for core in ("@tatadocomo #reg ", "@tatadocomo #act# ", "@tatadocomo #code ", "#act #"):
        result = PARSER.parse("tweet", before + core + after)
        assert isinstance(result, Register | Verify | Buy | Noise)
        result = PARSER.parse("dm", core.removeprefix("@tatadocomo ") + after)
        assert isinstance(result, Register | Verify | Buy | Noise)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_leading_operator_mention_fast_path_agrees_with_twitter_text(rest: str) -> None:
    """ "@operator " opening a tweet is a mention by twitter-text's own rules (the parser's fast path)."""
    text = "@TataDocomo " + rest
    mentions = [m.value.casefold() for m in twitter_text.extract_mentions_with_indices(text)]
    assert "tatadocomo" in mentions


def test_memoised_and_uncached_parsers_agree() -> None:
    """The parse cache returns what parsing afresh returns, for repeated texts too."""
    fresh = CommandParser(cache_size=0)
    cached = CommandParser(cache_size=2)
    texts = ["@tatadocomo #act #TD49DEL", "@tatadocomo 123456", "@tatadocomo #reg 9876543210", "hello"] * 3
    assert [cached.parse("tweet", t) for t in texts] == [fresh.parse("tweet", t) for t in texts]


def _hashtag_cases() -> list[Any]:
    import yaml

    suite = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "twitter-text" / "extract.yml"
    tests = yaml.safe_load(suite.read_text(encoding="utf-8"))["tests"]
    out = []
    for section in ("hashtags", "hashtags_from_astral", "hashtags_with_indices"):
        for case in tests[section]:
            expected = [h if isinstance(h, str) else h["hashtag"] for h in case["expected"]]
            out.append(pytest.param(case["text"], expected, id=f"{section}: {case['description']}"))
    return out


HASHTAG_CASES = _hashtag_cases()


def test_all_76_conformance_hashtag_cases_are_checked() -> None:
    """The hashtag sections of twitter-text's extract.yml hold the 76 cases issue 2 names."""
    assert len(HASHTAG_CASES) == 76


@pytest.mark.parametrize(("text", "expected"), HASHTAG_CASES)
def test_pack_hashtag_follows_the_conformance_suite(text: str, expected: list[str]) -> None:
    """'#act' before any conformance text buys exactly the first hashtag twitter-text extracts."""
    parser = CommandParser(cache_size=0)
    packs = [tag for tag in expected if tag.casefold() not in KEYWORDS]
    command = parser.parse("tweet", f"@tatadocomo #act {text}")
    assert command == Buy(packs[0].upper() if packs else None)
