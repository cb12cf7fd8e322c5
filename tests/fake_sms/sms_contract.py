"""openapi-core adapters for httpx and Twilio's own OpenAPI (api v2010), for the SMS fake's contract
tests: each exchange with a Messages route is validated, request and response, against the spec."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = ["ContractRecorder", "shared_dir", "twilio_spec"]


def shared_dir() -> Path:
    """The read-only ``shared`` folder beside the repository root (or beside the worktrees' folder)."""
    root = Path(__file__).resolve().parents[2]
    for ancestor in (root, *root.parents):
        candidate = ancestor.parent / "shared"
        if (candidate / "data").is_dir():
            return candidate
    return root.parent / "shared"


@functools.cache
def twilio_spec() -> OpenAPI:
    """twilio_api_v2010.json (1.8 MB), loaded once; the spec's own validation is skipped for time."""
    path = shared_dir() / "data" / "twilio-oai" / "twilio_api_v2010.json"
    # parsed as JSON: openapi-core's file reader uses YAML, which chokes on this file's escapes
    return OpenAPI.from_dict(json.loads(path.read_text()), config=Config(spec_validator_cls=None))


class _Request:
    """An httpx request as openapi-core sees it (host pinned to the spec's server)."""

    host_url = "https://api.twilio.com"

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )

    @property
    def path(self) -> str:
        return self._request.url.path

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._request.content or None

    @property
    def content_type(self) -> str:
        return self._request.headers.get("content-type", "application/x-www-form-urlencoded").split(";")[0]


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def data(self) -> bytes:
        return self._response.content

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def content_type(self) -> str:
        return self._response.headers.get("content-type", "application/json").split(";")[0]

    @property
    def headers(self) -> Headers:
        return Headers(dict(self._response.headers))


class ContractRecorder:
    """An httpx response hook: every Twilio API request is validated against the spec, and every
    success response too; an error response must be Twilio's error body (the spec declares only the
    success status of each operation)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int]] = []

    async def __call__(self, response: httpx.Response) -> None:
        request = response.request
        if request.url.path.startswith("/_fake/"):
            return
        await response.aread()
        api = twilio_spec()
        openapi_request = _Request(request)
        api.validate_request(openapi_request)
        if response.is_success:
            api.validate_response(openapi_request, _Response(response))
        else:
            body = response.json()
            assert set(body) == {"code", "message", "more_info", "status"}, body
            assert body["status"] == response.status_code and isinstance(body["code"], int), body
        self.seen.append((request.method, request.url.path, response.status_code))
