"""The population adapter: processor admin API (with the stack fallback), files, synthetic, worker shares."""

from __future__ import annotations

import json
import random

import httpx
import pytest

from loadtests.population import PopulationError, fetch_population, load_population_file, synthetic_population

SUBS = [
    {
        "msisdn": f"+9198000000{i:02d}",
        "circle": "DL" if i % 2 else "MU",
        "balance_paise": 1000 * i,
        "active": i != 3,
    }
    for i in range(10)
]
PACKS = [
    {"hashtag": "TD49DEL", "circle": "DL", "price_paise": 4900},
    {"hashtag": "TD99MUM", "circle": "MU", "price_paise": 9900},
]


def _client(list_route: bool) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer tok":
            return httpx.Response(401, json={"error": "unauthorized"})
        if request.url.path == "/admin/subscribers" and list_route:
            offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
            return httpx.Response(200, json={"subscribers": SUBS[offset : offset + limit]})
        if request.url.path == "/_stack/subscribers":
            return httpx.Response(200, json={"subscribers": SUBS[: int(request.url.params["limit"])]})
        if request.url.path == "/admin/catalog":
            return httpx.Response(200, json={"packs": PACKS})
        return httpx.Response(404, json={"error": "not_found"})

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("list_route", [True, False])
def test_fetch_pages_the_admin_list_or_falls_back_to_the_stack_sample(list_route):
    """Subscribers come from /admin/subscribers pages, or /_stack/subscribers when that route is missing."""
    population = fetch_population(_client(list_route), "http://p", "tok", limit=10, page=4)
    assert [s.msisdn for s in population.subscribers] == [s["msisdn"] for s in SUBS]
    assert population.unused == 9  # the inactive number is never handed out
    assert population.pack_for("dl", random.Random(1)).hashtag == "TD49DEL"


def test_fetch_without_token_says_which_route_failed():
    """A refused admin call raises PopulationError naming the route and status."""
    with pytest.raises(PopulationError, match="/admin/subscribers.*401"):
        fetch_population(_client(True), "http://p", "wrong")


def test_population_file_and_affordable_packs(tmp_path):
    """A JSON file is a population; pack_for prefers a pack the balance covers."""
    path = tmp_path / "pop.json"
    path.write_text(
        json.dumps(
            {"subscribers": SUBS, "packs": PACKS + [{"hashtag": "BIG", "circle": "DL", "price_paise": 10**6}]}
        )
    )
    population = load_population_file(path)
    rng = random.Random(0)
    assert {population.pack_for("DL", rng, affordable_from=5000).hashtag for _ in range(20)} == {"TD49DEL"}


def test_worker_shares_are_disjoint_and_synthetic_numbers_distinct():
    """Workers never share a number; synthetic numbers are distinct Indian mobiles over the circles."""
    population = synthetic_population((("Mumbai", 0.5), ("Delhi", 0.5)), 500, seed=4)
    numbers = [s.msisdn for s in population.subscribers]
    assert len(set(numbers)) == 500 and all(n.startswith("+91") and len(n) == 13 for n in numbers)
    shares = [population.share(i, 3) for i in range(3)]
    seen = [set(s.msisdn for s in share.subscribers) for share in shares]
    assert sum(len(s) for s in seen) == 500 and not (seen[0] & seen[1] or seen[1] & seen[2])
    assert population.packs_by_circle.keys() == {"MUMBAI", "DELHI"}
