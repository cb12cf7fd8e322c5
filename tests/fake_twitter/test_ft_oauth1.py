"""OAuth 1.0a: signatures made by oauthlib (independent of the fake's code) are checked as X does."""

from __future__ import annotations

import httpx
from ft_support import make_user
from oauthlib.oauth1 import Client as OAuth1Client

from fake_twitter.oauth1 import sign


def _signed(app: dict, user, url: str, method: str = "GET", **secrets: str) -> dict[str, str]:
    signer = OAuth1Client(
        app["consumer_key"],
        client_secret=secrets.get("consumer_secret", app["consumer_secret"]),
        resource_owner_key=user.data["access_token"],
        resource_owner_secret=secrets.get("token_secret", user.data["access_token_secret"]),
    )
    _, headers, _ = signer.sign(url, http_method=method)
    return headers


async def _app(client: httpx.AsyncClient) -> dict:
    return (await client.get("/_fake/app")).json()


async def test_correct_signature_is_accepted_for_the_address_used(client):
    """A request signed for the fake's own address, or for api.twitter.com, is accepted."""
    alice = await make_user(client, "alice")
    app = await _app(client)
    for signed_for in ("https://api.x.com", "https://api.twitter.com"):
        headers = _signed(app, alice, f"{signed_for}/2/users/me?user.fields=created_at")
        me = await client.get("/2/users/me", params={"user.fields": "created_at"}, headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["data"]["username"] == "alice"


async def test_wrong_secrets_or_tampering_get_401(client):
    """A wrong consumer secret, a wrong token secret, a changed query or another host is a 401."""
    alice = await make_user(client, "alice")
    app = await _app(client)
    url = "https://api.x.com/2/users/me"
    for headers, params in (
        (_signed(app, alice, url, consumer_secret="wrong"), {}),
        (_signed(app, alice, url, token_secret="wrong"), {}),
        (_signed(app, alice, url), {"user.fields": "created_at"}),
        (_signed(app, alice, "https://evil.example/2/users/me"), {}),
    ):
        response = await client.get("/2/users/me", params=params, headers=headers)
        assert response.status_code == 401
        assert response.json() == {
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        }


async def test_json_body_is_not_signed(client):
    """POST /2/tweets signed over method and URL only (JSON bodies are not part of the base string)."""
    alice = await make_user(client, "alice")
    app = await _app(client)
    headers = _signed(app, alice, "https://api.x.com/2/tweets", method="POST")
    created = await client.post("/2/tweets", json={"text": "signed"}, headers=headers)
    assert created.status_code == 201 and created.json()["data"]["text"] == "signed"


def test_sign_matches_rfc5849_example():
    """The signer reproduces the RFC 5849 section 1.2 example signature (tR3+Ty81lMeYAr/Fid0kMTYa/WM=)."""
    params = [
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1191242096"),
        ("oauth_nonce", "kllo9940pd9333jh"),
        ("oauth_version", "1.0"),
        ("file", "vacation.jpg"),
        ("size", "original"),
    ]
    signature = sign(
        "GET", "http://photos.example.net/photos", params, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00"
    )
    assert signature == "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
