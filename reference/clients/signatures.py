"""Inbound request authentication: X webhook CRC and signatures, Twilio ``X-Twilio-Signature``.

- X Account Activity: the CRC reply is ``{"response_token": "sha256=" + base64(HMAC-SHA256(
  consumer_secret, crc_token))}``; every event POST carries ``x-twitter-webhooks-signature`` =
  ``"sha256=" + base64(HMAC-SHA256(consumer_secret, raw_body))``.
- Twilio: ``base64(HMAC-SHA1(auth_token, url + "".join(name + value for sorted params)))``
  computed as twilio-python's ``RequestValidator`` does: each name once in sorted order, each
  of its distinct values in sorted order, un-encoded; the URL is tried with and without its
  port; a ``bodySHA256`` query parameter authenticates a raw (JSON) body instead of form params.

Comparisons are constant time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qs, urlparse

__all__ = [
    "TWILIO_SIGNATURE_HEADER",
    "X_SIGNATURE_HEADER",
    "TwilioParams",
    "twilio_body_hash",
    "twilio_signature",
    "verify_twilio_signature",
    "verify_x_signature",
    "x_crc_response",
    "x_crc_response_token",
    "x_signature",
]

X_SIGNATURE_HEADER = "x-twitter-webhooks-signature"
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"

TwilioAlgorithm = Literal["HMAC_SHA1", "HMAC_SHA256"]
# Form params: name -> value, or name -> several values (repeated form fields); a multidict with
# ``getlist``/``getall`` (Starlette's FormData, aiohttp's MultiDict) is read for all its values.
TwilioParams = Mapping[str, Any]
_HASHES = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}


def _b64_hmac_sha256(key: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()).decode("ascii")


def x_crc_response_token(crc_token: str, consumer_secret: str) -> str:
    """The ``response_token`` answering X's CRC challenge for ``crc_token``."""
    return "sha256=" + _b64_hmac_sha256(consumer_secret, crc_token.encode("utf-8"))


def x_crc_response(crc_token: str, consumer_secret: str) -> dict[str, str]:
    """The JSON body answering ``GET <webhook>?crc_token=...``."""
    return {"response_token": x_crc_response_token(crc_token, consumer_secret)}


def x_signature(body: bytes, consumer_secret: str) -> str:
    """The ``x-twitter-webhooks-signature`` X puts on a webhook POST with this raw body."""
    return "sha256=" + _b64_hmac_sha256(consumer_secret, body)


def verify_x_signature(body: bytes, signature: str | None, consumer_secret: str) -> bool:
    """Whether ``signature`` (the header value, possibly missing) signs ``body``."""
    if not signature:
        return False
    expected = x_signature(body, consumer_secret)
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8", "replace"))


def _values(params: TwilioParams, name: str) -> Iterable[str]:
    for accessor in ("getlist", "getall"):
        method = getattr(params, accessor, None)
        if callable(method):
            return [str(v) for v in method(name)]
    value = params[name]
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return (str(value),)


def twilio_signature(
    url: str, params: TwilioParams | None, auth_token: str, algorithm: TwilioAlgorithm = "HMAC_SHA1"
) -> str:
    """``X-Twilio-Signature`` for a request to exactly ``url`` carrying these form ``params``."""
    hash_function = _HASHES.get(algorithm.upper())
    if hash_function is None:
        raise ValueError(f"unsupported Twilio signature algorithm: {algorithm!r}")
    parts = [url]
    if params:
        for name in sorted(set(params)):
            for value in sorted(set(_values(params, name))):
                parts.append(name + value)
    mac = hmac.new(auth_token.encode("utf-8"), "".join(parts).encode("utf-8"), hash_function)
    return base64.b64encode(mac.digest()).decode("ascii")


def twilio_body_hash(body: str | bytes) -> str:
    """The hex SHA-256 Twilio puts in ``bodySHA256`` when it signs a JSON body."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return hashlib.sha256(raw).hexdigest()


def _url_variants(url: str) -> tuple[str, str]:
    """``url`` without and with its port (443/80 by scheme when absent), as twilio-python."""
    parts = urlparse(url)
    if parts.port:
        return parts._replace(netloc=parts.netloc.split(":")[0]).geturl(), parts.geturl()
    port = 443 if parts.scheme == "https" else 80
    return parts.geturl(), parts._replace(netloc=f"{parts.netloc}:{port}").geturl()


def verify_twilio_signature(
    url: str,
    params: TwilioParams | str | bytes | None,
    signature: str | None,
    auth_token: str,
    algorithm: TwilioAlgorithm = "HMAC_SHA1",
) -> bool:
    """Whether ``signature`` authenticates a Twilio request to ``url``.

    ``params`` are the form fields, or the raw body (str/bytes) of a JSON request whose URL
    carries ``bodySHA256``. ``url`` is the full URL Twilio requested, query string included.
    """
    if not signature or algorithm.upper() not in _HASHES:
        return False
    form: TwilioParams | None
    body_ok = True
    if isinstance(params, (str, bytes)):
        query = parse_qs(urlparse(url).query)
        if "bodySHA256" not in query:
            return False
        body_ok = hmac.compare_digest(twilio_body_hash(params), query["bodySHA256"][0])
        form = None
    else:
        form = params
    given = signature.strip().encode("utf-8", "replace")
    matches = [
        hmac.compare_digest(twilio_signature(variant, form, auth_token, algorithm).encode("ascii"), given)
        for variant in _url_variants(url)
    ]
    return body_ok and any(matches)
