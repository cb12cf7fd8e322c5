"""Who is calling: the app-only bearer token, a user's OAuth 2.0 bearer token, or OAuth 1.0a.

The :class:`~fake_twitter.models.Principal` records which (``user_id`` None for app-only, ``oauth1``
for a signed request), so routes can accept the flavours X's spec lists for them.

OAuth 1.0a headers are matched by ``oauth_consumer_key`` (must be the app's) and ``oauth_token``
(a user's access token), and their HMAC-SHA1 signature is checked with the app's consumer secret
and the user's token secret (:mod:`fake_twitter.oauth1`), so a client with a wrong secret gets the
401 it would get from X.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from fake_twitter.backend import TwitterBackend
from fake_twitter.exceptions import Unauthorized
from fake_twitter.http import Request
from fake_twitter.models import Principal
from fake_twitter.oauth1 import signature_ok

__all__ = ["authenticate"]

_OAUTH_PARAM = re.compile(r'(oauth_[a-z_]+)="([^"]*)"')


def authenticate(backend: TwitterBackend, header: bytes | None, request: Request | None = None) -> Principal:
    """The caller of ``request`` (needed to check OAuth 1.0a signatures; without it they are not)."""
    if header is None:
        raise Unauthorized()
    app = backend.app
    if header[:7] == b"Bearer ":
        token = header[7:].decode("latin-1").strip()
        cached = backend.principals.get(token)
        if cached is not None:
            return cached
        if token == app.bearer_token:
            principal = Principal(app.app_id, None)
        else:
            user_id = backend.user_tokens.get(token)
            if user_id is None:
                raise Unauthorized()
            principal = Principal(app.app_id, user_id)
        backend.principals[token] = principal
        return principal
    if header[:6] == b"OAuth ":
        params = {k: unquote(v) for k, v in _OAUTH_PARAM.findall(header[6:].decode("latin-1"))}
        if params.get("oauth_consumer_key") != app.consumer_key:
            raise Unauthorized()
        user_id = backend.user_tokens.get(params.get("oauth_token", ""))
        if user_id is None:
            raise Unauthorized()
        if request is not None:
            content_type = request.headers.get(b"content-type", b"")
            form = content_type.startswith(b"application/x-www-form-urlencoded")
            if not signature_ok(
                method=request.method,
                scheme=request.scheme,
                host=request.host,
                path=request.path,
                raw_query=request.raw_query,
                form_body=request.body if form else None,
                oauth=params,
                consumer_secret=app.consumer_secret,
                token_secret=backend.users[user_id].access_token_secret,
            ):
                raise Unauthorized()
        return Principal(app.app_id, user_id, oauth1=True)
    raise Unauthorized()
