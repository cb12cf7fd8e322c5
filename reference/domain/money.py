"""Money is integer paise; this module only formats it for people."""

from __future__ import annotations

__all__ = ["rupees"]


def rupees(paise: int) -> str:
    """``4900 -> 'Rs 49'``, ``4950 -> 'Rs 49.50'``, ``-5 -> '-Rs 0.05'``."""
    sign = "-" if paise < 0 else ""
    whole, fraction = divmod(abs(paise), 100)
    return f"{sign}Rs {whole:,}" if fraction == 0 else f"{sign}Rs {whole:,}.{fraction:02d}"
