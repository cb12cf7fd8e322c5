"""ASGI app factory of the X API v2 fake: routing, auth, faults, rate limits, problem bodies.

``create_app(backend=None, *, webhook_client=None, ...)`` returns a raw ASGI callable with
``.backend`` (a :class:`~fake_twitter.backend.TwitterBackend`) and ``.dispatcher`` (webhook
deliveries) attributes. Use it in-process through ``httpx.ASGITransport(app=create_app())`` or serve
it with uvicorn (``twittcom fake-twitter``).

Per X route: count the request, apply fault rules (latency, injected error, outage 503),
authenticate (401; 403 unsupported-authentication for a token type the route refuses: app-only on
a user route, a user on an app-only route, an OAuth 2.0 user token on webhook management), count
it against rate limits (429 with ``x-rate-limit-*`` headers), then call the thin handler. Every
typed error becomes its RFC 7807 problem body (``application/problem+json``); a missing tweet or
user on a GET becomes a 200 with ``errors[]`` only, as X answers lookups.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import httpx

from fake_twitter import control, routes_dms, routes_search, routes_tweets, routes_users, routes_webhooks
from fake_twitter.auth import authenticate
from fake_twitter.backend import READ_ROUTES, TwitterBackend
from fake_twitter.delivery import DEFAULT_RETRY_DELAYS, WebhookDispatcher
from fake_twitter.exceptions import (
    PROBLEMS,
    InjectedFault,
    RateLimitExceeded,
    ResourceNotFound,
    RouteNotFound,
    ServiceUnavailable,
    TwitterApiError,
    UnsupportedAuthentication,
)
from fake_twitter.http import Reply, Request, Route, Router, dumps
from fake_twitter.models import APP_ONLY, OAUTH1_USER, OAUTH2_USER

__all__ = ["PROBLEM_HOSTS", "FakeTwitterApp", "create_app"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

JSON = b"application/json; charset=utf-8"
PROBLEM = b"application/problem+json"
API_VERSION = (b"api-version", b"2.159")

log = logging.getLogger(__name__)

#: Hosts of problem ``type`` URIs: the one X answers with today (the default; spec 2.167, required by
#: xdk 0.10.6's pydantic models; seen live, xdevplatform/twitter-api-java-sdk#85) and spec 2.159's.
PROBLEM_HOSTS = ("api.x.com", "api.twitter.com")


#: X's names of the types each route kind accepts (the check, and the 403's detail).
_SUPPORTED: dict[str, tuple[str, ...]] = {
    "user": (OAUTH1_USER, OAUTH2_USER),
    "app": (APP_ONLY,),
    "app_or_oauth1": (OAUTH1_USER, APP_ONLY),
}


def _rebase_problem_types(body: dict[str, Any], base: str) -> None:
    """Rewrite ``type`` URIs of a problem body and of its ``errors[]`` items to ``base``."""
    kind = body.get("type")
    if isinstance(kind, str) and kind.startswith(PROBLEMS):
        body["type"] = base + kind[len(PROBLEMS) :]
    errors = body.get("errors")
    if isinstance(errors, list):
        for item in errors:
            kind = item.get("type") if isinstance(item, dict) else None
            if isinstance(kind, str) and kind.startswith(PROBLEMS):
                item["type"] = base + kind[len(PROBLEMS) :]


class FakeTwitterApp:
    """The ASGI callable; state lives in ``self.backend``."""

    def __init__(
        self, backend: TwitterBackend, dispatcher: WebhookDispatcher, problem_host: str = PROBLEM_HOSTS[0]
    ) -> None:
        if problem_host not in PROBLEM_HOSTS:
            raise ValueError(f"problem_host must be one of {PROBLEM_HOSTS}")
        self.backend = backend
        self.dispatcher = dispatcher
        self.problem_base = f"https://{problem_host}/2/problems/"
        self.router = Router()
        routes_tweets.install(self.router, backend)
        routes_search.install(self.router, backend)
        routes_users.install(self.router, backend)
        routes_dms.install(self.router, backend)
        routes_webhooks.install(self.router, backend, dispatcher)
        control.install(self.router, backend, dispatcher)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.dispatcher.ensure_started()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.dispatcher.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.dispatcher.ensure_started()
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name == b"authorization" or name == b"content-type" or name == b"host":
                headers[name] = value
        qs = scope.get("query_string", b"")
        query = dict(parse_qsl(qs.decode("latin-1"), keep_blank_values=True)) if qs else {}
        request = Request(scope["method"], scope["path"], query, headers, body)
        request.raw_query = qs
        request.scheme = scope.get("scheme", "http")
        host = headers.get(b"host")
        request.host = host.decode("latin-1") if host is not None else None
        reply = await self.handle(request)
        body = reply.body
        if type(body) is dict and self.problem_base != PROBLEMS:
            _rebase_problem_types(body, self.problem_base)
        payload = body if type(body) is bytes else dumps(body)
        out_headers = [
            (b"content-type", reply.content_type),
            (b"content-length", b"%d" % len(payload)),
            API_VERSION,
        ]
        out_headers.extend(reply.headers)
        await send({"type": "http.response.start", "status": reply.status, "headers": out_headers})
        await send({"type": "http.response.body", "body": payload})

    async def handle(self, request: Request) -> Reply:
        matched = self.router.match(request.method, request.path)
        if not matched:
            return _problem(RouteNotFound(), [])
        route, request.path_params = matched
        if route.auth == "control":
            return await self._call(route, request, [])
        backend = self.backend
        backend.counters["requests"] += 1
        rate_headers: list[tuple[bytes, bytes]] = []
        try:
            if backend.faults.rules:
                decision = backend.faults.decide(route.key, backend.clock.time(), backend.rng)
                if decision.delay > 0:
                    await asyncio.sleep(decision.delay)
                if decision.status is not None:
                    backend.counters["faults_injected"] += 1
                    if decision.status == 503:
                        raise ServiceUnavailable()
                    raise InjectedFault(decision.status)
            principal = authenticate(backend, request.headers.get(b"authorization"), request)
            auth = route.auth
            if auth != "any":
                supported = _SUPPORTED[auth]
                if principal.auth_type not in supported:
                    raise UnsupportedAuthentication(principal.auth_type, supported)
            request.principal = principal
            rate_headers = backend.limiter.hit(route.key, principal.app_id, principal.user_id)
            if route.key in READ_ROUTES:
                backend.reads.append(
                    (backend.clock.time(), route.key, principal.user_id or 0, _max_results(request))
                )
        except RateLimitExceeded as error:
            backend.counters["rate_limited"] += 1
            return _problem(error, error.headers)
        except TwitterApiError as error:
            return _problem(error, rate_headers)
        return await self._call(route, request, rate_headers)

    async def _call(self, route: Route, request: Request, headers: list[tuple[bytes, bytes]]) -> Reply:
        try:
            result = route.handler(request)
            reply: Reply = await result if route.is_async else result  # type: ignore[misc, assignment]
        except ResourceNotFound as error:
            if request.method == "GET":
                reply = Reply(200, {"errors": [error.problem()]})
            else:
                body = error.problem()
                body["status"] = error.status
                reply = Reply(error.status, body, PROBLEM)
        except TwitterApiError as error:
            return _problem(error, headers)
        except Exception:  # a fake's bug still answers in X's format, and says so in the log
            log.exception("%s %s failed", request.method, request.path)
            return _problem(InjectedFault(500), headers)
        if headers:
            reply.headers.extend(headers)
        return reply


def _problem(error: TwitterApiError, headers: list[tuple[bytes, bytes]]) -> Reply:
    return Reply(error.http_status, error.problem(), PROBLEM, list(headers))


def create_app(
    backend: TwitterBackend | None = None,
    *,
    webhook_client: httpx.AsyncClient | None = None,
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    delivery_concurrency: int = 16,
    problem_host: str = PROBLEM_HOSTS[0],
) -> FakeTwitterApp:
    """The X API v2 fake as an ASGI app over ``backend`` (a fresh one with real limits by default).

    ``problem_host`` picks the host of problem ``type`` URIs: ``api.x.com`` (what X sends today, spec
    2.167, the default) or ``api.twitter.com`` (spec 2.159). X does not vary it per request."""
    backend = backend if backend is not None else TwitterBackend()
    dispatcher = WebhookDispatcher(
        backend, webhook_client, retry_delays=retry_delays, concurrency=delivery_concurrency
    )
    return FakeTwitterApp(backend, dispatcher, problem_host)


def _max_results(request: Request) -> int:
    """The page size a timeline read asked for (0 when absent or not a number)."""
    text = request.query.get("max_results", "")
    return int(text) if text.isdigit() else 0
