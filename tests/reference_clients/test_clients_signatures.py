"""Webhook CRC and signatures: X's HMAC-SHA256 scheme and Twilio's, checked against twilio-python."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest
from multidict import MultiDict
from twilio.request_validator import RequestValidator

from reference.clients import (
    twilio_signature,
    verify_twilio_signature,
    verify_x_signature,
    x_crc_response,
    x_crc_response_token,
    x_signature,
)
from reference.clients.signatures import twilio_body_hash

SECRET = "consumer-secret-Zq8"
TOKEN = "auth-token-12345"
STATUS_PARAMS = {
    "MessageSid": "SM" + "b" * 32,
    "MessageStatus": "delivered",
    "To": "+919812345678",
    "From": "+15005550006",
    "AccountSid": "AC" + "0" * 32,
    "Body": "Your code is 123 456 & more",
    "ErrorCode": "",
}


def documented_twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    """Twilio's documented algorithm, written out independently: URL + sorted name/value pairs."""
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def test_crc_token_is_sha256_hmac_of_crc_token() -> None:
    """The CRC response_token is sha256= + base64(HMAC-SHA256(consumer_secret, crc_token))."""
    digest = hmac.new(SECRET.encode(), b"challenge-123", hashlib.sha256).digest()
    expected = "sha256=" + base64.b64encode(digest).decode()
    assert x_crc_response_token("challenge-123", SECRET) == expected
    assert x_crc_response("challenge-123", SECRET) == {"response_token": expected}


def test_x_signature_verifies_raw_body() -> None:
    """A body signed with the consumer secret verifies; any change to body, secret or header fails."""
    body = b'{"for_user_id":"99","tweet_create_events":[{"id_str":"1","text":"#reg 9812345678"}]}'
    header = x_signature(body, SECRET)
    assert (
        header
        == "sha256=" + base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    )
    assert verify_x_signature(body, header, SECRET)
    assert not verify_x_signature(body + b" ", header, SECRET)
    assert not verify_x_signature(body, header, "other-secret")
    assert not verify_x_signature(body, header.replace("sha256=", "sha1="), SECRET)


@pytest.mark.parametrize("header", [None, "", "garbage", "sha256=\u00e9\u00e9"])
def test_x_signature_rejects_missing_or_malformed_header(header: str | None) -> None:
    """A missing, empty, malformed or non-ASCII header is a failed check, never an exception."""
    assert not verify_x_signature(b"{}", header, SECRET)


@pytest.mark.parametrize(
    "url",
    [
        "https://op.example/sms/status",
        "https://op.example:8443/sms/status?circle=MH",
        "http://127.0.0.1:8002/sms/status",
        "https://op.example/sms/status?a=1&b=two%20words",
    ],
)
def test_twilio_signature_matches_request_validator_and_docs(url: str) -> None:
    """Our X-Twilio-Signature equals twilio-python's and the documented algorithm's."""
    ours = twilio_signature(url, STATUS_PARAMS, TOKEN)
    assert ours == RequestValidator(TOKEN).compute_signature(url, STATUS_PARAMS)
    assert ours == documented_twilio_signature(url, STATUS_PARAMS, TOKEN)


def test_twilio_signature_with_repeated_params_matches_request_validator() -> None:
    """Repeated form fields are signed once per distinct value, sorted, as RequestValidator does."""
    form = MultiDict(
        [
            ("MediaUrl", "https://m/2"),
            ("Body", "hi"),
            ("MediaUrl", "https://m/1"),
            ("MediaUrl", "https://m/1"),
        ]
    )
    url = "https://op.example/sms/in"
    expected = RequestValidator(TOKEN).compute_signature(url, form)
    assert twilio_signature(url, form, TOKEN) == expected
    assert (
        twilio_signature(url, {"MediaUrl": ["https://m/1", "https://m/2"], "Body": "hi"}, TOKEN) == expected
    )


def test_twilio_sha256_algorithm_matches_request_validator() -> None:
    """The HMAC_SHA256 variant (shared-key webhooks) matches twilio-python too."""
    url = "https://op.example/sms/status"
    expected = RequestValidator(TOKEN).compute_signature(url, STATUS_PARAMS, "HMAC_SHA256")
    assert twilio_signature(url, STATUS_PARAMS, TOKEN, "HMAC_SHA256") == expected


@pytest.mark.parametrize(
    ("signed_url", "seen_url"),
    [
        ("https://op.example/sms/status", "https://op.example:443/sms/status"),
        ("https://op.example:443/sms/status", "https://op.example/sms/status"),
        ("http://op.example/sms/status", "http://op.example:80/sms/status"),
        ("http://127.0.0.1:8002/sms/status", "http://127.0.0.1:8002/sms/status"),
    ],
)
def test_twilio_verification_accepts_url_with_or_without_port(signed_url: str, seen_url: str) -> None:
    """Whether or not Twilio signed the port, the request verifies exactly when RequestValidator says so."""
    signature = documented_twilio_signature(signed_url, STATUS_PARAMS, TOKEN)
    assert verify_twilio_signature(seen_url, STATUS_PARAMS, signature, TOKEN)
    assert RequestValidator(TOKEN).validate(seen_url, STATUS_PARAMS, signature)


def test_twilio_verification_rejects_tampering() -> None:
    """Changed params, URL, token or a missing header all fail, matching RequestValidator."""
    url = "https://op.example/sms/status"
    signature = twilio_signature(url, STATUS_PARAMS, TOKEN)
    tampered = {**STATUS_PARAMS, "MessageStatus": "failed"}
    cases = [
        (url, tampered, signature, TOKEN),
        ("https://op.example/sms/other", STATUS_PARAMS, signature, TOKEN),
        (url, STATUS_PARAMS, signature, "wrong-token"),
    ]
    for case_url, params, sig, token in cases:
        assert not verify_twilio_signature(case_url, params, sig, token)
        assert not RequestValidator(token).validate(case_url, params, sig)
    assert not verify_twilio_signature(url, STATUS_PARAMS, None, TOKEN)
    assert not verify_twilio_signature(url, STATUS_PARAMS, signature, TOKEN, "HMAC_MD5")  # type: ignore[arg-type]


def test_twilio_signed_form_values_are_unencoded() -> None:
    """The signature covers decoded values (+1415..., not %2B1415...), so url-encoding them breaks it."""
    url = "https://op.example/sms/status"
    signature = twilio_signature(url, STATUS_PARAMS, TOKEN)
    encoded = {k: urlencode({"v": v})[2:] for k, v in STATUS_PARAMS.items()}
    assert not verify_twilio_signature(url, encoded, signature, TOKEN)


def test_twilio_json_body_with_body_sha256() -> None:
    """For a JSON body the URL's bodySHA256 must match the body, as RequestValidator checks."""
    body = '{"MessageSid":"SM1","MessageStatus":"delivered"}'
    url = f"https://op.example/sms/status?bodySHA256={twilio_body_hash(body)}"
    signature = twilio_signature(url, None, TOKEN)
    assert verify_twilio_signature(url, body, signature, TOKEN)
    assert RequestValidator(TOKEN).validate(url, body, signature)
    assert not verify_twilio_signature(url, body + " ", signature, TOKEN)
    assert not RequestValidator(TOKEN).validate(url, body + " ", signature)
    assert verify_twilio_signature(url, body.encode(), signature, TOKEN)
    assert not verify_twilio_signature("https://op.example/sms/status", body, signature, TOKEN)
