"""Analytic formulas: Erlang B/C and M/M/c figures."""

from __future__ import annotations

import math

import pytest

from simulator.erlang import erlang_b, erlang_c, mmc_analytic


def test_erlang_c_matches_the_worked_example():
    """M/M/3 with lambda 0.2, mu 0.1 (A = 2) has P_W = 4/9 and W_q = 4.444 (anchors §4)."""
    result = mmc_analytic(0.2, 10.0, 3)
    assert result.p_wait == pytest.approx(4 / 9)
    assert result.mean_wait == pytest.approx(40 / 9)
    assert result.utilization == pytest.approx(2 / 3)


def test_erlang_c_equals_the_closed_form():
    """The Erlang B recursion gives the same P_W as the textbook closed form."""
    for offered, servers in [(0.5, 1), (2.7, 3), (9.0, 10), (25.0, 30)]:
        top = offered**servers / math.factorial(servers) * servers / (servers - offered)
        bottom = sum(offered**k / math.factorial(k) for k in range(servers)) + top
        assert erlang_c(offered, servers) == pytest.approx(top / bottom, rel=1e-12)


def test_mm1_reduces_to_rho():
    """For one server P_W equals the utilization and W_q = rho h / (1 - rho)."""
    result = mmc_analytic(0.8, 1.0, 1)
    assert result.p_wait == pytest.approx(0.8)
    assert result.mean_wait == pytest.approx(4.0)


def test_erlang_b_one_server():
    """Erlang B with one server is A / (1 + A)."""
    assert erlang_b(3.0, 1) == pytest.approx(0.75)


def test_unstable_queue_is_refused():
    """An offered load at or above the server count has no steady state."""
    with pytest.raises(ValueError, match="unstable"):
        mmc_analytic(3.0, 1.0, 3)
