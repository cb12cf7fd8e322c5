"""The operator's subscriber directory entries and handle<->number bindings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

__all__ = ["Binding", "Subscriber"]


@dataclass(slots=True)
class Subscriber:
    """A number on the operator's directory. Only an active prepaid number can register."""

    msisdn: str
    circle: str
    balance_paise: int
    active: bool = True
    prepaid: bool = True
    name: str = ""


class Binding(NamedTuple):
    """A verified link: one handle (by X user id) to one number, and that number to that handle.

    A named tuple rather than a frozen dataclass: one is loaded per purchase on the hot path, and a
    frozen dataclass costs about twice as much to build."""

    user_id: str
    handle: str
    msisdn: str
    bound_at: datetime
