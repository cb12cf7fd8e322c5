"""``GET /_fake/reads``: when a system read its mentions and DMs, as a harness sees its polling."""

from __future__ import annotations

from ft_support import make_user


async def test_mentions_and_dm_reads_are_remembered_with_time_caller_and_page(client, clock):
    operator = await make_user(client, "docomo")
    await client.get(
        f"/2/users/{operator.id}/mentions", params={"max_results": "50"}, headers=operator.headers
    )
    clock.advance(2.5)
    await client.get("/2/dm_events", headers=operator.headers)
    await client.get(f"/2/users/{operator.id}/tweets", headers=operator.headers)  # not a timeline read
    # a poller reading what its mentions timeline lost (X keeps its 800 newest) searches for them
    await client.get("/2/tweets/search/recent", params={"query": "@docomo"}, headers=operator.headers)
    reads = (await client.get("/_fake/reads")).json()["data"]
    assert [r["route"] for r in reads] == [
        "GET /2/users/:id/mentions", "GET /2/dm_events", "GET /2/tweets/search/recent",
    ]  # fmt: skip
    assert reads[1]["t"] - reads[0]["t"] == 2.5
    assert (
        reads[0]["user_id"] == operator.id and reads[0]["max_results"] == 50 and reads[1]["max_results"] == 0
    )
    only = (await client.get("/_fake/reads", params={"route": "GET /2/dm_events"})).json()["data"]
    assert len(only) == 1
    later = (await client.get("/_fake/reads", params={"since": str(reads[1]["t"])})).json()["data"]
    assert len(later) == 2


async def test_a_bad_since_gets_x_shaped_400(client):
    response = await client.get("/_fake/reads", params={"since": "yesterday"})
    assert response.status_code == 400 and "since" in response.text
