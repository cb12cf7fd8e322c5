"""The adaptive drain: after the arrivals, stop as soon as no started journey can still finish.

A run's drain (``drain_s``) is only an upper bound. Once every scheduled start has been claimed and
the arrival window is over, the run ends when each journey still running is one that cannot finish
before the drain's bound anyway: a new subscriber waiting for a code that will not come in time,
because its circle's SMS is down past the end of the run (the scenario's carrier outages), or
because the carrier already reported its code SMS lost (``failed`` / ``undelivered``), and the
subscriber would only give up (``abandon_after_s``) after the end. Those codes are counted as never
arrived, as the simulator counts codes still undelivered when its run ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["LOST_STATUSES", "all_lost", "code_lost", "drain_over", "held_past_end"]

#: a code SMS in one of these states never reaches the handset (the processor does not resend it)
LOST_STATUSES = frozenset({"failed", "undelivered", "canceled"})


def held_past_end(
    circle: str,
    gives_up_at: float,
    outages: Iterable[tuple[str, float, float]],
    *,
    t0: float,
    now: float,
    run_end: float,
) -> bool:
    """True when ``circle``'s SMS is down from now until past ``run_end`` and the user waits past it.

    ``outages`` are ``(circle, start_s, end_s)`` from ``t0`` (as :class:`LoadtestConfig` has them);
    circles compare case-insensitively.
    """
    if gives_up_at <= run_end:
        return False
    name = circle.casefold()
    return any(
        c.casefold() == name and t0 + start_s <= now and t0 + end_s >= run_end
        for c, start_s, end_s in outages
    )


def all_lost(messages: Sequence[Mapping[str, Any]]) -> bool:
    """True when some SMS was sent to the number and every one of them is lost."""
    return bool(messages) and all(str(m.get("status", "")) in LOST_STATUSES for m in messages)


def code_lost(messages: Sequence[Mapping[str, Any]], gives_up_at: float, run_end: float) -> bool:
    """True when every SMS sent to the number is lost and the user would only give up after the run.

    ``messages`` are the fake gateway's outbox entries for the subscriber's number (each new
    subscriber has a number of its own, so they are this journey's); none sent yet is not lost.
    """
    return gives_up_at > run_end and all_lost(messages)


def drain_over(*, now: float, arrivals_end: float, unclaimed: int, running: int, hopeless: int) -> bool:
    """The arrivals are over, every start was claimed and the journeys still running cannot finish."""
    return now >= arrivals_end and unclaimed == 0 and running <= hopeless
