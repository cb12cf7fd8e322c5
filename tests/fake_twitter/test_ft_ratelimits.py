"""Rate limits per endpoint, app and user on the fake's clock; headers; presets real/off/file."""

from __future__ import annotations

import json

import pytest
from ft_support import app_headers, make_user

from fake_twitter import ManualClock
from fake_twitter.exceptions import RateLimitExceeded
from fake_twitter.ratelimits import RateLimiter, load_preset


async def test_every_api_response_carries_rate_limit_headers(client):
    """Successful and failed authenticated X API responses carry x-rate-limit-limit/remaining/reset."""
    alice = await make_user(client, "alice")
    responses = [
        await client.post("/2/tweets", json={"text": "hi"}, headers=alice.headers),
        await client.get("/2/users/me", headers=alice.headers),
        await client.get("/2/users/abc", headers=alice.headers),
        await client.get("/2/tweets/1", headers=alice.headers),
    ]
    for response in responses:
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(response.headers)
    assert responses[0].headers["x-rate-limit-limit"] == "100"
    assert responses[0].headers["x-app-limit-24hour-limit"] == "10000"
    assert responses[1].headers["x-rate-limit-limit"] == "75"


async def test_user_cap_on_post_tweets_is_100_per_15_minutes(client, clock):
    """The 101st tweet of a user inside 15 minutes gets 429; advancing the clock opens a new window."""
    alice = await make_user(client, "alice")
    for n in range(100):
        ok = await client.post("/2/tweets", json={"text": f"tweet {n}"}, headers=alice.headers)
        assert ok.status_code == 201
    assert ok.headers["x-rate-limit-remaining"] == "0"
    refused = await client.post("/2/tweets", json={"text": "one too many"}, headers=alice.headers)
    assert refused.status_code == 429
    assert refused.json() == {
        "title": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
        "detail": "Too Many Requests",
    }
    assert int(refused.headers["x-rate-limit-reset"]) == int(clock.time() + 900)
    bob = await make_user(client, "bob")
    assert (await client.post("/2/tweets", json={"text": "bob"}, headers=bob.headers)).status_code == 201
    clock.advance(900)
    assert (await client.post("/2/tweets", json={"text": "later"}, headers=alice.headers)).status_code == 201


def test_app_cap_on_post_tweets_counts_every_user():
    """POST /2/tweets has a 10,000 per 24 h cap for the whole app, across all its users."""
    clock = ManualClock()
    limiter = RateLimiter(clock)
    for n in range(10_000):
        limiter.hit("POST /2/tweets", 1, user_id=n % 200)
    with pytest.raises(RateLimitExceeded) as caught:
        limiter.hit("POST /2/tweets", 1, user_id=999)
    headers = dict(caught.value.headers)
    assert headers[b"x-rate-limit-limit"] == b"10000"
    assert headers[b"x-app-limit-24hour-remaining"] == b"0"
    clock.advance(86_400)
    limiter.hit("POST /2/tweets", 1, user_id=999)


async def test_app_and_user_windows_are_separate(client, backend):
    """Mentions: the app bearer token and a user token draw from different buckets (450 vs 300)."""
    alice = await make_user(client, "alice")
    app = await app_headers(client)
    by_app = await client.get(f"/2/users/{alice.id}/mentions", headers=app)
    by_user = await client.get(f"/2/users/{alice.id}/mentions", headers=alice.headers)
    assert (by_app.headers["x-rate-limit-limit"], by_app.headers["x-rate-limit-remaining"]) == ("450", "449")
    assert (by_user.headers["x-rate-limit-limit"], by_user.headers["x-rate-limit-remaining"]) == (
        "300",
        "299",
    )


async def test_dm_send_has_both_user_windows(client):
    """DM create: 15 per 15 minutes per user, also counted in 24 h user and app windows."""
    alice = await make_user(client, "alice")
    bob = await make_user(client, "bob")
    url = f"/2/dm_conversations/with/{bob.id}/messages"
    for n in range(15):
        sent = await client.post(url, json={"text": f"m{n}"}, headers=alice.headers)
        assert sent.status_code == 201
    assert sent.headers["x-user-limit-24hour-remaining"] == "1425"
    assert (await client.post(url, json={"text": "m16"}, headers=alice.headers)).status_code == 429


async def test_off_preset_never_refuses(client, backend):
    """The 'off' preset refuses nothing but still sends headers."""
    backend.limiter.configure(*load_preset("off"), "off")
    alice = await make_user(client, "alice")
    for _ in range(80):
        response = await client.get("/2/users/me", headers=alice.headers)
        assert response.status_code == 200
    assert int(response.headers["x-rate-limit-remaining"]) > 10**8


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_file_preset_overrides_real(tmp_path, suffix):
    """A JSON or TOML file overrides chosen routes and keeps the documented values elsewhere."""
    path = tmp_path / f"limits{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps({"POST /2/tweets": {"user": [[3, 60]]}}))
    else:
        path.write_text('["POST /2/tweets"]\nuser = [[3, 60]]\n')
    table, _ = load_preset(str(path))
    assert table["POST /2/tweets"].user[0].limit == 3
    assert table["GET /2/users/:id/mentions"].app[0].limit == 450


async def test_control_api_switches_presets(client):
    """POST /_fake/rate-limits switches preset; GET shows the table in force."""
    switched = await client.post(
        "/_fake/rate-limits", json={"limits": {"GET /2/users/me": {"user": [[2, 30]]}}}
    )
    assert switched.json()["limits"]["GET /2/users/me"]["user"] == [[2, 30.0]]
    alice = await make_user(client, "alice")
    codes = [(await client.get("/2/users/me", headers=alice.headers)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    await client.post("/_fake/rate-limits", json={"preset": "off"})
    assert (await client.get("/2/users/me", headers=alice.headers)).status_code == 200
    bad = await client.post("/_fake/rate-limits", json={"preset": "/no/such/file.json"})
    assert bad.status_code == 400
