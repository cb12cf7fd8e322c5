"""The simpy M/M/c and tandem queues agree with Erlang C and Jackson networks."""

from __future__ import annotations

import pytest

from simulator.mmc import simulate_mmc, simulate_tandem

# (arrival rate, mean service, servers, measured customers). Sized from the run-to-run spread
# measured over 6 seeds at 2M customers (relative rms of mean_wait: 0.35 % at rho 0.5 / c 1,
# 0.67 % at rho 0.7 / c 3, 1.3 % at rho 0.9 / c 3; p_wait spreads 3-6x less): these counts
# put the 2 % tolerance 3.5-5 standard deviations away, at about 25 s for the three runs.
LOADS = [
    (0.5, 1.0, 1, 1_000_000),
    (2.1, 1.0, 3, 3_000_000),
    (2.7, 1.0, 3, 10_000_000),
]


@pytest.mark.slow
@pytest.mark.parametrize(("lam", "h", "c", "n"), LOADS, ids=["rho0.5-c1", "rho0.7-c3", "rho0.9-c3"])
def test_mmc_matches_erlang_c(lam, h, c, n):
    """p_wait and mean_wait are within 2 % of Erlang C at loads up to rho = 0.9."""
    result = simulate_mmc(lam, h, c, n, seed=11)
    station = result.stations[0]
    assert result.p_wait == pytest.approx(station.analytic_p_wait, rel=0.02)
    assert result.mean_wait == pytest.approx(station.analytic_mean_wait, rel=0.02)
    assert station.utilization == pytest.approx(lam * h / c, rel=0.01)


def test_tandem_matches_jackson():
    """Each station of an M/M/1 -> M/M/2 tandem behaves as an independent M/M/c at the same rate."""
    result = simulate_tandem(0.6, [(1.0, 1), (2.5, 2)], 1_500_000, seed=5)
    for station in result.stations:
        assert station.p_wait == pytest.approx(station.analytic_p_wait, rel=0.02)
        assert station.mean_wait == pytest.approx(station.analytic_mean_wait, rel=0.02)
    expected_total = sum(s.analytic_mean_wait for s in result.stations)
    assert result.as_json()["mean_wait_total"] == pytest.approx(expected_total, rel=0.02)


def test_same_seed_same_result():
    """Runs with the same seed are identical; another seed differs."""
    a = simulate_mmc(0.2, 10, 3, 20_000, seed=3).as_json()
    b = simulate_mmc(0.2, 10, 3, 20_000, seed=3).as_json()
    c = simulate_mmc(0.2, 10, 3, 20_000, seed=4).as_json()
    for d in (a, b, c):
        d.pop("wall_s")
        d.pop("customers_per_s")
    assert a == b
    assert a != c


def test_warmup_customers_are_simulated_but_not_measured():
    """The default warm-up is a tenth of the customers; the JSON reports it."""
    result = simulate_mmc(0.5, 1.0, 1, 10_000, seed=1)
    assert result.warmup_customers == 1_000
    assert result.as_json()["customers"] == 10_000
    assert simulate_mmc(0.5, 1.0, 1, 10_000, seed=1, warmup=0).warmup_customers == 0


def test_confidence_interval_brackets_the_estimate():
    """The batch-means interval contains the point estimate and has positive width."""
    result = simulate_mmc(0.2, 10, 3, 50_000, seed=2)
    lo, hi = result.stations[0].mean_wait_ci95
    assert lo < result.mean_wait < hi


def test_departure_events_do_not_change_results():
    """Scheduling every departure as an event gives the same figures (waits are exact on arrival)."""
    plain = simulate_mmc(0.2, 10, 3, 20_000, seed=8).as_json()
    full = simulate_mmc(0.2, 10, 3, 20_000, seed=8, departure_events=True).as_json()
    for key in ("p_wait", "mean_wait", "utilization", "mean_wait_ci95"):
        assert plain[key] == full[key]
