"""GSM-7 / UCS-2 segmentation as Twilio counts num_segments."""

from __future__ import annotations

import pytest

from fake_sms.segments import encoding_of, num_segments, segment


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters count two septets: 160 septets
        ("€" * 81, 2),
        ("a" * 152 + "€", 1),
        ("a" * 159 + "€", 2),  # 161 septets; the escape pair is not split: 153 + 8
        ("अ" * 70, 1),
        ("अ" * 71, 2),
        ("अ" * 134, 2),
        ("अ" * 135, 3),
        ("😀" * 35, 1),  # surrogate pairs: 70 UTF-16 units
        ("😀" * 36, 2),
    ],
)
def test_num_segments(body, segments):
    """160/153 septets for GSM-7 (extension chars count 2), 70/67 UTF-16 units for UCS-2."""
    assert num_segments(body) == segments


def test_escape_pair_never_split():
    """152 plain characters then '{' fill a concatenated segment to 154 septets, so '{' moves on."""
    seg = segment("a" * 152 + "{" + "a" * 10)
    assert (seg.encoding, seg.units, seg.segments) == ("GSM-7", 164, 2)
    seg = segment("a" * 151 + "{" + "a" * 10)
    assert seg.segments == 2 and seg.units == 163


def test_encoding_choice():
    """GSM 03.38 characters stay GSM-7; anything else (Devanagari, emoji, curly quotes) is UCS-2."""
    assert encoding_of("Your code is 123456. Ä é ñ £ @ {}") == "GSM-7"
    assert encoding_of("कोड 123456") == "UCS-2"
    assert encoding_of("“quoted”") == "UCS-2"


def test_hand_serialised_json_matches_the_dict_form():
    """The hot-path JSON bytes decode to exactly the dict form, for queued and finished messages."""
    import json

    from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_SHORT_CODE, ManualClock, SmsBackend

    backend = SmsBackend(
        clock=ManualClock(), seed=1, config={"carrier": {"default": {"failure_rates": {"30007": 0.5}}}}
    )
    account = backend.accounts[DEFAULT_ACCOUNT_SID]
    bodies = ['He said "hi" \\ {ok}', "कोड 123456 😀", "line\nbreak\ttab", "plain"]
    messages = [
        backend.create_message(account, {"To": "+919800000001", "From": DEFAULT_SHORT_CODE, "Body": body})
        for body in bodies * 3
    ]
    for m in messages[:4]:
        assert json.loads(m.to_json_bytes(backend.dates)) == m.to_json(backend.dates)
    backend.advance(3600)
    assert {m.status for m in messages} == {"delivered", "undelivered"}
    for m in messages:
        assert json.loads(m.to_json_bytes(backend.dates)) == m.to_json(backend.dates)
