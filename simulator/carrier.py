"""The carrier between the SMS sender and the handset: latency, failures and outages per circle.

:class:`Carrier` answers when an SMS reaches the handset, as the SMS gateway's carrier model does
(``fake_sms/lifecycle.py``): the receipt is due a sampled latency after the sender's slot ends; a
receipt due inside an outage of the subscriber's circle is held and retried another sampled latency
after the outage ends, unless that is past the message's validity (counted from its creation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from scenario import Scenario

__all__ = ["EXPIRED", "Carrier"]

#: :meth:`Carrier.handset_time` of a message an outage held past its validity
EXPIRED = -1.0


class Carrier:
    """Outage windows per circle index, the failure rate, the sender's slot and validity."""

    __slots__ = ("_outages", "failure_rate", "slot_s", "validity_s")

    def __init__(self, scenario: Scenario, circle_names: Sequence[str], slot_s: float) -> None:
        self._outages: list[list[tuple[float, float]]] = [[] for _ in circle_names]
        for outage in scenario.system.carrier.outages:
            for name in outage.circles:
                self._outages[list(circle_names).index(name)].append((outage.start_s, outage.end_s))
        self.failure_rate = scenario.system.carrier.failure_rate
        self.slot_s = slot_s
        self.validity_s = scenario.system.sms.validity_s

    def handset_time(
        self,
        created: float,
        slot: float,
        circle: int,
        latency: Callable[[], float],
        fail: Callable[[], float],
    ) -> float | None:
        """When an SMS created at ``created``, whose sender slot starts at ``slot``, reaches the handset:
        None when the carrier loses it, :data:`EXPIRED` when an outage holds it past its validity."""
        if fail() < self.failure_rate:
            return None
        delivered = slot + self.slot_s + latency()
        held = True
        while held:
            held = False
            for start, end in self._outages[circle]:
                if start <= delivered < end:
                    delivered = end + latency()
                    held = True
                    break
            if delivered - created > self.validity_s:
                return EXPIRED
        return delivered
