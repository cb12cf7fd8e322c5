"""The official clients, unmodified, against the served fake: tweepy 4.17 Client and xdk 0.10.6."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import tweepy
import xdk
from ft_support import ServedFake
from requests.adapters import HTTPAdapter

TWEEPY_HOST = "https://api.twitter.com"


class RedirectAdapter(HTTPAdapter):
    """A requests transport adapter that sends tweepy's api.twitter.com calls to the fake."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, **kwargs):  # type: ignore[override]
        assert request.url is not None
        request.url = self.base_url + request.url[len(TWEEPY_HOST) :]
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def served() -> Iterator[ServedFake]:
    with ServedFake() as fake:
        yield fake


@pytest.fixture
def fake(served: ServedFake) -> ServedFake:
    served.control("POST", "/_fake/reset")
    return served


def tweepy_client(fake: ServedFake, bearer_token: str | None = None, **kwargs) -> tweepy.Client:
    client = tweepy.Client(bearer_token=bearer_token, **kwargs)
    client.session.mount(TWEEPY_HOST, RedirectAdapter(fake.base_url))
    return client


def test_tweepy_scripted_flow(fake):
    """tweepy: tweet, reply, mentions with since_id and pagination, DM send and read."""
    operator = fake.control("POST", "/_fake/users", json={"username": "docomo_in"})
    alice = fake.control("POST", "/_fake/users", json={"username": "alice"})
    as_alice = tweepy_client(fake, alice["bearer_token"])
    as_operator = tweepy_client(fake, operator["bearer_token"])

    first = as_alice.create_tweet(text="@docomo_in #reg 9876543210", user_auth=False)
    assert len(first.data["id"]) == 19
    reply = as_operator.create_tweet(
        text="@alice your code is 123456", in_reply_to_tweet_id=first.data["id"], user_auth=False
    )
    looked_up = as_alice.get_tweet(reply.data["id"], tweet_fields=["in_reply_to_user_id", "conversation_id"])
    assert looked_up.data.in_reply_to_user_id == int(alice["id"])
    assert looked_up.data.conversation_id == int(first.data["id"])

    for n in range(11):
        as_alice.create_tweet(text=f"@docomo_in #act #PACK{n}", user_auth=False)
    recent = as_operator.get_users_mentions(operator["id"], since_id=first.data["id"], user_auth=False)
    assert recent.meta["result_count"] == 10 and "next_token" in recent.meta
    pages = list(
        tweepy.Paginator(
            as_operator.get_users_mentions,
            operator["id"],
            max_results=5,
            expansions=["author_id"],
            user_auth=False,
        )
    )
    texts = [tweet.text for page in pages for tweet in page.data]
    assert len(pages) == 3 and len(texts) == 12
    assert texts[0] == "@docomo_in #act #PACK10" and texts[-1] == "@docomo_in #reg 9876543210"
    assert pages[0].includes["users"][0].username == "alice"

    sent = as_alice.create_direct_message(participant_id=operator["id"], text="#act #PACK1", user_auth=False)
    assert sent.data["dm_conversation_id"] == "-".join(sorted([operator["id"], alice["id"]], key=int))
    events = as_operator.get_direct_message_events(dm_event_fields=["sender_id"], user_auth=False)
    assert events.data[0].text == "#act #PACK1" and events.data[0].sender_id == int(alice["id"])


def test_tweepy_oauth1_user_context(fake):
    """tweepy with OAuth 1.0a user keys (its default user_auth=True) can tweet and read /2/users/me."""
    app = fake.control("GET", "/_fake/app")
    bob = fake.control("POST", "/_fake/users", json={"username": "bob"})
    client = tweepy_client(
        fake,
        consumer_key=app["consumer_key"],
        consumer_secret=app["consumer_secret"],
        access_token=bob["access_token"],
        access_token_secret=bob["access_token_secret"],
    )
    assert client.get_me().data.username == "bob"
    assert client.create_tweet(text="hello from oauth1").data["text"] == "hello from oauth1"
    forged = tweepy_client(
        fake,
        consumer_key=app["consumer_key"],
        consumer_secret="not-the-secret",
        access_token=bob["access_token"],
        access_token_secret=bob["access_token_secret"],
    )
    with pytest.raises(tweepy.Unauthorized):
        forged.get_me()


def test_tweepy_handles_429(fake):
    """tweepy raises TooManyRequests, and with wait_on_rate_limit waits for the fake's reset and retries."""
    fake.control("POST", "/_fake/rate-limits", json={"limits": {"GET /2/users/me": {"user": [[1, 1]]}}})
    carol = fake.control("POST", "/_fake/users", json={"username": "carol"})
    impatient = tweepy_client(fake, carol["bearer_token"])
    impatient.get_me(user_auth=False)
    with pytest.raises(tweepy.TooManyRequests) as caught:
        impatient.get_me(user_auth=False)
    assert caught.value.response.json()["title"] == "Too Many Requests"
    patient = tweepy_client(fake, carol["bearer_token"], wait_on_rate_limit=True)
    assert patient.get_me(user_auth=False).data.username == "carol"


def test_xdk_scripted_flow(fake):
    """xdk (base_url at the fake): tweet, reply, mentions with since_id and pagination, DMs, 429."""
    operator = fake.control("POST", "/_fake/users", json={"username": "docomo_in"})
    dave = fake.control("POST", "/_fake/users", json={"username": "dave"})
    as_dave = xdk.Client(base_url=fake.base_url, access_token=dave["bearer_token"])
    as_operator = xdk.Client(base_url=fake.base_url, access_token=operator["bearer_token"])

    first = as_dave.posts.create(body={"text": "@docomo_in #reg 9123456780"})
    first_id = first.data.id
    assert len(first_id) == 19
    as_operator.posts.create(body={"text": "@dave code 654321", "reply": {"in_reply_to_tweet_id": first_id}})
    for n in range(6):
        as_dave.posts.create(body={"text": f"@docomo_in #act #P{n}"})
    pages = list(
        as_operator.users.get_mentions(
            operator["id"], since_id=first_id, max_results=5, post_fields=["author_id", "created_at"]
        )
    )
    ids = [post.id for page in pages for post in page.data]
    assert len(pages) == 2 and len(ids) == 6 and ids == sorted(ids, key=int, reverse=True)
    assert {post.author_id for page in pages for post in page.data} == {dave["id"]}

    sent = as_dave.direct_messages.create_by_participant_id(operator["id"], body={"text": "#act #P1"})
    assert sent.data.dm_event_id
    events = next(iter(as_operator.direct_messages.get_events(dm_event_fields=["sender_id"])))
    assert events.data[0].text == "#act #P1" and events.data[0].sender_id == dave["id"]

    fake.control("POST", "/_fake/rate-limits", json={"limits": {"GET /2/users/me": {"user": [[1, 60]]}}})
    as_dave.users.get_me()
    with pytest.raises(requests.HTTPError) as caught:
        as_dave.users.get_me()
    assert caught.value.response.status_code == 429
