"""Properties of the twitter_text library beyond the conformance suite: totality, fast paths, spans."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from twitter_text import (
    CONFIG_V2,
    extract_hashtags,
    extract_hashtags_with_indices,
    extract_mentions_or_lists_with_indices,
    extract_urls_with_indices,
    is_valid_tweet,
    parse_tweet,
    utf16_offset,
    weighted_length,
)

# Text biased towards the characters the patterns care about, plus arbitrary Unicode.
_tweetish = st.lists(
    st.one_of(
        st.sampled_from(list("#＃@＠$._-/:?&= \n\ufe0f\u20e3\u200dabcXYZ019") + ["http://", ".com", "t.co/"]),
        st.characters(),
    ),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_tweetish)
def test_extraction_never_raises_and_spans_point_at_the_text(text: str) -> None:
    """On arbitrary Unicode, every extractor returns entities whose span holds sigil plus value."""
    for tag in extract_hashtags_with_indices(text):
        assert text[tag.start] in "#＃" and text[tag.start + 1 : tag.end] == tag.value
    for item in extract_mentions_or_lists_with_indices(text):
        assert text[item.start + 1 : item.end] == item.screen_name + item.list_slug
    for url in extract_urls_with_indices(text):
        assert text[url.start : url.end] == url.value


@settings(max_examples=300, deadline=None)
@given(_tweetish)
def test_weighted_length_never_raises_and_agrees_with_parse_tweet(text: str) -> None:
    """weighted_length and is_valid_tweet (with their fast paths) agree with parse_tweet on any text."""
    result = parse_tweet(text)
    assert weighted_length(text) == result.weighted_length
    assert is_valid_tweet(text) is result.valid
    assert weighted_length(text, CONFIG_V2) == parse_tweet(text, CONFIG_V2).weighted_length


def test_typical_commerce_tweets() -> None:
    """The Twittcom commands parse to the hashtags the processor expects."""
    assert extract_hashtags("#reg 9876543210") == ["reg"]
    assert extract_hashtags("#act #PACK50 thanks @TataDocomo") == ["act", "PACK50"]
    assert extract_hashtags("#act#PACK50") == []
    assert extract_hashtags("＃act ＃Ｐａｃｋ") == ["act", "Ｐａｃｋ"]


def test_ascii_fast_path_limits() -> None:
    """Plain ASCII counts one per character: 280 is valid, 281 and empty are not."""
    assert weighted_length("x" * 281) == 281
    assert is_valid_tweet("x" * 280)
    assert not is_valid_tweet("x" * 281)
    assert not is_valid_tweet("")


def test_invalid_character_makes_tweet_invalid() -> None:
    """A U+FFFF anywhere makes the tweet invalid although it is short."""
    assert not is_valid_tweet("hello\uffff")
    assert parse_tweet("ab\uffffcd").valid_range_end == 1


def test_utf16_offset_counts_astral_characters_twice() -> None:
    """utf16_offset adds one code unit per astral character before the index."""
    text = "😷 #tag"
    tag = extract_hashtags_with_indices(text)[0]
    assert (tag.start, utf16_offset(text, tag.start)) == (2, 3)


def test_hashtag_inside_url_is_not_a_hashtag() -> None:
    """A hash sign inside a URL's path is part of the URL, not a hashtag."""
    assert extract_hashtags("see http://example.com/#top and #real") == ["real"]


def test_a_lone_surrogate_is_one_code_unit_not_a_crash() -> None:
    """A lone surrogate (found by hypothesis) is one UTF-16 unit, weighed as twitter-text weighs
    a code point outside its light ranges (2), as in JS; it used to raise UnicodeEncodeError."""
    result = parse_tweet("\ud800 #act")
    assert result.weighted_length == weighted_length("\ud800 #act") == 2 + 5
    assert result.display_range_end == 5
