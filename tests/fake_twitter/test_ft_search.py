"""GET /2/tweets/search/recent: operators, pagination, id and time bounds, refusals, the spec, SDKs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import tweepy
import xdk
from ft_contract import ContractRecorder
from ft_support import BASE_URL, ServedFake, app_headers, make_user
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ft_clients import tweepy_client

from fake_twitter import ManualClock, TwitterBackend, create_app
from fake_twitter.app import FakeTwitterApp
from fake_twitter.views import rfc3339

pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")
SEARCH = "/2/tweets/search/recent"


@pytest.fixture
async def checked(app: FakeTwitterApp) -> AsyncIterator[tuple[httpx.AsyncClient, ContractRecorder]]:
    recorder = ContractRecorder()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, event_hooks={"response": [recorder]}
    ) as client:
        yield client, recorder
    await app.dispatcher.aclose()


async def _corpus(client, clock) -> dict[str, str]:
    """A few users and posts; returns post ids by a short name."""
    op = await make_user(client, "docomo_in")
    alice = await make_user(client, "alice")
    bob = await make_user(client, "Bob_X")
    ids: dict[str, str] = {"op": op.id, "alice": alice.id, "bob": bob.id}

    async def post(name: str, who, text: str, reply_to: str | None = None) -> None:
        body: dict = {"text": text}
        if reply_to is not None:
            body["reply"] = {"in_reply_to_tweet_id": ids[reply_to]}
        response = await client.post("/2/tweets", json=body, headers=who.headers)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["data"]["id"]
        clock.advance(1)

    await post("reg", alice, "@docomo_in #reg 9876543210")
    await post("act", alice, "@docomo_in #act #PACK10, please!")
    await post("bob_act", bob, "@docomo_in #ACT #pack20")
    await post("code", op, "@alice your code is 123456", reply_to="reg")
    await post("chatter", bob, "Hello world, no hashtags here")
    await post("helloworld", bob, "helloworld is one word")
    clock.advance(60)
    ids["_headers"] = alice.headers["Authorization"]
    return ids


async def _search(client, ids, query: str, **params) -> list[str]:
    headers = {"Authorization": ids["_headers"]}
    response = await client.get(SEARCH, params={"query": query, **params}, headers=headers)
    assert response.status_code == 200, response.text
    names = {v: k for k, v in ids.items()}
    return [names[t["id"]] for t in response.json().get("data", [])]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from:alice", ["act", "reg"]),
        ("from:ALICE #act", ["act"]),
        ("to:alice", ["code"]),
        ("@docomo_in", ["bob_act", "act", "reg"]),
        ("@alice", ["code"]),
        ("#act", ["bob_act", "act"]),
        ("#pack10 OR #pack20", ["bob_act", "act"]),
        ("hello", ["chatter"]),
        ('"hello world"', ["chatter"]),
        ('"world hello"', []),
        ("code 123456", ["code"]),
        ("reg", ["reg"]),
        ("@docomo_in -#act", ["reg"]),
        ("@docomo_in -(#act from:alice)", ["bob_act", "reg"]),
        ("(from:alice OR from:bob_x) #act", ["bob_act", "act"]),
        ("from:alice #reg OR from:docomo_in", ["code", "reg"]),
        ("@docomo_in is:reply", []),
        ("from:docomo_in is:reply", ["code"]),
        ("@docomo_in -is:retweet", ["bob_act", "act", "reg"]),
        ("has:hashtags from:bob_x", ["bob_act"]),
        ("from:nobody", []),
        ("please", ["act"]),
    ],
)
async def test_operators(client, clock, query, expected):
    ids = await _corpus(client, clock)
    assert await _search(client, ids, query) == expected


async def test_last_page_is_never_empty(client, clock):
    """next_token only when another match exists, on the from: path and the scanning path alike."""
    alice = await make_user(client, "alice")
    for n in range(20):
        await client.post("/2/tweets", json={"text": f"#act {n}"}, headers=alice.headers)
    await client.post("/2/tweets", json={"text": "other"}, headers=alice.headers)
    clock.advance(30)
    for query in ("from:alice #act", "#act"):
        page = (await client.get(SEARCH, params={"query": query}, headers=alice.headers)).json()
        last = (
            await client.get(
                SEARCH,
                params={"query": query, "next_token": page["meta"]["next_token"]},
                headers=alice.headers,
            )
        ).json()
        assert last["meta"]["result_count"] == 10 and "next_token" not in last["meta"], query


async def test_from_by_id_and_conversation(client, clock):
    ids = await _corpus(client, clock)
    assert await _search(client, ids, f"from:{ids['alice']}") == ["act", "reg"]
    assert await _search(client, ids, f"conversation_id:{ids['reg']}") == ["code", "reg"]
    assert await _search(client, ids, f"in_reply_to_tweet_id:{ids['reg']}") == ["code"]


async def test_pagination_ids_and_times(checked, clock):
    """max_results pages with next_token (or pagination_token), since_id/until_id, start/end_time,
    all validated against spec 2.159."""
    client, recorder = checked
    alice = await make_user(client, "alice")
    await make_user(client, "docomo_in")
    posted = []
    for n in range(25):
        response = await client.post(
            "/2/tweets", json={"text": f"@docomo_in #act #P{n}"}, headers=alice.headers
        )
        posted.append(response.json()["data"]["id"])
        clock.advance(2)
    clock.advance(30)
    seen: list[str] = []
    params = {"query": "#act", "max_results": "10", "tweet.fields": "created_at", "expansions": "author_id"}
    token_name = "next_token"
    while True:
        page = (await client.get(SEARCH, params=params, headers=alice.headers)).json()
        assert page["meta"]["result_count"] == len(page["data"])
        assert (
            page["data"][0]["author_id"] == alice.id and page["includes"]["users"][0]["username"] == "alice"
        )
        seen += [t["id"] for t in page["data"]]
        if "next_token" not in page["meta"]:
            break
        params[token_name] = page["meta"]["next_token"]
        token_name = "pagination_token" if token_name == "next_token" else "next_token"
        params.pop(token_name, None)
    assert seen == posted[::-1]
    bounded = await client.get(
        SEARCH, params={"query": "#act", "since_id": posted[4], "until_id": posted[9]}, headers=alice.headers
    )
    assert [t["id"] for t in bounded.json()["data"]] == posted[8:4:-1]
    now = clock.time()
    window = await client.get(
        SEARCH,
        params={"query": "#act", "start_time": rfc3339(now - 70), "end_time": rfc3339(now - 50)},
        headers=alice.headers,
    )
    # post n was made at now - 80 + 2n: [now-70, now-50) holds posts 5..14 (start inclusive, end not)
    assert [t["id"] for t in window.json()["data"]] == posted[14:4:-1]
    assert (await client.get(SEARCH, params={"query": "#nothing"}, headers=alice.headers)).json() == {
        "meta": {"result_count": 0}
    }
    assert len(recorder.seen) == 31  # 25 posts, 3 pages, bounded, window, empty: all checked


async def test_recent_means_seven_days(client, clock):
    """Posts older than 7 days are not found; start_time before that, or end_time within 10 s of now,
    are 400s in X's wording."""
    alice = await make_user(client, "alice")
    old = await client.post("/2/tweets", json={"text": "#old post"}, headers=alice.headers)
    clock.advance(8 * 86_400)
    new = await client.post("/2/tweets", json={"text": "#old again"}, headers=alice.headers)
    clock.advance(20)
    found = await client.get(SEARCH, params={"query": "#old"}, headers=alice.headers)
    assert [t["id"] for t in found.json()["data"]] == [new.json()["data"]["id"]]
    assert old.json()["data"]["id"] not in found.text
    now = clock.time()
    early = await client.get(
        SEARCH, params={"query": "#old", "start_time": rfc3339(now - 8 * 86_400)}, headers=alice.headers
    )
    assert (
        early.status_code == 400
        and "'start_time' must be on or after" in early.json()["errors"][0]["message"]
    )
    late = await client.get(
        SEARCH, params={"query": "#old", "end_time": rfc3339(now - 5)}, headers=alice.headers
    )
    assert late.status_code == 400 and "minimum of 10 seconds" in late.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "fragment", "position"),
    [
        ("lang:en #act", "The operator 'lang:en' is not supported by this fake", 1),
        ("#act has:media", "The operator 'has:media' is not supported by this fake", 6),
        ("#act url:x.com", "not supported by this fake", 6),
        ("#act $TWTR", "cashtag", 6),
        ("#act colour:red", "Reference to invalid operator 'colour'", 6),
        ("-#act", "at least one positive standalone term", 1),
        ("is:reply", "at least one positive standalone term", 1),
        ("(#act", "Missing closing parenthesis", 1),
        ("#act )", "Unexpected ')'", 6),
        ('"open phrase', "Unterminated quoted phrase", 1),
        ("#act OR", "Ambiguous use of OR", 8),
        ("from: #act", "needs a value", 1),
        ("!!!", "has no words", 1),
        ("(" * 40 + "#act" + ")" * 40, "nest deeper than 32", 33),
        ("-" * 40 + "x #act", "nest deeper than 32", 33),
    ],
)
async def test_unsupported_or_malformed_queries_get_400(checked, query, fragment, position):
    """X's error shape with the position of the offending term; the 400 validates against 2.159."""
    client, recorder = checked
    alice = await make_user(client, "alice")
    response = await client.get(SEARCH, params={"query": query}, headers=alice.headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"] == "https://api.x.com/2/problems/invalid-request"
    error = body["errors"][0]
    assert error["parameters"] == {"query": [query]}
    assert error["message"].startswith("There were errors processing your request: ")
    assert fragment in error["message"] and error["message"].endswith(f"(at position {position})")
    assert recorder.seen == [("GET", SEARCH, 400)]


async def test_bad_parameters_get_400(client):
    alice = await make_user(client, "alice")
    for params in (
        {},
        {"query": ""},
        {"query": "x" * 4097},
        {"query": "#a", "max_results": "9"},
        {"query": "#a", "max_results": "101"},
        {"query": "#a", "sort_order": "random"},
        {"query": "#a", "next_token": "zz"},
        {"query": "#a", "since_id": "abc"},
        {"query": "#a", "tweet.fields": "created_at,created_at"},
        {"query": "#a", "bogus": "1"},
    ):
        response = await client.get(SEARCH, params=params, headers=alice.headers)
        assert response.status_code == 400, (params, response.text)
    relevancy = await client.get(
        SEARCH, params={"query": "#a", "sort_order": "relevancy"}, headers=alice.headers
    )
    assert relevancy.status_code == 200
    app_only = await client.get(SEARCH, params={"query": "#a"}, headers=await app_headers(client))
    assert app_only.status_code == 200  # any token type, as the spec's security lists


@pytest.fixture(scope="module")
def served() -> Iterator[ServedFake]:
    with ServedFake() as fake:
        yield fake


def test_tweepy_and_xdk_search_recent(served):
    """tweepy's search_recent_tweets with Paginator and xdk's posts.search_recent (404 before)."""
    served.control("POST", "/_fake/reset")
    served.control("POST", "/_fake/users", json={"username": "docomo_in"})
    alice = served.control("POST", "/_fake/users", json={"username": "alice"})
    as_alice = tweepy_client(served, alice["bearer_token"])
    for n in range(13):
        as_alice.create_tweet(text=f"@docomo_in #act #PACK{n}", user_auth=False)
    as_alice.create_tweet(text="unrelated", user_auth=False)
    app = served.control("GET", "/_fake/app")
    reader = tweepy_client(served, app["bearer_token"])
    pages = list(
        tweepy.Paginator(
            reader.search_recent_tweets, "@docomo_in #act -#pack3", max_results=10, expansions=["author_id"]
        )
    )
    texts = [t.text for page in pages for t in page.data]
    assert len(pages) == 2 and len(texts) == 12 and "@docomo_in #act #PACK3" not in texts
    assert all(t.author_id == int(alice["id"]) for page in pages for t in page.data)
    client = xdk.Client(base_url=served.base_url, bearer_token=app["bearer_token"])
    first = next(iter(client.posts.search_recent("from:alice unrelated", max_results=10)))
    assert [p.text for p in first.data] == ["unrelated"]
    with pytest.raises(tweepy.BadRequest) as refused:
        reader.search_recent_tweets("#act lang:en")
    assert "not supported by this fake" in str(refused.value)


QUERY_PIECES = st.sampled_from(
    [
        "#act",
        "@alice",
        "from:alice",
        "to:bob",
        "OR",
        "-",
        "(",
        ")",
        '"',
        "is:reply",
        "has:",
        "lang:en",
        "x:",
        "$",
        "word",
        " ",
        "  ",
        "\u00e9t\u00e9",
        "#",
        "@",
        ":",
        "-(",
        "\x00",
        "\U0001f600",
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(QUERY_PIECES | st.text(max_size=6), max_size=30), depth=st.integers(0, 200))
def test_any_query_gets_200_or_400(pieces, depth):
    """Any query text, nesting included, answers 200 or 400 invalid-request, never a 500."""
    import asyncio

    backend = TwitterBackend(ManualClock(), seed=2, rate_limits="off")
    user = backend.create_user("alice")
    backend.create_tweet(user.id, "#act hello @alice")
    query = "(" * depth + " ".join(pieces) + ")" * depth

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(backend))
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            return await client.get(
                SEARCH, params={"query": query}, headers={"Authorization": f"Bearer {user.bearer_token}"}
            )

    response = asyncio.run(ask())
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["type"] == "https://api.x.com/2/problems/invalid-request"


async def test_search_and_conversation_answers_match_spec_2167(client, clock):
    """xdk's spec (2.167) accepts the new routes' answers too: a search page with post.fields and
    expansions, a send into a conversation and its listing."""
    from ft_contract import OpenAPIRequest, OpenAPIResponse, spec_2167

    ids = await _corpus(client, clock)
    alice = {"Authorization": ids["_headers"]}
    conversation = "-".join(sorted((ids["alice"], ids["op"]), key=int))
    responses = [
        await client.get(
            SEARCH,
            params={"query": "@docomo_in", "post.fields": "created_at,entities", "expansions": "author_id"},
            headers=alice,
        ),
        await client.post(f"/2/dm_conversations/{conversation}/messages", json={"text": "hi"}, headers=alice),
        await client.get(
            f"/2/dm_conversations/{conversation}/dm_events",
            params={"dm_event.fields": "created_at", "expansions": "sender_id"},
            headers=alice,
        ),
    ]
    api = spec_2167()
    for response in responses:
        assert response.is_success, response.text
        api.validate_response(OpenAPIRequest(response.request), OpenAPIResponse(response))
