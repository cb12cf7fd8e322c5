"""Fault injection per route: added latency, error rate with a chosen status, outage windows."""

from __future__ import annotations

import time

from ft_support import make_user


async def test_outage_window_answers_503_until_it_ends(client, clock):
    """Inside an outage window every X route answers 503 Service Unavailable; after it, normal again."""
    alice = await make_user(client, "alice")
    rule = {"route": "*", "outages": [{"start_in": 0, "duration": 60}]}
    assert (await client.post("/_fake/faults", json=rule)).status_code == 200
    down = await client.post("/2/tweets", json={"text": "storm"}, headers=alice.headers)
    assert down.status_code == 503
    assert down.json() == {
        "title": "Service Unavailable",
        "type": "about:blank",
        "status": 503,
        "detail": "Service Unavailable",
    }
    clock.advance(61)
    assert (await client.post("/2/tweets", json={"text": "storm"}, headers=alice.headers)).status_code == 201
    assert (await client.get("/_fake/counters")).json()["faults_injected"] == 1


async def test_error_rate_with_chosen_status_per_route(client):
    """error_rate 1 on one route fails that route only, with the chosen status."""
    alice = await make_user(client, "alice")
    await client.post(
        "/_fake/faults", json={"route": "GET /2/users/me", "error_rate": 1.0, "error_status": 500}
    )
    assert (await client.get("/2/users/me", headers=alice.headers)).status_code == 500
    assert (await client.post("/2/tweets", json={"text": "fine"}, headers=alice.headers)).status_code == 201
    await client.delete("/_fake/faults")
    assert (await client.get("/2/users/me", headers=alice.headers)).status_code == 200


async def test_error_rate_is_seeded_and_proportional(client, backend):
    """A 30% error rate fails about 30% of 400 requests, reproducibly for a seed."""
    alice = await make_user(client, "alice")
    await client.post("/_fake/rate-limits", json={"preset": "off"})
    await client.post(
        "/_fake/faults", json={"route": "GET /2/users/me", "error_rate": 0.3, "error_status": 502}
    )
    backend.rng.seed(11)
    first = [(await client.get("/2/users/me", headers=alice.headers)).status_code for _ in range(400)]
    backend.rng.seed(11)
    second = [(await client.get("/2/users/me", headers=alice.headers)).status_code for _ in range(400)]
    assert first == second and set(first) == {200, 502}
    assert 90 <= first.count(502) <= 150


async def test_latency_is_added(client):
    """A fixed 50 ms latency rule delays the route by at least 50 ms."""
    alice = await make_user(client, "alice")
    await client.post(
        "/_fake/faults", json={"route": "GET /2/users/me", "latency": {"kind": "fixed", "a": 50}}
    )
    started = time.perf_counter()
    assert (await client.get("/2/users/me", headers=alice.headers)).status_code == 200
    assert time.perf_counter() - started >= 0.05
    listed = (await client.get("/_fake/faults")).json()
    assert listed["GET /2/users/me"]["latency"] == {"kind": "fixed", "a": 50.0, "b": 0.0}


async def test_bad_fault_rules_are_refused(client):
    """Unknown latency kinds, rates outside [0, 1] and non-error statuses get 400."""
    for rule in (
        {"latency": {"kind": "gamma", "a": 1}},
        {"error_rate": 2},
        {"error_rate": 0.5, "error_status": 200},
        {"outages": [{"start_in": 0}]},
        {"latency": {"kind": "fixed", "a": 1e12}},
        {"latency": {"kind": "uniform", "a": 0, "b": 600_001}},
    ):
        assert (await client.post("/_fake/faults", json=rule)).status_code == 400, rule
