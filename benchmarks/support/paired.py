"""A figure and its ceiling measured in interleaved rounds, summarised by the median paired ratio.

A benchmark that times its figure in one block and its ceiling in the next lets a burst of other
work (a storm in the next test process, a CI neighbour) land on one of them only: the ratio the
bench gate judges then moves with the machine, not the code. Here each round times both back to
back, alternating which goes first, and the ratio is the median over rounds of the round's own
ratio, which one disturbed round cannot move.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Paired", "paired_rounds"]


@dataclass(frozen=True)
class Paired:
    """Medians over rounds: the figure, the ceiling and the per-round ratio figure / ceiling."""

    figure: float
    ceiling: float
    ratio: float
    rounds: int


def paired_rounds(figure: Callable[[], float], ceiling: Callable[[], float], rounds: int) -> Paired:
    """Run ``figure`` and ``ceiling`` (each returns a rate) ``rounds`` times, interleaved."""
    if rounds < 1:
        raise ValueError("rounds must be >= 1")
    figures: list[float] = []
    ceilings: list[float] = []
    for number in range(rounds):
        if number % 2:
            ceilings.append(ceiling())
            figures.append(figure())
        else:
            figures.append(figure())
            ceilings.append(ceiling())
    return Paired(
        figure=statistics.median(figures),
        ceiling=statistics.median(ceilings),
        ratio=statistics.median(f / c for f, c in zip(figures, ceilings, strict=True)),
        rounds=rounds,
    )
