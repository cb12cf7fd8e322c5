"""redact_text: numbers and codes masked in kept texts, everything else untouched."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference.domain.redaction import mask_msisdn, redact_text


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("@tatadocomo #reg 98123 45678", "@tatadocomo #reg 98XXXXXX78"),
        ("#reg +91 98765-43210 please", "#reg 98XXXXXX10 please"),
        ("#REG 919876543210", "#REG 98XXXXXX10"),
        ("#reg 09876543210", "#reg 98XXXXXX10"),
        ("@tatadocomo #code 482913", "@tatadocomo #code XXXXXX"),
        ("＃CODE: 4829", "＃CODE: XXXX"),
        ("code 482913", "code XXXXXX"),
        ("482913", "XXXXXX"),
        ("@tatadocomo #act #TD49DEL", "@tatadocomo #act #TD49DEL"),
        ("tweet 1234567890123 is not a number", "tweet 1234567890123 is not a number"),
        ("call 9876543210.", "call 98XXXXXX10."),
        ("", ""),
    ],
)
def test_redact_text(text: str, kept: str) -> None:
    assert redact_text(text) == kept


def test_mask_msisdn() -> None:
    assert mask_msisdn("+919812345678") == "98XXXXXX78"
    assert mask_msisdn("123") == "XXX"


@given(st.text())
def test_redaction_is_idempotent_and_leaves_no_ten_digit_mobile(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once
    digits_only = "".join(ch if ch.isascii() and ch.isdigit() else " " for ch in once)
    assert not any(len(run) == 10 and run[0] in "6789" for run in digits_only.split())
