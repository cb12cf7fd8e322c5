"""The open-model arrival schedule: Poisson counts, time-varying profiles, mix, worker split, ledger."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

from loadtests.schedule import ArrivalLedger, ArrivalSchedule, split_stream
from scenario import ArrivalProfile, Mix, Segment, load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _profile(*segments: Segment, mix: dict[str, float] | None = None) -> ArrivalProfile:
    return ArrivalProfile(tuple(segments), Mix.from_mapping(mix or {"noise": 1, "reg": 1, "act": 1, "dm": 1}))


def test_constant_rate_gives_poisson_counts_per_second():
    """At a constant 50/s, per-second counts have mean and variance near 50 (Poisson) over 400 s."""
    profile = _profile(Segment("constant", 400, rate_from=50))
    counts = [0] * 400
    for start in split_stream(profile, seed=3):
        counts[int(start.offset_s)] += 1
    mean = statistics.fmean(counts)
    assert abs(mean - 50) < 4 * math.sqrt(50 / 400)
    assert 0.8 < statistics.variance(counts) / mean < 1.2


def test_ramp_profile_counts_track_the_expected_integral():
    """A 0 -> 100/s ramp puts ~1/16 of its arrivals in the first quarter and ~7/16 in the last."""
    profile = _profile(Segment("ramp", 200, rate_from=0, rate_to=100))
    offsets = [s.offset_s for s in split_stream(profile, seed=11)]
    for lo, hi in ((0, 50), (150, 200)):
        seen = sum(lo <= t < hi for t in offsets)
        expected = profile.expected_count(lo, hi)
        assert abs(seen - expected) < 4 * math.sqrt(expected)


def test_split_across_workers_is_a_partition_of_the_whole_stream():
    """Every worker keeps every n-th arrival: together they are the single-process stream, no overlaps."""
    profile = _profile(Segment("constant", 30, rate_from=40))
    whole = [(s.index, s.offset_s, s.kind) for s in split_stream(profile, seed=5)]
    parts = [
        [(s.index, s.offset_s, s.kind) for s in split_stream(profile, seed=5, worker_index=i, workers=3)]
        for i in range(3)
    ]
    assert sorted(x for part in parts for x in part) == whole
    assert not set(parts[0]) & set(parts[1])


def test_duration_cuts_the_stream():
    """A run shorter than the profile schedules no start after its duration."""
    profile = _profile(Segment("constant", 60, rate_from=20))
    assert max(s.offset_s for s in split_stream(profile, seed=1, duration_s=10)) < 10


def test_mix_selects_kinds_in_proportion():
    """Kinds are drawn from the scenario's mix (ci-smoke: noise .2, reg .4, act .3, dm .1)."""
    scenario = load_scenario(SCENARIOS / "ci-smoke.toml", ["arrivals.segments.0.duration_s=2000"])
    schedule = ArrivalSchedule(split_stream(scenario.arrivals, seed=2))
    counts = schedule.count_by_kind()
    for kind, share in (("noise", 0.2), ("reg", 0.4), ("act", 0.3), ("dm", 0.1)):
        assert abs(counts[kind] / schedule.total - share) < 0.02


def test_schedule_hands_out_each_start_once_in_time_order():
    """Actors take the next start of their own kind; each start is taken once."""
    profile = _profile(Segment("constant", 20, rate_from=10))
    schedule = ArrivalSchedule(split_stream(profile, seed=9))
    taken = []
    while (start := schedule.take("reg")) is not None:
        taken.append(start.offset_s)
    assert taken == sorted(taken) and len(taken) == len(set(taken)) > 0
    assert schedule.remaining("reg") == 0 and schedule.remaining() == schedule.total - len(taken)


def test_ledger_counts_late_starts_as_not_achieved():
    """A start later than the tolerance is recorded but not counted as on time."""
    ledger = ArrivalLedger(tolerance_s=1.0)
    ledger.expect([0.2, 0.5, 1.5, 2.5])
    ledger.record(0.2, 0.25)
    ledger.record(0.5, 0.6)
    ledger.record(1.5, 4.0)
    ledger.record(2.5, 2.6)
    assert ledger.achieved_ratio() == 0.75
    assert ledger.max_lag_s == 2.5
    rows = ledger.per_second()
    assert rows[1] == (1, 1.0, 1, 0, 0) and rows[4][3] == 1


def test_ledger_merge_adds_workers_increments():
    """The master adds its workers' drained ledgers; draining resets a worker's increments."""
    worker, master = ArrivalLedger(), ArrivalLedger()
    worker.expect([0.1, 1.1])
    worker.record(0.1, 0.2)
    master.merge(worker.drain())
    worker.record(1.1, 1.2)
    master.merge(worker.drain())
    assert master.scheduled == {0: 1, 1: 1} and master.count == 2 and master.achieved_ratio() == 1.0
    assert worker.count == 0
