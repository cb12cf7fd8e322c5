"""Tweets: creation, replies, entities, snowflake ids, weighted length, duplicates, lookup, delete."""

from __future__ import annotations

import yaml
from ft_support import make_user, shared_dir

from fake_twitter import ManualClock
from fake_twitter.snowflake import SnowflakeGenerator, snowflake_time


def weighted_cases() -> list[dict]:
    data = yaml.safe_load(
        (shared_dir() / "data" / "twitter-text" / "validate.yml").read_text(encoding="utf-8")
    )
    return data["tests"]["WeightedTweetsCounterTest"]


async def test_weighted_length_conformance_cases(client):
    """Every WeightedTweetsCounterTest text is accepted exactly when twitter-text calls it valid."""
    alice = await make_user(client, "alice")
    cases = weighted_cases()
    assert len(cases) == 20
    for case in cases:
        response = await client.post("/2/tweets", json={"text": case["text"]}, headers=alice.headers)
        if case["expected"]["valid"]:
            assert response.status_code == 201, case["description"]
        else:
            assert response.status_code == 400, case["description"]
            if case["expected"]["weightedLength"] > 280:
                [error] = response.json()["errors"]
                assert error["message"].startswith("Your Tweet text is too long."), case["description"]
                assert error["parameters"] == {"text": [case["text"]]}


async def test_too_long_reads_as_tweepy_users_saw_it(client):
    """Over 280 weighted characters is X's 400 invalid-request whose errors[] message is the one tweepy
    users report ("400 Bad Request / Your Tweet text is too long. For more information ...")."""
    alice = await make_user(client, "alice")
    response = await client.post("/2/tweets", json={"text": "x" * 281}, headers=alice.headers)
    assert response.status_code == 400
    assert response.json()["type"] == "https://api.x.com/2/problems/invalid-request"
    assert response.json()["errors"][0]["message"] == (
        "Your Tweet text is too long. For more information on how Twitter determines text length see "
        "https://github.com/twitter/twitter-text."
    )


async def test_duplicate_of_recent_tweet_is_refused(client, clock):
    """The same user repeating a recent tweet gets X's 403; other users, later or after delete is fine."""
    alice = await make_user(client, "alice")
    bob = await make_user(client, "bob")
    first = await client.post("/2/tweets", json={"text": "#reg 9876543210"}, headers=alice.headers)
    again = await client.post("/2/tweets", json={"text": "#reg 9876543210"}, headers=alice.headers)
    assert again.status_code == 403
    assert again.json()["detail"] == "You are not allowed to create a Tweet with duplicate content."
    assert (
        await client.post("/2/tweets", json={"text": "#reg 9876543210"}, headers=bob.headers)
    ).status_code == 201
    await client.delete(f"/2/tweets/{first.json()['data']['id']}", headers=alice.headers)
    assert (
        await client.post("/2/tweets", json={"text": "#reg 9876543210"}, headers=alice.headers)
    ).status_code == 201
    clock.advance(86_401)
    assert (
        await client.post("/2/tweets", json={"text": "#reg 9876543210"}, headers=alice.headers)
    ).status_code == 201


async def test_ids_are_19_digit_snowflakes_growing_with_time(client, clock):
    """Tweet ids have 19 digits, strictly increase, and encode the fake's clock."""
    alice = await make_user(client, "alice")
    ids = []
    for n in range(20):
        clock.advance(0.0005 * (n % 3))
        ids.append(
            int(
                (await client.post("/2/tweets", json={"text": f"n{n}"}, headers=alice.headers)).json()[
                    "data"
                ]["id"]
            )
        )
    assert all(len(str(i)) == 19 for i in ids)
    assert ids == sorted(set(ids))
    assert abs(snowflake_time(ids[-1]) - clock.time()) < 0.002


def test_snowflakes_never_go_backwards_when_the_clock_does():
    """A clock that steps back still yields increasing ids."""
    clock = ManualClock(2_000_000_000.0)
    ids = SnowflakeGenerator(clock, worker_id=5)
    first = ids.next_id()
    clock.now -= 10
    assert ids.next_id() == first + 1


async def test_reply_sets_conversation_and_reply_fields(client):
    """A reply carries conversation_id, in_reply_to_user_id, referenced_tweets and mention entities."""
    alice = await make_user(client, "alice")
    operator = await make_user(client, "docomo")
    root = (
        await client.post("/2/tweets", json={"text": "@docomo #reg 9876543210"}, headers=alice.headers)
    ).json()
    root_id = root["data"]["id"]
    reply = await client.post(
        "/2/tweets",
        json={"text": "@alice code 123456", "reply": {"in_reply_to_tweet_id": root_id}},
        headers=operator.headers,
    )
    reply_id = reply.json()["data"]["id"]
    fields = "conversation_id,in_reply_to_user_id,referenced_tweets,entities,author_id,created_at"
    data = (
        await client.get(f"/2/tweets/{reply_id}", params={"tweet.fields": fields}, headers=alice.headers)
    ).json()["data"]
    assert data["conversation_id"] == root_id and data["in_reply_to_user_id"] == alice.id
    assert data["referenced_tweets"] == [{"type": "replied_to", "id": root_id}]
    assert data["entities"]["mentions"] == [{"start": 0, "end": 6, "username": "alice", "id": alice.id}]
    assert data["author_id"] == operator.id and data["created_at"].endswith("Z")


async def test_post_fields_is_accepted_like_tweet_fields(client):
    """The 2.167 spelling post.fields selects the same fields as tweet.fields."""
    alice = await make_user(client, "alice")
    tweet_id = (await client.post("/2/tweets", json={"text": "hello"}, headers=alice.headers)).json()["data"][
        "id"
    ]
    a = await client.get(f"/2/tweets/{tweet_id}", params={"tweet.fields": "author_id"}, headers=alice.headers)
    b = await client.get(f"/2/tweets/{tweet_id}", params={"post.fields": "author_id"}, headers=alice.headers)
    assert a.json() == b.json() and a.json()["data"]["author_id"] == alice.id


async def test_bad_bodies_get_invalid_request(client):
    """Unknown keys, missing text, malformed reply ids and non-JSON bodies get 400 invalid-request."""
    alice = await make_user(client, "alice")
    bodies = [
        {"text": "x", "colour": "red"},
        {"reply": {"in_reply_to_tweet_id": "1"}},
        {"text": "x", "reply": {"in_reply_to_tweet_id": "abc"}},
        {"text": "x", "reply": {"in_reply_to_tweet_id": "1", "extra": 1}},
        {"text": 5},
    ]
    for body in bodies:
        response = await client.post("/2/tweets", json=body, headers=alice.headers)
        assert response.status_code == 400, body
        assert response.json()["type"] == "https://api.x.com/2/problems/invalid-request"
        assert response.headers["content-type"] == "application/problem+json"
    raw = await client.post("/2/tweets", content=b"{not json", headers=alice.headers)
    assert raw.status_code == 400
    missing = await client.post(
        "/2/tweets", json={"text": "x", "reply": {"in_reply_to_tweet_id": "1"}}, headers=alice.headers
    )
    assert missing.status_code == 400 and "deleted" in missing.json()["errors"][0]["message"]


async def test_lookup_by_ids_returns_partial_errors(client):
    """GET /2/tweets?ids= returns found tweets in data and missing ids in errors[] with status 200."""
    alice = await make_user(client, "alice")
    tweet_id = (await client.post("/2/tweets", json={"text": "hello"}, headers=alice.headers)).json()["data"][
        "id"
    ]
    body = (await client.get("/2/tweets", params={"ids": f"{tweet_id},123"}, headers=alice.headers)).json()
    assert [t["id"] for t in body["data"]] == [tweet_id]
    assert body["errors"] == [
        {
            "value": "123",
            "detail": "Could not find tweet with ids: [123].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "ids",
            "resource_id": "123",
            "type": "https://api.x.com/2/problems/resource-not-found",
        }
    ]
    too_many = await client.get("/2/tweets", params={"ids": ",".join(["1"] * 101)}, headers=alice.headers)
    assert too_many.status_code == 400


async def test_delete_only_own_tweets(client):
    """Deleting someone else's tweet is 403; deleting a missing tweet is 404; own tweet is deleted."""
    alice = await make_user(client, "alice")
    bob = await make_user(client, "bob")
    tweet_id = (await client.post("/2/tweets", json={"text": "mine"}, headers=alice.headers)).json()["data"][
        "id"
    ]
    assert (await client.delete(f"/2/tweets/{tweet_id}", headers=bob.headers)).status_code == 403
    assert (await client.delete("/2/tweets/42", headers=alice.headers)).status_code == 404
    assert (await client.delete(f"/2/tweets/{tweet_id}", headers=alice.headers)).json() == {
        "data": {"deleted": True}
    }
    gone = await client.get(f"/2/tweets/{tweet_id}", headers=alice.headers)
    assert gone.status_code == 200 and gone.json()["errors"][0]["resource_id"] == tweet_id


async def test_spec_2167_names_answer_in_kind(client):
    """post.fields=referenced_posts,edit_history_post_ids answers with the 2.167 names."""
    alice = await make_user(client, "alice")
    root = (await client.post("/2/tweets", json={"text": "root"}, headers=alice.headers)).json()["data"]["id"]
    body = {"text": "child", "reply": {"in_reply_to_tweet_id": root}}
    child = (await client.post("/2/tweets", json=body, headers=alice.headers)).json()["data"]["id"]
    params = {"post.fields": "referenced_posts,edit_history_post_ids"}
    data = (await client.get(f"/2/tweets/{child}", params=params, headers=alice.headers)).json()["data"]
    assert data["referenced_posts"] == [{"type": "replied_to", "id": root}]
    assert data["edit_history_post_ids"] == [child] and "referenced_tweets" not in data
