"""How many locust users each actor needs so that every scheduled start finds an idle user.

Users only wait for the schedule (they never pace it), so their number just has to cover the
journeys in flight: by Little's law L = lambda x W, with lambda the kind's peak arrival rate and W a
generous journey duration, times a headroom factor. A start that finds no idle user starts late and
is counted as late by :class:`~loadtests.schedule.ArrivalLedger` (it is never silently dropped).
"""

from __future__ import annotations

import math

from scenario import KINDS, ArrivalProfile, Scenario

__all__ = ["ACTOR_OF_KIND", "journey_seconds", "peak_rates", "users_needed"]

#: traffic kind of the scenario mix -> locust user class name
ACTOR_OF_KIND: dict[str, str] = {
    "reg": "NewSubscriber",
    "act": "RepeatBuyer",
    "dm": "DmBuyer",
    "noise": "Complainer",
}


def peak_rates(profile: ArrivalProfile, step_s: float = 0.25) -> dict[str, float]:
    """The highest rate of each kind over the profile (sampled every ``step_s``)."""
    peaks = dict.fromkeys(KINDS, 0.0)
    steps = max(1, math.ceil(profile.duration_s / step_s))
    for i in range(steps + 1):
        t = min(i * step_s, max(0.0, profile.duration_s - 1e-9))
        for kind in KINDS:
            peaks[kind] = max(peaks[kind], profile.kind_rate_at(kind, t))
    return peaks


def journey_seconds(scenario: Scenario, confirm_s: float = 15.0) -> dict[str, float]:
    """A generous duration per journey kind: code wait, replies, the buy and its confirmation."""
    user = scenario.user
    reg = min(user.abandon_after_s, 60.0) + user.code_reply_delay.mean * 1.5
    reg += user.buy_share * (user.buy_delay.mean + confirm_s)
    return {"reg": reg, "act": confirm_s, "dm": confirm_s, "noise": 1.0}


def users_needed(scenario: Scenario, headroom: float = 2.0, minimum: int = 2) -> dict[str, int]:
    """Users per kind: ``ceil(peak rate x journey seconds x headroom) + minimum`` (0 for unused kinds)."""
    peaks = peak_rates(scenario.arrivals)
    seconds = journey_seconds(scenario)
    return {
        kind: 0 if peaks[kind] == 0 else math.ceil(peaks[kind] * seconds[kind] * headroom) + minimum
        for kind in KINDS
    }
