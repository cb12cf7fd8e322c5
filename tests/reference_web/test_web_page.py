"""The page itself: security headers, CSP matching the inline CSS, phone-friendly accessible markup."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from reference.web.errors import WebConfigError
from reference.web.pages import PageRenderer

from .support import client_for, submit


async def test_security_headers_on_every_response(client):
    """Form, result, 404 and 405 responses all carry the security headers."""
    responses = [
        await client.get("/register"),
        await submit(client),
        await client.get("/nowhere"),
        await client.put("/register"),
    ]
    for response in responses:
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert [r.status_code for r in responses] == [200, 200, 404, 405]


async def test_csp_allows_exactly_the_inline_stylesheet(client):
    """The CSP allows the inline <style> by its hash, no 'unsafe-inline' and no scripts."""
    response = await client.get("/register")
    csp = response.headers["content-security-policy"]
    css = re.search(r"<style>(.*?)</style>", response.text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert "unsafe-inline" not in csp
    assert "script-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp


async def test_page_has_no_external_assets_or_scripts(client):
    """No scripts and nothing loaded from another origin (works on a slow phone link)."""
    text = (await client.get("/register")).text
    assert "<script" not in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)


async def test_page_is_phone_friendly_and_labelled(client):
    """Viewport meta, a language, a label for each input and a phone keypad for the number."""
    text = (await client.get("/register")).text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert '<html lang="en">' in text
    for field in ("handle", "mobile"):
        assert f'<label for="{field}">' in text
        assert f'id="{field}" name="{field}"' in text
        assert f'aria-describedby="{field}-hint"' in text
    assert 'type="tel"' in text and 'inputmode="tel"' in text
    assert '<button type="submit"' in text
    assert "<h1>" in text and "<main" in text


async def test_app_mounts_under_a_prefix(make_app, port):
    """Mounted under another app, the form posts back to its own URL and links stay under the mount."""
    outer = Starlette(routes=[Mount("/web", app=make_app())])
    async with client_for(outer) as c:
        response = await submit_at(c, "/web/register")
    assert response.status_code == 200
    assert 'href="/web/register"' in response.text
    assert len(port.calls) == 1


async def submit_at(c, url):
    page = await c.get(url)
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    return await c.post(url, data={"csrf_token": token, "handle": "priya", "mobile": "9876543210"})


def test_empty_operator_handle_is_a_config_error(make_app):
    """The page cannot tell users whom to tweet without an operator handle."""
    with pytest.raises(WebConfigError):
        make_app(operator_handle="@")


@pytest.mark.parametrize("token", ["1790000000.abc-DEF_123", "", 'x"><script>'])
def test_cached_blank_form_equals_a_fresh_render(token):
    """The cached blank form with a token spliced in is byte-for-byte the template's own render."""
    renderer = PageRenderer(operator_handle="tatadocomo")
    fresh = PageRenderer(operator_handle="tatadocomo")._render_empty_form(token)
    renderer.empty_form("warm-the-cache")
    assert renderer.empty_form(token) == fresh


async def test_headers_set_by_a_response_are_not_duplicated():
    """A response that sets its own Cache-Control keeps it, and gets the other headers once."""
    from starlette.responses import PlainTextResponse

    from reference.web.headers import SecurityHeadersMiddleware

    async def inner(scope, receive, send):
        await PlainTextResponse("ok", headers={"Cache-Control": "max-age=60"})(scope, receive, send)

    app = SecurityHeadersMiddleware(inner, content_security_policy="default-src 'none'")
    async with client_for(app) as c:
        response = await c.get("/")
    assert response.headers.get_list("cache-control") == ["max-age=60"]
    assert response.headers.get_list("x-frame-options") == ["DENY"]
    assert response.headers["content-security-policy"] == "default-src 'none'"
