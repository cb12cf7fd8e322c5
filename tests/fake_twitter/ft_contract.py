"""openapi-core adapters for httpx, and a client hook validating traffic against spec 2.159."""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import parse_qs

import httpx
from ft_support import shared_dir
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict


@functools.cache
def spec_2159() -> OpenAPI:
    """The 2.159 spec, loaded once per session (it is 750 kB)."""
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_file_path(str(shared_dir() / "data" / "x-api" / "openapi-2.159.json"), config=config)


@functools.cache
def spec_2167() -> OpenAPI:
    """The 2.167 spec (xdk's names); its own text fails the spec validator (a duplicated enum), so
    that check is skipped."""
    config = Config(
        spec_validator_cls=None, extra_media_type_deserializers={"application/problem+json": json.loads}
    )
    return OpenAPI.from_file_path(str(shared_dir() / "data" / "x-api" / "openapi-2.167.json"), config=config)


class OpenAPIRequest:
    """An httpx request as openapi-core sees it (host pinned to the spec's server)."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        query = parse_qs(request.url.query.decode(), keep_blank_values=True)
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list((k, v) for k, vs in query.items() for v in vs)),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
        )

    host_url = "https://api.x.com"

    @property
    def path(self) -> str:
        return self._request.url.path

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        content = self._request.content
        return content or None

    @property
    def content_type(self) -> str:
        return self._request.headers.get("content-type", "application/json").split(";")[0]


class OpenAPIResponse:
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
        return self._response.headers.get("content-type", "").split(";")[0]

    @property
    def headers(self) -> Headers:
        return Headers(dict(self._response.headers))


class ContractRecorder:
    """An httpx response hook that validates each X API exchange and records what it saw."""

    def __init__(self, *, validate_requests: bool = True) -> None:
        self.validate_requests = validate_requests
        self.seen: list[tuple[str, str, int]] = []

    async def __call__(self, response: httpx.Response) -> None:
        request = response.request
        if request.url.path.startswith("/_fake/"):
            return
        await response.aread()
        api = spec_2159()
        openapi_request = OpenAPIRequest(request)
        if self.validate_requests:
            api.validate_request(openapi_request)
        api.validate_response(openapi_request, OpenAPIResponse(response))
        self.seen.append((request.method, request.url.path, response.status_code))


def describe(seen: list[tuple[str, str, int]]) -> Any:
    return sorted({(m, s) for m, _, s in seen})
