"""Fields and expansions: X's allowed values (from both specs), 400 for empty, repeated or unknown
values on every operation that takes them, and the fields an expansion brings with it."""

from __future__ import annotations

import json

import pytest
from ft_support import app_headers, make_user, shared_dir

from fake_twitter import params
from fake_twitter.selection import DM_IMPLIED, TWEET_IMPLIED

#: the fake's allowed values per spec parameter component (2.159 name, 2.167 name)
COMPONENTS = {
    ("TweetFieldsParameter", "PostFieldsParameter"): params.TWEET_FIELDS,
    ("TweetExpansionsParameter", "PostExpansionsParameter"): params.TWEET_EXPANSIONS,
    ("UserFieldsParameter", "UserFieldsParameter"): params.USER_FIELDS,
    ("UserExpansionsParameter", "UserExpansionsParameter"): params.USER_EXPANSIONS,
    ("DmEventFieldsParameter", "DmEventFieldsParameter"): params.DM_EVENT_FIELDS,
    ("DmEventExpansionsParameter", "DmEventExpansionsParameter"): params.DM_EXPANSIONS,
    ("MediaFieldsParameter", "MediaFieldsParameter"): params.MEDIA_FIELDS,
    ("PollFieldsParameter", "PollFieldsParameter"): params.POLL_FIELDS,
    ("PlaceFieldsParameter", "PlaceFieldsParameter"): params.PLACE_FIELDS,
    ("WebhookConfigFieldsParameter", "WebhookConfigFieldsParameter"): params.WEBHOOK_CONFIG_FIELDS,
}
#: 2.167 wire names the fake also takes (it answers under them); not in either spec's enum
EXTRAS = {"referenced_posts", "edit_history_post_ids", "referenced_posts.id", "referenced_posts.id.author_id"}


def _enum(spec: dict, component: str) -> set[str]:
    return set(spec["components"]["parameters"][component]["schema"]["items"]["enum"])


def test_allowed_values_are_the_union_of_both_specs():
    """Each list parameter takes exactly what spec 2.159 or 2.167 allows, plus the documented 2.167
    wire names; expansions only imply fields that exist."""
    specs = [
        json.loads((shared_dir() / "data" / "x-api" / f"openapi-{v}.json").read_text())
        for v in ("2.159", "2.167")
    ]
    for (old, new), allowed in COMPONENTS.items():
        union = _enum(specs[0], old) | _enum(specs[1], new)
        assert union <= allowed, (old, union - allowed)
        extra = allowed - union
        assert extra <= EXTRAS | {"most_recent_post_id", "pinned_post_id", "pinned_tweet_id"}, (old, extra)
    assert (
        set(TWEET_IMPLIED) <= params.TWEET_EXPANSIONS and set(TWEET_IMPLIED.values()) <= params.TWEET_FIELDS
    )
    assert set(DM_IMPLIED) <= params.DM_EXPANSIONS and set(DM_IMPLIED.values()) <= params.DM_EVENT_FIELDS


#: (value template, message fragment); {ok} is a value the parameter takes on that operation
BAD_VALUES = [
    ("", "[] is not one of"),
    ("{ok},{ok}", "[{ok}] is repeated"),
    ("{ok},bogus", "[bogus] is not one of"),
    ("{ok},", "[] is not one of"),
]
#: a valid value per list parameter (expansions differ per kind of operation)
VALID = {
    "tweet.fields": "created_at",
    "post.fields": "created_at",
    "user.fields": "created_at",
    "media.fields": "url",
    "poll.fields": "options",
    "place.fields": "country",
    "dm_event.fields": "created_at",
    "webhook_config.fields": "url",
}
TWEET_LISTS = [
    "tweet.fields",
    "post.fields",
    "expansions",
    "user.fields",
    "media.fields",
    "poll.fields",
    "place.fields",
]
DM_LISTS = ["dm_event.fields", "expansions", "user.fields", "tweet.fields", "post.fields", "media.fields"]
USER_LISTS = ["user.fields", "expansions", "tweet.fields", "post.fields"]


async def _operations(client) -> tuple[list[tuple[str, list[str], str]], dict[str, str], dict[str, str]]:
    """(path, list parameters, a valid expansion) of every operation taking lists; user and app headers."""
    operator = await make_user(client, "operator")
    sub = await make_user(client, "subscriber")
    tweet = await client.post("/2/tweets", json={"text": "@operator hi"}, headers=sub.headers)
    tweet_id = tweet.json()["data"]["id"]
    await client.post(
        f"/2/dm_conversations/with/{operator.id}/messages", json={"text": "x"}, headers=sub.headers
    )
    operations = [
        (f"/2/tweets/{tweet_id}", TWEET_LISTS, "author_id"),
        (f"/2/tweets?ids={tweet_id}", TWEET_LISTS, "author_id"),
        (f"/2/users/{operator.id}/mentions", TWEET_LISTS, "author_id"),
        (f"/2/users/{sub.id}/tweets", TWEET_LISTS, "author_id"),
        ("/2/users/me", USER_LISTS, "pinned_tweet_id"),
        (f"/2/users/{operator.id}", USER_LISTS, "pinned_tweet_id"),
        ("/2/users/by/username/operator", USER_LISTS, "pinned_tweet_id"),
        ("/2/dm_events", DM_LISTS, "sender_id"),
        (f"/2/dm_conversations/with/{operator.id}/dm_events", DM_LISTS, "sender_id"),
        ("/2/webhooks", ["webhook_config.fields"], ""),
    ]
    return operations, sub.headers, await app_headers(client)


async def test_every_operation_refuses_empty_repeated_or_unknown_list_values(client):
    """X answers 400 invalid-request naming the parameter and the value; the fake answered 200."""
    await client.post("/_fake/rate-limits", json={"preset": "off"})
    operations, user_headers, app_only = await _operations(client)
    checked = 0
    for path, names, expansion in operations:
        headers = app_only if path == "/2/webhooks" else user_headers
        joiner = "&" if "?" in path else "?"
        for name in names:
            ok = expansion if name == "expansions" else VALID[name]
            good = await client.get(f"{path}{joiner}{name}={ok}", headers=headers)
            assert good.status_code == 200, (path, name, good.text)
            for template, fragment in BAD_VALUES:
                value, message = template.format(ok=ok), fragment.format(ok=ok)
                response = await client.get(f"{path}{joiner}{name}={value}", headers=headers)
                assert response.status_code == 400, (path, name, value, response.text)
                body = response.json()
                assert body["type"] == "https://api.x.com/2/problems/invalid-request"
                error = body["errors"][0]
                assert name in error["parameters"] and message in error["message"], (path, name, value, error)
                checked += 1
    assert checked == 4 * sum(len(names) for _, names, _ in operations)


@pytest.mark.parametrize(
    ("expansions", "field", "expected"),
    [
        ("author_id", "author_id", "sub"),
        ("in_reply_to_user_id", "in_reply_to_user_id", "operator"),
        ("referenced_tweets.id", "referenced_tweets", [{"type": "replied_to"}]),
        ("entities.mentions.username", "entities", "mentions"),
    ],
)
async def test_an_expansion_brings_its_field(client, expansions, field, expected):
    """expansions=X without tweet.fields=X still answers the post's X (as X does)."""
    operator = await make_user(client, "operator")
    sub = await make_user(client, "sub")
    first = await client.post("/2/tweets", json={"text": "@operator hello"}, headers=operator.headers)
    reply = await client.post(
        "/2/tweets",
        json={"text": "@operator thanks", "reply": {"in_reply_to_tweet_id": first.json()["data"]["id"]}},
        headers=sub.headers,
    )
    reply_id = reply.json()["data"]["id"]
    plain = (await client.get(f"/2/tweets/{reply_id}", headers=sub.headers)).json()["data"]
    assert field not in plain
    data = (
        await client.get(f"/2/tweets/{reply_id}", params={"expansions": expansions}, headers=sub.headers)
    ).json()["data"]
    ids = {"sub": sub.id, "operator": operator.id}
    if isinstance(expected, str) and expected in ids:
        assert data[field] == ids[expected]
    elif isinstance(expected, list):
        assert data[field][0]["type"] == "replied_to"
    else:
        assert expected in data[field]


async def test_dm_expansions_bring_their_fields(client):
    operator = await make_user(client, "operator")
    sub = await make_user(client, "sub")
    await client.post(
        f"/2/dm_conversations/with/{operator.id}/messages", json={"text": "x"}, headers=sub.headers
    )
    event = (
        await client.get(
            "/2/dm_events", params={"expansions": "sender_id,participant_ids"}, headers=operator.headers
        )
    ).json()["data"][0]
    assert event["sender_id"] == sub.id
    assert sorted(event["participant_ids"]) == sorted([sub.id, operator.id])
