"""The /_fake/ control API and authentication: users and tokens, app, reset, seed, clock, counters."""

from __future__ import annotations

from click.testing import CliRunner
from ft_support import app_headers, make_user

from fake_twitter import TwitterBackend


async def test_users_get_working_tokens(client):
    """Each created user gets a bearer token for /2/users/me and OAuth 1.0a keys; duplicates are refused."""
    alice = await make_user(client, "alice")
    me = await client.get("/2/users/me", headers=alice.headers)
    assert me.json() == {"data": {"id": alice.id, "name": "alice", "username": "alice"}}
    assert (await client.post("/_fake/users", json={"username": "ALICE"})).status_code == 400
    assert (await client.post("/_fake/users", json={"username": "has space"})).status_code == 400
    listed = (await client.get("/_fake/users")).json()["data"]
    assert [u["username"] for u in listed] == ["alice"] and listed[0]["access_token"].startswith(alice.id)


async def test_auth_failures_use_x_problem_bodies(client):
    """Missing or wrong tokens are 401; an app-only token on a user-context route is 403."""
    unauthorized = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    assert (await client.get("/2/users/me")).json() == unauthorized
    assert (await client.get("/2/users/me", headers={"Authorization": "Bearer nope"})).status_code == 401
    oauth = 'OAuth oauth_consumer_key="wrong", oauth_token="x"'
    assert (await client.get("/2/users/me", headers={"Authorization": oauth})).status_code == 401
    forbidden = await client.get("/2/users/me", headers=await app_headers(client))
    assert forbidden.status_code == 403 and forbidden.json()["title"] == "Unsupported Authentication"


async def test_app_token_reads(client):
    """The app-only bearer token reads users and tweets."""
    alice = await make_user(client, "alice")
    app = await app_headers(client)
    assert (await client.get("/2/users/by/username/alice", headers=app)).json()["data"]["id"] == alice.id
    assert (await client.get(f"/2/users/{alice.id}", headers=app)).status_code == 200


async def test_reset_forgets_everything(client):
    """POST /_fake/reset drops users, tokens and tweets."""
    alice = await make_user(client, "alice")
    await client.post("/2/tweets", json={"text": "hello"}, headers=alice.headers)
    assert (await client.post("/_fake/reset")).status_code == 200
    assert (await client.get("/_fake/users")).json() == {"data": []}
    assert (await client.get("/2/users/me", headers=alice.headers)).status_code == 401
    assert (await client.get("/_fake/counters")).json()["tweets_created"] == 0


async def test_seed_makes_ids_and_tokens_deterministic(client):
    """Two runs after the same seed (on a manual clock) produce identical users, tokens and tweet ids."""
    runs = []
    for _ in range(2):
        await client.post("/_fake/seed", json={"seed": 42})
        alice = await make_user(client, "alice")
        tweet = (await client.post("/2/tweets", json={"text": "hello"}, headers=alice.headers)).json()
        runs.append((alice.data, tweet, (await client.get("/_fake/app")).json()))
    assert runs[0] == runs[1]


async def test_clock_advance_and_timelines(client, clock):
    """The clock moves only forward through the control API; any timeline is readable."""
    before = (await client.get("/_fake/clock")).json()["now"]
    assert (await client.post("/_fake/clock/advance", json={"seconds": 90})).json()["now"] == before + 90
    assert (await client.post("/_fake/clock/advance", json={"seconds": -1})).status_code == 400
    alice = await make_user(client, "alice")
    operator = await make_user(client, "docomo")
    await client.post("/2/tweets", json={"text": "@docomo #reg 9876543210"}, headers=alice.headers)
    await client.post(
        f"/2/dm_conversations/with/{operator.id}/messages", json={"text": "hi"}, headers=alice.headers
    )
    mentions = (await client.get(f"/_fake/timelines/{operator.id}", params={"kind": "mentions"})).json()[
        "data"
    ]
    assert mentions[0]["author_id"] == alice.id and mentions[0]["entities"]["hashtags"][0]["tag"] == "reg"
    dms = (await client.get(f"/_fake/timelines/{operator.id}", params={"kind": "dms"})).json()["data"]
    assert dms[0]["sender_id"] == alice.id
    everything = (await client.get("/_fake/tweets", params={"username": "alice"})).json()["data"]
    assert [t["text"] for t in everything] == ["@docomo #reg 9876543210"]
    assert (await client.get(f"/_fake/timelines/{operator.id}", params={"kind": "likes"})).status_code == 400


async def test_counters_and_unknown_routes(client):
    """Counters count requests and 429s; unknown paths answer X's 404 problem."""
    alice = await make_user(client, "alice")
    await client.get("/2/users/me", headers=alice.headers)
    missing = await client.get("/2/spaces/1", headers=alice.headers)
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found Error"
    counters = (await client.get("/_fake/counters")).json()
    assert counters["requests"] == 1 and counters["users"] == 1 and counters["webhook_pending"] == 0


def test_cli_command_builds_and_serves(monkeypatch):
    """`twittcom fake-twitter` builds users, serves on loopback; --seed + --manual-clock repeat exactly."""
    import uvicorn

    from twittcom.cli import main

    served = {}

    def fake_run(app, **kwargs):
        served.update(kwargs, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(main, ["fake-twitter", "--port", "18999", "--seed", "5", "--user", "docomo"])
    assert result.exit_code == 0, result.output
    assert served["host"] == "127.0.0.1" and served["port"] == 18999
    backend: TwitterBackend = served["app"].backend
    assert [u.username for u in backend.users.values()] == ["docomo"]
    assert '"username": "docomo"' in result.output
    frozen = CliRunner().invoke(main, ["fake-twitter", "--seed", "5", "--manual-clock", "--user", "docomo"])
    assert frozen.exit_code == 0, frozen.output
    again = CliRunner().invoke(main, ["fake-twitter", "--seed", "5", "--manual-clock", "--user", "docomo"])
    assert frozen.output == again.output and served["app"].backend.clock.time() == 1_767_225_600.0
    assert served["app"].problem_base == "https://api.x.com/2/problems/"  # X's host today by default
    options = ["fake-twitter", "--problem-host", "api.twitter.com", "--max-pending-webhooks", "50"]
    assert CliRunner().invoke(main, options).exit_code == 0
    assert served["app"].problem_base == "https://api.twitter.com/2/problems/"
    assert served["app"].backend.outbox.maxlen == 50
    public = CliRunner().invoke(main, ["fake-twitter", "--host", "0.0.0.0"])
    assert public.exit_code == 2 and "loopback" in public.output


async def test_a_bug_answers_500_in_x_format(client, backend, monkeypatch):
    """An unexpected exception in a route becomes X's generic 500 problem body, not a bare error."""
    alice = await make_user(client, "alice")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(backend, "create_tweet", broken)
    response = await client.post("/2/tweets", json={"text": "hi"}, headers=alice.headers)
    assert response.status_code == 500
    assert response.json() == {
        "title": "Internal Server Error",
        "type": "about:blank",
        "status": 500,
        "detail": "Internal Server Error",
    }


async def test_app_only_webhook_routes_refuse_user_context(client):
    """The subscription list and unsubscribe are app-only in the spec: a user token gets 403
    unsupported-authentication naming the supported type; the app token is served."""
    alice = await make_user(client, "alice")
    path = "/2/account_activity/webhooks/1/subscriptions/all/list"
    refused = await client.get(path, headers=alice.headers)
    assert refused.status_code == 403
    assert refused.json()["type"] == "https://api.x.com/2/problems/unsupported-authentication"
    assert refused.json()["detail"] == (
        "Authenticating with OAuth 2.0 User Context is forbidden for this endpoint.  "
        "Supported authentication types are [OAuth 2.0 Application-Only]."
    )
    served = await client.get(path, headers=await app_headers(client))
    assert served.status_code != 403 and served.json()["title"] != "Unsupported Authentication"
    unsubscribe = f"/2/account_activity/webhooks/1/subscriptions/{alice.id}/all"
    assert (await client.delete(unsubscribe, headers=alice.headers)).status_code == 403


async def test_clock_cannot_pass_the_snowflake_horizon(client):
    """Advancing the clock past 2077 (19-digit snowflake ids end in 2080) is a 400; ids stay 19 digits."""
    alice = await make_user(client, "alice")
    refused = await client.post("/_fake/clock/advance", json={"seconds": 2.5e11})
    assert refused.status_code == 400 and "snowflake" in refused.json()["errors"][0]["message"]
    assert (await client.post("/_fake/clock/advance", json={"seconds": 1e300})).status_code == 400
    now = (await client.get("/_fake/clock")).json()["now"]
    assert (
        await client.post("/_fake/clock/advance", json={"seconds": 3_399_999_000 - now})
    ).status_code == 200
    created = await client.post("/2/tweets", json={"text": "late"}, headers=alice.headers)
    assert len(created.json()["data"]["id"]) == 19


async def test_bulk_users_are_created_all_or_nothing(client):
    """``{"users": [...]}`` creates every user with working tokens, or none when one name is bad or taken."""
    created = await client.post(
        "/_fake/users", json={"users": [{"username": "bulk1"}, {"username": "bulk2"}]}
    )
    assert created.status_code == 201
    first, second = created.json()["data"]
    assert (first["username"], second["username"]) == ("bulk1", "bulk2")
    me = await client.get("/2/users/me", headers={"Authorization": f"Bearer {second['bearer_token']}"})
    assert me.json()["data"]["id"] == second["id"]
    for bad in (
        [{"username": "bulk3"}, {"username": "BULK1"}],
        [{"username": "bulk4"}, {"username": "a b"}],
        [{"username": "bulk5"}, {"username": "bulk5"}],
        [],
        "bulk6",
        [{"name": "x"}],
    ):
        refused = await client.post("/_fake/users", json={"users": bad})
        assert refused.status_code == 400, bad
    names = {u["username"] for u in (await client.get("/_fake/users")).json()["data"]}
    assert not names & {"bulk3", "bulk4", "bulk5", "bulk6"}
