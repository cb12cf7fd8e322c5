"""Flows of the official SDKs (tweepy 4.17, xdk 0.10.6) that exposed differences from X (issue 14,
point 10), each run unmodified against the served fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import tweepy
import xdk
from ft_support import ServedFake
from test_ft_clients import tweepy_client


@pytest.fixture(scope="module")
def served() -> Iterator[ServedFake]:
    with ServedFake() as fake:
        yield fake


@pytest.fixture
def fake(served: ServedFake) -> ServedFake:
    served.control("POST", "/_fake/reset")
    return served


def test_tweepy_author_id_comes_with_its_expansion(fake):
    """expansions=author_id without tweet.fields=author_id: X answers author_id in each post, so
    tweepy's Tweet.author_id is set (it was None); likewise in_reply_to_user_id and a DM's sender_id."""
    operator = fake.control("POST", "/_fake/users", json={"username": "docomo_in"})
    alice = fake.control("POST", "/_fake/users", json={"username": "alice"})
    as_alice = tweepy_client(fake, alice["bearer_token"])
    as_operator = tweepy_client(fake, operator["bearer_token"])
    first = as_alice.create_tweet(text="@docomo_in #reg 9876543210", user_auth=False)
    reply = as_operator.create_tweet(text="@alice ok", in_reply_to_tweet_id=first.data["id"], user_auth=False)

    looked_up = as_alice.get_tweet(first.data["id"], expansions=["author_id"], user_auth=False)
    assert looked_up.data.author_id == int(alice["id"])
    assert looked_up.includes["users"][0].username == "alice"
    replied = as_alice.get_tweet(
        reply.data["id"], expansions=["in_reply_to_user_id", "referenced_tweets.id"], user_auth=False
    )
    assert replied.data.in_reply_to_user_id == int(alice["id"])
    assert replied.data.referenced_tweets[0].id == int(first.data["id"])
    assert replied.data.author_id is None  # not asked for, not expanded: X leaves it out
    mentions = as_operator.get_users_mentions(operator["id"], expansions=["author_id"], user_auth=False)
    assert [t.author_id for t in mentions.data] == [int(alice["id"])]

    as_alice.create_direct_message(participant_id=operator["id"], text="#act #P1", user_auth=False)
    events = as_operator.get_direct_message_events(expansions=["sender_id"], user_auth=False)
    assert events.data[0].sender_id == int(alice["id"])
    assert events.includes["users"][0].username == "alice"


def test_tweepy_gets_bad_request_for_repeated_or_unknown_fields(fake):
    """X answers 400 to a repeated or unknown fields/expansions value; tweepy raises BadRequest with
    X's message (the fake used to answer 200)."""
    alice = fake.control("POST", "/_fake/users", json={"username": "alice"})
    as_alice = tweepy_client(fake, alice["bearer_token"])
    tweet_id = as_alice.create_tweet(text="hello", user_auth=False).data["id"]
    with pytest.raises(tweepy.BadRequest) as repeated:
        as_alice.get_tweet(tweet_id, tweet_fields=["created_at", "created_at"], user_auth=False)
    assert "[created_at]" in str(repeated.value)
    with pytest.raises(tweepy.BadRequest) as unknown:
        as_alice.get_tweet(tweet_id, media_fields=["colour"], user_auth=False)
    assert "`media.fields` query parameter value [colour] is not one of" in str(unknown.value)
    with pytest.raises(tweepy.BadRequest):
        as_alice.get_users_mentions(alice["id"], expansions=["author_id", "author_id"], user_auth=False)
    with pytest.raises(tweepy.BadRequest):
        as_alice.get_me(user_fields=["created_at", "created_at"], user_auth=False)


def test_xdk_reads_a_not_found_post(fake):
    """xdk 0.10.6 validates problem types against https://api.x.com/2/problems/...: a missing post is
    a 200 with errors[] it can parse (it raised a pydantic ValidationError on api.twitter.com types),
    and the single-post lookup names parameter "id" (it said "ids")."""
    dave = fake.control("POST", "/_fake/users", json={"username": "dave"})
    client = xdk.Client(base_url=fake.base_url, access_token=dave["bearer_token"])
    missing = client.posts.get_by_id("20")
    assert missing.data is None
    error = missing.errors[0]
    assert error.type == "https://api.x.com/2/problems/resource-not-found"
    assert (error.parameter, error.value, error.resource_type) == ("id", "20", "tweet")
    posted = client.posts.create(body={"text": "hello from xdk"})
    found = client.posts.get_by_id(posted.data.id, expansions=["author_id"])
    assert found.data.author_id == dave["id"]
    many = client.posts.get_by_ids(ids=[posted.data.id, "21"])
    assert many.data[0].id == posted.data.id and many.errors[0].parameter == "ids"


def test_xdk_sees_a_bad_fields_list_as_400(fake):
    """An unknown post.fields value is a 400 invalid-request, as X answers it."""
    dave = fake.control("POST", "/_fake/users", json={"username": "dave"})
    client = xdk.Client(base_url=fake.base_url, access_token=dave["bearer_token"])
    with pytest.raises(requests.HTTPError) as caught:
        next(iter(client.users.get_mentions(dave["id"], post_fields=["author_id", "nonsense"])))
    assert caught.value.response.status_code == 400
    assert caught.value.response.json()["type"] == "https://api.x.com/2/problems/invalid-request"
