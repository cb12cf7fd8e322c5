"""SMS segmentation: GSM-7 vs UCS-2 encoding and the number of segments a body needs.

GSM-7 (3GPP TS 23.038 default alphabet): one segment holds 160 septets, a concatenated segment 153
(the user-data header takes 7); characters of the extension table (``^{}\\[~]|€`` and form feed)
cost two septets and are never split across segments. Any other character forces UCS-2: 70 UTF-16
code units in one segment, 67 per concatenated segment, surrogate pairs never split.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "Segmentation",
    "encoding_of",
    "num_segments",
    "segment",
]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
_GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION


@dataclass(frozen=True, slots=True)
class Segmentation:
    """How a body travels: ``encoding`` is ``"GSM-7"`` or ``"UCS-2"``; ``units`` counts septets or
    UTF-16 code units; ``segments`` is what Twilio reports as ``num_segments``."""

    encoding: str
    units: int
    segments: int


def encoding_of(body: str) -> str:
    """``"GSM-7"`` when every character is in the GSM 03.38 default alphabet or its extension."""
    return "GSM-7" if _GSM7_ALL.issuperset(body) else "UCS-2"


def _pack(unit_sizes: list[int], single: int, multi: int) -> int:
    total = sum(unit_sizes)
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in unit_sizes:
        if used + size > multi:
            segments += 1
            used = 0
        used += size
    return segments


def segment(body: str) -> Segmentation:
    """Encoding, length in encoding units and number of segments of ``body`` (at least 1)."""
    if _GSM7_ALL.issuperset(body):
        if GSM7_EXTENSION.isdisjoint(body):
            units = len(body)
            return Segmentation("GSM-7", units, 1 if units <= 160 else -(-units // 153))
        sizes = [2 if ch in GSM7_EXTENSION else 1 for ch in body]
        return Segmentation("GSM-7", sum(sizes), _pack(sizes, 160, 153))
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in body]
    return Segmentation("UCS-2", sum(sizes), _pack(sizes, 70, 67))


def num_segments(body: str) -> int:
    """Number of SMS segments ``body`` is sent as."""
    return segment(body).segments
