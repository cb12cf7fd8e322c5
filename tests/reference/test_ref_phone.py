"""Indian mobile numbers: what people type -> E.164, and masking for public replies."""

from __future__ import annotations

import pytest

from reference.domain.errors import InvalidPhoneNumber
from reference.domain.phone import mask, normalise_mobile


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("9876543210", "+919876543210"),
        ("+919876543210", "+919876543210"),
        ("+91 98765 43210", "+919876543210"),
        ("919876543210", "+919876543210"),
        ("09876543210", "+919876543210"),
        ("98765-43210", "+919876543210"),
        ("+91-98765-43210", "+919876543210"),
        ("(+91) 98765 43210", "+919876543210"),
        ("6000000000", "+916000000000"),
        ("  7123456789 ", "+917123456789"),
    ],
)
def test_accepts_indian_mobile_forms(typed: str, e164: str) -> None:
    """+91, 91 and 0 prefixes, spaces and dashes are accepted and normalised to E.164."""
    assert normalise_mobile(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "12345",
        "5876543210",  # mobile numbers start 6-9
        "98765432101",  # 11 digits without a 0 prefix
        "+449876543210",  # another country
        "+91 5876543210",
        "98765abcde",
        "٩٨٧٦٥٤٣٢١٠",  # Arabic-Indic digits are not accepted
        "0091 98765 43210",
    ],
)
def test_rejects_non_mobile_numbers(typed: str) -> None:
    """Anything but 10 digits starting 6-9 (after an optional prefix) is a typed error."""
    with pytest.raises(InvalidPhoneNumber):
        normalise_mobile(typed)


def test_mask_keeps_two_digits_each_end() -> None:
    """Public replies show 98XXXXXX10, never the full number."""
    assert mask("+919876543210") == "98XXXXXX10"
