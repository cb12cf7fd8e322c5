"""OAuth 1.0a request signatures (RFC 5849 §3.4, HMAC-SHA1), as X checks them on user-context calls.

The signature base string is ``METHOD&enc(base URI)&enc(sorted, encoded parameters)``; parameters
are the query string, the ``oauth_*`` header values (without ``oauth_signature`` and ``realm``) and a
form-encoded body (a JSON body is not signed). The key is ``enc(consumer_secret)&enc(token_secret)``.

A fake is reached under another host than the one the client signed for (tweepy signs
``https://api.twitter.com/...`` before a transport adapter redirects it), so :func:`signature_ok`
accepts a signature made for the address the request arrived at, ``https://api.twitter.com`` or
``https://api.x.com``, with the same path.
"""

from __future__ import annotations

import base64
import hmac
from hashlib import sha1
from urllib.parse import parse_qsl, quote

__all__ = ["SIGNED_HOSTS", "sign", "signature_ok"]

SIGNED_HOSTS = ("https://api.twitter.com", "https://api.x.com")


def _enc(value: str) -> str:
    return quote(value, safe="~")


def sign(
    method: str,
    base_uri: str,
    params: list[tuple[str, str]],
    consumer_secret: str,
    token_secret: str,
) -> str:
    """The base64 HMAC-SHA1 signature of a request (``params`` exclude ``oauth_signature``)."""
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
    base = "&".join((method.upper(), _enc(base_uri), _enc(normalized)))
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), sha1).digest()).decode()


def signature_ok(
    *,
    method: str,
    scheme: str,
    host: str | None,
    path: str,
    raw_query: bytes,
    form_body: bytes | None,
    oauth: dict[str, str],
    consumer_secret: str,
    token_secret: str,
) -> bool:
    """True if ``oauth["oauth_signature"]`` signs this request for one of the accepted addresses."""
    given = oauth.get("oauth_signature")
    if not given or oauth.get("oauth_signature_method", "HMAC-SHA1") != "HMAC-SHA1":
        return False
    params = [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
    params += parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)
    if form_body:
        params += parse_qsl(form_body.decode("utf-8", "replace"), keep_blank_values=True)
    bases = [*SIGNED_HOSTS]
    if host:
        default_port = ":443" if scheme == "https" else ":80"
        bases.append(f"{scheme}://{host.lower().removesuffix(default_port)}")
    for base in bases:
        expected = sign(method, base + path, params, consumer_secret, token_secret)
        if hmac.compare_digest(expected, given):
            return True
    return False
