"""What one run records: subscriber journeys, activations, samples and counters.

A :class:`Journey` follows one unregistered follower from the ``#reg`` tweet to the activation of
a pack; times are simulated seconds, -1 when the step never happened. :class:`RunRecord` holds the
raw observations of a run; :mod:`simulator.metrics` turns them into figures.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scenario import Scenario

__all__ = ["ACT", "CODE", "DM", "NOISE", "REG", "Journey", "RunRecord"]

#: tweet kinds (indices into arrivals.KINDS, plus the code reply users generate)
NOISE, REG, ACT, DM, CODE = 0, 1, 2, 3, 4


class Journey:
    """One registration: #reg tweet -> code SMS -> code reply -> registered -> #act -> activated."""

    __slots__ = (
        "attempts",
        "circle",
        "expires",
        "outcome",
        "t_act",
        "t_activated",
        "t_code_reply",
        "t_delivered",
        "t_dispatch",
        "t_done",
        "t_ingest",
        "t_reg",
        "t_registered",
        "t_start",
        "typo",
    )

    def __init__(self, t_reg: float, circle: int) -> None:
        self.t_reg = t_reg
        self.circle = circle
        self.t_ingest = self.t_start = self.t_done = self.t_dispatch = self.t_delivered = -1.0
        self.t_code_reply = self.t_registered = self.t_act = self.t_activated = -1.0
        self.expires = 0.0
        self.attempts = 0
        self.typo = False
        self.outcome = "in_progress"


class RunRecord:
    """Raw observations of one run of a scenario."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.journeys: list[Journey] = []
        self.activations: list[tuple[float, float, int]] = []  # (posted, activated, ACT or DM)
        #: (t, mean worker and SMS queue over the last interval, unread mentions, unread DMs)
        self.samples: list[tuple[float, float, float, int, int]] = []
        self.arrivals = [0, 0, 0, 0]
        self.rejected_buys: list[tuple[float, int]] = []  # (posted, kind) of buys before anyone registered
        self.buys_posted: list[tuple[float, int]] = []  # (posted, ACT or DM) of every buy tweet or DM
        self.replies_posted = 0
        #: messages the processor sent, per kind (sms_code, sms_link, sms_confirmation, reply_tweet,
        #: dm_reply; sms_expired: dropped in the sender queue)
        self.messages: Counter[str] = Counter()
        self.replies_dropped = 0
        self.sms_sent = 0
        self.sms_expired = 0
        self.worker_busy_s = 0.0
        self.budgets: dict[str, Any] = {}
        #: per resource over the arrival window (:mod:`simulator.utilisation`)
        self.utilisation: dict[str, Any] = {}
        self.wall_s = 0.0
        self.end_s = 0.0
