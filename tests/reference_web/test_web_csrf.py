"""Anti-forgery: session-bound HMAC tokens with expiry, and how the page refuses forged posts."""

from __future__ import annotations

import pytest

from reference.web.csrf import CsrfTokens
from reference.web.errors import CsrfError, WebConfigError

from .support import SECRET, ManualClock, client_for, submit, token_of


def make_tokens(clock: ManualClock, max_age_s: float = 3600) -> CsrfTokens:
    counter = iter(range(1, 1000))
    return CsrfTokens(
        SECRET, clock=clock, random_bytes=lambda n: bytes([next(counter)]) * n, max_age_s=max_age_s
    )


def test_token_issued_for_a_session_verifies(clock):
    """A token verifies against the session it was issued for."""
    tokens = make_tokens(clock)
    sid = tokens.new_session_id()
    tokens.verify(sid, tokens.issue(sid))


def test_token_of_another_session_is_refused(clock):
    """A token minted for one session id is worthless with another cookie."""
    tokens = make_tokens(clock)
    mine, theirs = tokens.new_session_id(), tokens.new_session_id()
    with pytest.raises(CsrfError, match="does not match"):
        tokens.verify(mine, tokens.issue(theirs))


def test_tampered_timestamp_is_refused(clock):
    """Changing the issue time (to extend a token's life) breaks its MAC."""
    tokens = make_tokens(clock)
    sid = tokens.new_session_id()
    issued, mac = tokens.issue(sid).split(".")
    with pytest.raises(CsrfError, match="does not match"):
        tokens.verify(sid, f"{int(issued) + 1000}.{mac}")


def test_token_expires_after_max_age(clock):
    """A token older than max_age_s is refused; one just inside it is accepted."""
    tokens = make_tokens(clock, max_age_s=600)
    sid = tokens.new_session_id()
    token = tokens.issue(sid)
    clock.advance(600)
    tokens.verify(sid, token)
    clock.advance(1)
    with pytest.raises(CsrfError, match="expired"):
        tokens.verify(sid, token)


def test_token_from_the_future_is_refused(clock):
    """A token stamped well ahead of the clock is refused (it was not issued by this server's time)."""
    tokens = make_tokens(clock)
    sid = tokens.new_session_id()
    clock.advance(3600)
    token = tokens.issue(sid)
    clock.advance(-3600)
    with pytest.raises(CsrfError, match="future"):
        tokens.verify(sid, token)


@pytest.mark.parametrize("token", ["", "abc", "123.", "1.2.3", "x" * 60, "12345." + "A" * 42])
def test_malformed_tokens_are_refused(clock, token):
    """Anything that is not <digits>.<43 url-safe chars> is refused without crashing."""
    tokens = make_tokens(clock)
    with pytest.raises(CsrfError):
        tokens.verify(tokens.new_session_id(), token)


@pytest.mark.parametrize("sid", [None, "", "short", "bad chars!" * 4])
def test_missing_or_malformed_session_is_refused(clock, sid):
    """Without a well-formed session cookie no token is accepted."""
    tokens = make_tokens(clock)
    with pytest.raises(CsrfError, match="session cookie"):
        tokens.verify(sid, tokens.issue("A" * 32))


def test_short_secret_key_is_a_config_error(clock):
    """A secret shorter than 16 bytes is rejected when the app is built."""
    with pytest.raises(WebConfigError):
        CsrfTokens("too-short", clock=clock, random_bytes=bytes)


async def test_post_without_token_gets_403_page(client, port):
    """A post with the cookie but no token is refused with a clear 403 page; the core is not called."""
    await client.get("/register")
    response = await client.post("/register", data={"handle": "priya", "mobile": "9876543210"})
    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert "Open a fresh form" in response.text
    assert port.calls == []


async def test_post_without_cookie_gets_403(make_app, port):
    """A token alone (as a forging site could copy it) is refused when the browser sends no cookie."""
    app = make_app()
    async with client_for(app) as attacker:
        token = token_of((await attacker.get("/register")).text)
    async with client_for(app) as victim:
        response = await victim.post(
            "/register", data={"csrf_token": token, "handle": "priya", "mobile": "9876543210"}
        )
    assert response.status_code == 403
    assert port.calls == []


async def test_token_from_another_browser_gets_403(make_app, port):
    """An attacker's own valid token does not work with the victim's cookie."""
    app = make_app()
    async with client_for(app) as attacker:
        token = token_of((await attacker.get("/register")).text)
    async with client_for(app) as victim:
        await victim.get("/register")
        response = await victim.post(
            "/register", data={"csrf_token": token, "handle": "priya", "mobile": "9876543210"}
        )
    assert response.status_code == 403
    assert port.calls == []


async def test_expired_form_gets_403(client, clock, port):
    """A form left open longer than the token lifetime must be reloaded."""
    page = await client.get("/register")
    clock.advance(2 * 3600 + 1)
    response = await client.post(
        "/register", data={"csrf_token": token_of(page.text), "handle": "priya", "mobile": "9876543210"}
    )
    assert response.status_code == 403
    assert port.calls == []


async def test_cross_site_fetch_metadata_is_refused(client, port):
    """A post the browser labels Sec-Fetch-Site: cross-site is refused even with a valid token."""
    page = await client.get("/register")
    response = await client.post(
        "/register",
        data={"csrf_token": token_of(page.text), "handle": "priya", "mobile": "9876543210"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert port.calls == []


async def test_valid_token_and_cookie_reach_the_core(client, port):
    """With cookie and matching token the request goes through to the core."""
    response = await submit(client)
    assert response.status_code == 200
    assert len(port.calls) == 1


async def test_cookie_is_httponly_and_samesite_strict(client):
    """The session cookie cannot be read by scripts nor sent on cross-site requests."""
    response = await client.get("/register")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie


async def test_secure_cookies_use_host_prefix(make_app):
    """With secure_cookies the cookie is Secure and __Host- prefixed (no Domain, Path=/)."""
    async with client_for(make_app(secure_cookies=True)) as c:
        response = await c.get("/register")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-twittcom_csrf=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


async def test_existing_session_cookie_is_kept(client):
    """Reloading the form keeps the browser's session (no new cookie), so other tabs stay valid."""
    first = await client.get("/register")
    second = await client.get("/register")
    assert "set-cookie" in first.headers
    assert "set-cookie" not in second.headers
