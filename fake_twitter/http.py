"""The thin raw-ASGI layer: request and reply records, a route table, and response writing.

Raw ASGI instead of a framework keeps the per-request path short (the fake must serve thousands of
``POST /2/tweets`` a second on one worker): one dict lookup for static routes, a few precompiled
regexes for routes with path parameters, orjson for bodies (JSON is a large share of a small request).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from fake_twitter.models import Principal

__all__ = [
    "Handler",
    "Reply",
    "Request",
    "Route",
    "Router",
    "dumps",
    "json_body",
    "reply",
]

#: Who a route serves: "user" any user context (OAuth 1.0a or an OAuth 2.0 user token); "app" the
#: app-only bearer token only; "app_or_oauth1" the app-only token or OAuth 1.0a user context, not an
#: OAuth 2.0 user token (X's webhook management); "any" every caller; "control" the /_fake/ API.
Auth = Literal["user", "app", "app_or_oauth1", "any", "control"]


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[bytes, bytes]
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    scheme: str = "http"
    host: str | None = None
    raw_query: bytes = b""

    @property
    def user_id(self) -> int:
        """The calling user's id (only on routes that require user context)."""
        assert self.principal is not None and self.principal.user_id is not None
        return self.principal.user_id


@dataclass(slots=True)
class Reply:
    """Status, body (JSON-able, or already-encoded JSON bytes), content type, extra headers."""

    status: int
    body: Any
    content_type: bytes = b"application/json; charset=utf-8"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def reply(body: Any, status: int = 200) -> Reply:
    return Reply(status, body)


Handler = Callable[[Request], "Reply | Awaitable[Reply]"]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str  # X's notation, e.g. "/2/users/:id/mentions"; also the rate-limit/fault key
    handler: Handler
    auth: Auth
    is_async: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


_PARAM = re.compile(r":([a-z_]+)")


class Router:
    """Static routes by (method, path); parametric ones by precompiled regex."""

    def __init__(self) -> None:
        self.static: dict[tuple[str, str], Route] = {}
        self.dynamic: list[tuple[re.Pattern[str], Route]] = []
        self.paths: set[str] = set()

    def add(
        self, method: str, template: str, handler: Handler, auth: Auth, *, is_async: bool = False
    ) -> None:
        route = Route(method, template, handler, auth, is_async)
        if ":" in template:
            regex = re.compile("^" + _PARAM.sub(r"(?P<\1>[^/]+)", template) + "$")
            self.dynamic.append((regex, route))
            self.paths.add(regex.pattern)
        else:
            self.static[(method, template)] = route
            self.paths.add(template)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None | Literal[False]:
        """The route and its path params; None when no such path; False when the method is wrong."""
        route = self.static.get((method, path))
        if route is not None:
            return route, {}
        path_exists = path in self.paths
        for regex, candidate in self.dynamic:
            found = regex.match(path)
            if found is not None:
                if candidate.method == method:
                    return candidate, found.groupdict()
                path_exists = True
        return False if path_exists else None


dumps = orjson.dumps


def json_body(request: Request) -> Any:
    """The parsed JSON body; ValueError when it is not JSON."""
    if not request.body:
        raise ValueError("empty body")
    return orjson.loads(request.body)
