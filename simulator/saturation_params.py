"""The saturation model's parameters (see :mod:`simulator.saturation`), apart so that the engine
(:mod:`simulator.saturation_sim`) and the fits share them without importing each other."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SaturationParams"]


@dataclass(frozen=True)
class SaturationParams:
    """Service times (CPU seconds) and the deployment's shape; see :mod:`simulator.saturation`."""

    cores: float
    processes: int
    workers: int
    batch_size: int
    request_s: float
    ingest_s: float
    batch_per_event_s: float
    send_s: float
    receive_s: float
    finish_s: float
    commit_fixed_s: float
    sink_s: float
    driver_s: float
    background_cores: float
    store_share: float
    inline_store: bool
    serial_share: float = 1.0
    store_wait_s: float = 0.0
    slice_s: float = 0.0
    idle_poll_s: float = 0.05
    hop_s: float = 0.0
    #: PostgreSQL: the client's round trips to its backend per store call (ingest, the
    #: dispatcher's results, a worker's batch), each a wake-up (see :mod:`simulator.saturation_sim`)
    round_trips: tuple[int, int, int] = (0, 0, 0)
    #: the other load's runnable threads as measured (threads in state R outside the deployment); None:
    #: inferred from ``background_cores`` (:func:`simulator.saturation.other_threads`)
    background_threads: float | None = None

    @property
    def per_event_s(self) -> float:
        """CPU seconds per event of the service and its store, commits' fixed costs left out."""
        return (
            self.request_s
            + self.ingest_s
            + self.batch_per_event_s
            + self.send_s
            + 2 * (self.receive_s + self.finish_s)
        )
