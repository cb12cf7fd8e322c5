"""Mentions and user timelines: since/until ids, times, pagination, max_results, expansions, errors."""

from __future__ import annotations

from ft_support import app_headers, make_user

from fake_twitter.views import rfc3339


async def _mentions(client, n, clock=None):
    operator = await make_user(client, "docomo")
    alice = await make_user(client, "alice")
    ids = []
    for i in range(n):
        if clock is not None:
            clock.advance(60)
        response = await client.post("/2/tweets", json={"text": f"@docomo #act #P{i}"}, headers=alice.headers)
        ids.append(response.json()["data"]["id"])
    return operator, alice, ids


async def test_pagination_walks_newest_to_oldest(client):
    """next_token pages through mentions newest first; meta has newest/oldest ids and counts."""
    operator, _, ids = await _mentions(client, 23)
    seen, token, pages = [], None, 0
    while True:
        params = {"max_results": "10"} | ({"pagination_token": token} if token else {})
        body = (
            await client.get(f"/2/users/{operator.id}/mentions", params=params, headers=operator.headers)
        ).json()
        pages += 1
        seen += [t["id"] for t in body["data"]]
        assert body["meta"]["newest_id"] == body["data"][0]["id"]
        assert body["meta"]["oldest_id"] == body["data"][-1]["id"]
        assert body["meta"]["result_count"] == len(body["data"])
        token = body["meta"].get("next_token")
        if token is None:
            break
    assert pages == 3 and seen == ids[::-1]


async def test_since_id_and_until_id_are_exclusive(client):
    """since_id returns only newer mentions, until_id only older ones."""
    operator, _, ids = await _mentions(client, 8)
    url = f"/2/users/{operator.id}/mentions"
    newer = (await client.get(url, params={"since_id": ids[4]}, headers=operator.headers)).json()
    assert [t["id"] for t in newer["data"]] == ids[:4:-1]
    older = (await client.get(url, params={"until_id": ids[2]}, headers=operator.headers)).json()
    assert [t["id"] for t in older["data"]] == ids[1::-1]
    none = (await client.get(url, params={"since_id": ids[-1]}, headers=operator.headers)).json()
    assert none == {"meta": {"result_count": 0}}


async def test_start_and_end_time_bound_the_timeline(client, clock):
    """start_time is inclusive and end_time exclusive, on the tweets' created_at."""
    operator, _, ids = await _mentions(client, 6, clock)
    url = f"/2/users/{operator.id}/mentions"
    all_tweets = (
        await client.get(url, params={"tweet.fields": "created_at"}, headers=operator.headers)
    ).json()["data"]
    times = {t["id"]: t["created_at"] for t in all_tweets}
    params = {"start_time": times[ids[1]], "end_time": times[ids[4]]}
    body = (await client.get(url, params=params, headers=operator.headers)).json()
    assert [t["id"] for t in body["data"]] == [ids[3], ids[2], ids[1]]
    later = {"start_time": rfc3339(clock.time() + 10)}
    assert (await client.get(url, params=later, headers=operator.headers)).json()["meta"]["result_count"] == 0


async def test_expansion_author_id_fills_includes_users(client):
    """expansions=author_id adds includes.users with each author once."""
    operator, alice, _ = await _mentions(client, 3)
    params = {"expansions": "author_id", "user.fields": "created_at"}
    body = (
        await client.get(f"/2/users/{operator.id}/mentions", params=params, headers=operator.headers)
    ).json()
    assert [u["username"] for u in body["includes"]["users"]] == ["alice"]
    assert "created_at" in body["includes"]["users"][0]


async def test_user_tweets_can_exclude_replies(client):
    """GET /2/users/:id/tweets lists the user's tweets and honours exclude=replies."""
    alice = await make_user(client, "alice")
    root = (await client.post("/2/tweets", json={"text": "root"}, headers=alice.headers)).json()["data"]["id"]
    await client.post(
        "/2/tweets", json={"text": "reply", "reply": {"in_reply_to_tweet_id": root}}, headers=alice.headers
    )
    url = f"/2/users/{alice.id}/tweets"
    assert (await client.get(url, headers=alice.headers)).json()["meta"]["result_count"] == 2
    only_roots = (await client.get(url, params={"exclude": "replies"}, headers=alice.headers)).json()
    assert [t["text"] for t in only_roots["data"]] == ["root"]


async def test_parameter_errors_use_x_messages(client):
    """Out-of-range max_results, malformed ids, unknown params and fields, bad tokens get 400."""
    operator = await make_user(client, "docomo")
    app = await app_headers(client)
    url = f"/2/users/{operator.id}/mentions"
    cases = {
        "max_results": "101",
        "since_id": "12ab",
        "until_id": "1" * 20,
        "tweet.fields": "author_id,shoe_size",
        "expansions": "everything",
        "pagination_token": "!!",
        "start_time": "yesterday",
        "sort": "random",
    }
    for name, value in cases.items():
        response = await client.get(url, params={name: value}, headers=app)
        assert response.status_code == 400, name
        error = response.json()["errors"][0]
        assert list(error["parameters"]) == [name]
    low = await client.get(url, params={"max_results": "4"}, headers=app)
    assert (
        low.json()["errors"][0]["message"]
        == "The `max_results` query parameter value [4] is not between 5 and 100"
    )
    bad_id = await client.get("/2/users/x1/mentions", headers=app)
    assert bad_id.json()["errors"][0]["parameters"] == {"id": ["x1"]}
    superscript = await client.get(url, params={"max_results": "\u00b3"}, headers=app)  # isdigit(), not int()
    assert superscript.status_code == 400, superscript.text  # was a 500 (found by test_ft_fuzz)


async def test_unknown_user_timeline_is_a_partial_error(client):
    """Mentions of a user that does not exist answer 200 with a resource-not-found error."""
    operator = await make_user(client, "docomo")
    body = (await client.get("/2/users/12345/mentions", headers=operator.headers)).json()
    assert body["errors"][0]["resource_type"] == "user" and "data" not in body
