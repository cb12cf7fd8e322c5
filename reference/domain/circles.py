"""The 22 Indian telecom licence service areas ("circles") with their usual short codes."""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["CIRCLES", "CIRCLE_CODES", "circle_name", "is_circle"]

#: code -> name, in the usual administrative order
CIRCLES: MappingProxyType[str, str] = MappingProxyType(
    {
        "AP": "Andhra Pradesh & Telangana",
        "AS": "Assam",
        "BR": "Bihar & Jharkhand",
        "DL": "Delhi",
        "GJ": "Gujarat",
        "HP": "Himachal Pradesh",
        "HR": "Haryana",
        "JK": "Jammu & Kashmir",
        "KA": "Karnataka",
        "KL": "Kerala",
        "KO": "Kolkata",
        "MH": "Maharashtra & Goa",
        "MP": "Madhya Pradesh & Chhattisgarh",
        "MU": "Mumbai",
        "NE": "North East",
        "OR": "Odisha",
        "PB": "Punjab",
        "RJ": "Rajasthan",
        "TN": "Tamil Nadu & Chennai",
        "UE": "Uttar Pradesh (East)",
        "UW": "Uttar Pradesh (West) & Uttarakhand",
        "WB": "West Bengal",
    }
)

#: the circle codes, sorted
CIRCLE_CODES: tuple[str, ...] = tuple(sorted(CIRCLES))


def is_circle(code: str) -> bool:
    """True when ``code`` is one of the 22 circle codes (upper case)."""
    return code in CIRCLES


def circle_name(code: str) -> str:
    """The circle's name; raises ``KeyError`` for an unknown code."""
    return CIRCLES[code]
