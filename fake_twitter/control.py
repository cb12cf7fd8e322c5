"""The control API under ``/_fake/`` (not part of X's API; no auth, no rate limits, no faults).

======  ==========================  ==========================================================
POST    /_fake/users                ``{"username", "name"?, "description"?}`` -> 201 the user with
                                    (or ``{"users": [{"username", ...}, ...]}``, at most 1,000, all or
                                    nothing -> 201 ``{"data": [user, ...]}``)
                                    ``bearer_token`` (OAuth 2.0 user context), ``access_token`` and
                                    ``access_token_secret`` (OAuth 1.0a; HMAC-SHA1 signatures checked)
GET     /_fake/users                every user, with tokens
GET     /_fake/app                  app credentials: ``app_id``, ``consumer_key``, ``consumer_secret``
                                    (signs CRCs and webhook bodies), app-only ``bearer_token``
POST    /_fake/reset                forget all state (users, tokens, tweets, DMs, webhooks, counters)
POST    /_fake/seed                 ``{"seed": int}``: reset with a seeded RNG (deterministic tokens
                                    and ids when the clock is manual)
GET     /_fake/tweets               newest tweets of everyone (``?limit=``, ``?username=``), all fields
GET     /_fake/timelines/{user_id}  ``?kind=tweets|mentions|dms`` ``&limit=`` any user's timeline
GET     /_fake/faults               the fault rules in force
POST    /_fake/faults               ``{"route": "POST /2/tweets" | "*" | "webhooks", "latency": {"kind":
                                    fixed|uniform|exponential|normal, "a": ms, "b": ms}?,
                                    "error_rate": 0..1, "error_status": 4xx/5xx, "outages":
                                    [{"start_in": s, "duration": s} | {"start": t, "end": t}]}``
                                    ("*" is every X route; "webhooks" is webhook deliveries)
DELETE  /_fake/faults               remove every rule
GET     /_fake/rate-limits          preset name and the table in force
POST    /_fake/rate-limits          ``{"preset": "real"|"off"}`` or ``{"limits": {route key: {"app":
                                    [[n, window_s]], "user": [[n, window_s]]}}}`` (overrides real)
GET     /_fake/clock                ``{"now": unix seconds, "iso": ...}`` of the fake's clock
POST    /_fake/clock/advance        ``{"seconds": s}`` moves the fake's clock forward
GET     /_fake/reads                timeline reads served (mentions, DM events, recent searches):
                                    ``{"data": [{"t", "route", "user_id", "max_results"}]}``;
                                    ``?since=`` (fake clock seconds), ``?route=`` (a route key)
GET     /_fake/counters             live counters: requests, tweets, DMs, 429s, faults, evictions,
                                    webhook_delivered/retries/failed/pending, sizes
POST    /_fake/webhooks/drain       ``?timeout=s``: wait until webhook_pending is 0; ``{"drained"}``
======  ==========================  ==========================================================
"""

from __future__ import annotations

import inspect
from typing import Any

from fake_twitter.backend import TwitterBackend, twitter_username_ok
from fake_twitter.delivery import WebhookDispatcher
from fake_twitter.exceptions import InvalidRequest
from fake_twitter.faults import FaultRule, Latency
from fake_twitter.http import Reply, Request, Router, json_body
from fake_twitter.models import User
from fake_twitter.params import parse_id
from fake_twitter.ratelimits import load_preset, preset_from_mapping
from fake_twitter.views import dm_v2, rfc3339, tweet_v2

__all__ = ["CLOCK_HORIZON", "MAX_BULK_USERS", "ROUTES", "ControlRoutes", "install"]

#: users one bulk ``POST /_fake/users`` may create
MAX_BULK_USERS = 1_000

#: Unix time the control API will not advance the clock past (2077-09-14)
CLOCK_HORIZON = 3_400_000_000.0

ALL_TWEET_FIELDS = frozenset(
    ("author_id", "created_at", "conversation_id", "in_reply_to_user_id", "referenced_tweets", "entities")
)
ALL_DM_FIELDS = frozenset(("sender_id", "dm_conversation_id", "created_at", "entities", "attachments"))


def _bad(message: str) -> InvalidRequest:
    return InvalidRequest([{"parameters": {}, "message": message}])


def _object(request: Request) -> dict[str, Any]:
    try:
        body = json_body(request) if request.body else {}
    except ValueError:
        raise _bad("body is not JSON") from None
    if not isinstance(body, dict):
        raise _bad("body must be a JSON object")
    return body


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.username,
        "name": user.name,
        "bearer_token": user.bearer_token,
        "access_token": user.access_token,
        "access_token_secret": user.access_token_secret,
    }


#: the control routes: path (X's notation), handler (a method of :class:`ControlRoutes`), methods
ROUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/_fake/users", "create_user", ("POST",)),
    ("/_fake/users", "list_users", ("GET",)),
    ("/_fake/app", "app_credentials", ("GET",)),
    ("/_fake/reset", "reset", ("POST",)),
    ("/_fake/seed", "seed", ("POST",)),
    ("/_fake/tweets", "tweets", ("GET",)),
    ("/_fake/timelines/:user_id", "timeline", ("GET",)),
    ("/_fake/faults", "get_faults", ("GET",)),
    ("/_fake/faults", "set_fault", ("POST",)),
    ("/_fake/faults", "clear_faults", ("DELETE",)),
    ("/_fake/rate-limits", "get_limits", ("GET",)),
    ("/_fake/rate-limits", "set_limits", ("POST",)),
    ("/_fake/clock", "clock", ("GET",)),
    ("/_fake/clock/advance", "advance", ("POST",)),
    ("/_fake/counters", "counters", ("GET",)),
    ("/_fake/reads", "reads", ("GET",)),
    ("/_fake/webhooks/drain", "drain", ("POST",)),
)


class ControlRoutes:
    """The handlers of :data:`ROUTES` over one backend and its webhook dispatcher."""

    def __init__(self, backend: TwitterBackend, dispatcher: WebhookDispatcher) -> None:
        self.backend = backend
        self.dispatcher = dispatcher

    def create_user(self, request: Request) -> Reply:
        body = _object(request)
        if "users" in body:
            return self._create_users(body["users"])
        username = body.get("username")
        if not isinstance(username, str):
            raise _bad("username (string) is required")
        user = self.backend.create_user(username, body.get("name"), str(body.get("description", "")))
        return Reply(201, user_json(user))

    def _create_users(self, entries: Any) -> Reply:
        """Bulk form: all or nothing (every name checked before the first is created)."""
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_BULK_USERS:
            raise _bad(f"users must be a list of 1 to {MAX_BULK_USERS} objects")
        names = [e.get("username") if isinstance(e, dict) else None for e in entries]
        if not all(isinstance(n, str) and twitter_username_ok(n) for n in names):
            raise _bad("every user needs a valid username (string)")
        keys = [str(n).lower() for n in names]
        if len(set(keys)) < len(keys) or any(k in self.backend.users_by_username for k in keys):
            raise _bad("usernames must be unique and not taken")
        created = [
            self.backend.create_user(str(e["username"]), e.get("name"), str(e.get("description", "")))
            for e in entries
        ]
        return Reply(201, {"data": [user_json(u) for u in created]})

    def list_users(self, request: Request) -> Reply:
        return Reply(200, {"data": [user_json(u) for u in self.backend.users.values()]})

    def app_credentials(self, request: Request) -> Reply:
        app = self.backend.app
        return Reply(
            200,
            {
                "app_id": str(app.app_id),
                "name": app.name,
                "consumer_key": app.consumer_key,
                "consumer_secret": app.consumer_secret,
                "bearer_token": app.bearer_token,
            },
        )

    def reset(self, request: Request) -> Reply:
        self.backend.reset()
        self.dispatcher.reset_stats()
        return Reply(200, {"reset": True})

    def seed(self, request: Request) -> Reply:
        value = _object(request).get("seed")
        if not isinstance(value, int):
            raise _bad("seed (integer) is required")
        self.backend.reseed(value)
        self.dispatcher.reset_stats()
        return Reply(200, {"seed": value})

    def _limit(self, request: Request, default: int) -> int:
        raw = request.query.get("limit", str(default))
        if not (raw.isascii() and raw.isdigit()):
            raise _bad("limit must be a positive integer")
        return int(raw)

    def tweets(self, request: Request) -> Reply:
        limit = self._limit(request, 100)
        author: int | None = None
        if "username" in request.query:
            author = self.backend.get_user_by_username(request.query["username"]).id
        out = []
        for tweet_id in reversed(self.backend.tweet_store.order):
            tweet = self.backend.tweets.get(tweet_id)
            if tweet is None or (author is not None and tweet.author_id != author):
                continue
            out.append(tweet_v2(tweet, ALL_TWEET_FIELDS))
            if len(out) >= limit:
                break
        return Reply(200, {"data": out})

    def timeline(self, request: Request) -> Reply:
        user_id = parse_id("user_id", request.path_params["user_id"], kind="path")
        limit = self._limit(request, 100)
        kind = request.query.get("kind", "tweets")
        if kind == "dms":
            page = self.backend.get_dm_events(
                user_id, before=2**63, limit=limit, event_types=frozenset({"MessageCreate"})
            )
            return Reply(200, {"data": [dm_v2(self.backend.dm_events[i], ALL_DM_FIELDS) for i in page.ids]})
        if kind not in ("tweets", "mentions"):
            raise _bad("kind must be tweets, mentions or dms")
        getter = self.backend.get_mentions if kind == "mentions" else self.backend.get_user_tweets
        page = getter(user_id, after=0, before=2**63, limit=limit)
        return Reply(200, {"data": [tweet_v2(self.backend.tweets[i], ALL_TWEET_FIELDS) for i in page.ids]})

    def get_faults(self, request: Request) -> Reply:
        return Reply(200, {route: rule.to_json() for route, rule in self.backend.faults.rules.items()})

    def set_fault(self, request: Request) -> Reply:
        body = _object(request)
        route = body.get("route", "*")
        now = self.backend.clock.time()
        try:
            latency = body.get("latency")
            outages = []
            for window in body.get("outages", []):
                if "start_in" in window:
                    start = now + float(window["start_in"])
                    outages.append((start, start + float(window["duration"])))
                else:
                    outages.append((float(window["start"]), float(window["end"])))
            rule = FaultRule(
                latency=None
                if latency is None
                else Latency(str(latency["kind"]), float(latency["a"]), float(latency.get("b", 0))),
                error_rate=float(body.get("error_rate", 0.0)),
                error_status=int(body.get("error_status", 503)),
                outages=outages,
            )
            self.backend.faults.set_rule(str(route), rule)
        except (KeyError, TypeError, ValueError) as error:
            raise _bad(f"invalid fault rule: {error}") from None
        return Reply(200, {str(route): rule.to_json()})

    def clear_faults(self, request: Request) -> Reply:
        self.backend.faults.clear()
        return Reply(200, {"cleared": True})

    def get_limits(self, request: Request) -> Reply:
        limiter = self.backend.limiter
        table = {
            route: {
                "app": [[x.limit, x.window] for x in spec.app],
                "user": [[x.limit, x.window] for x in spec.user],
            }
            for route, spec in limiter.table.items()
        }
        return Reply(200, {"preset": limiter.preset, "limits": table})

    def set_limits(self, request: Request) -> Reply:
        body = _object(request)
        try:
            if "limits" in body:
                table, default = preset_from_mapping(body["limits"])
                name = "custom"
            else:
                name = str(body.get("preset", "real"))
                table, default = load_preset(name)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
            raise _bad(f"invalid rate-limit preset: {error}") from None
        self.backend.limiter.configure(table, default, name)
        return self.get_limits(request)

    def clock(self, request: Request) -> Reply:
        now = self.backend.clock.time()
        return Reply(200, {"now": now, "iso": rfc3339(now)})

    def advance(self, request: Request) -> Reply:
        seconds = _object(request).get("seconds")
        if not isinstance(seconds, int | float) or seconds < 0:
            raise _bad("seconds (number >= 0) is required")
        if self.backend.clock.time() + seconds > CLOCK_HORIZON:
            # 19-digit snowflake ids (41 bits of milliseconds since 2010-11-04) end in 2080
            raise _bad(
                f"the fake's clock cannot pass {CLOCK_HORIZON:.0f} (2077-09; snowflake ids end in 2080)"
            )
        self.backend.clock.advance(float(seconds))
        return self.clock(request)

    def counters(self, request: Request) -> Reply:
        sizes = {
            "users": len(self.backend.users),
            "tweets_stored": len(self.backend.tweets),
            "dms_stored": len(self.backend.dm_events),
            "webhooks": len(self.backend.webhooks.webhooks),
            "subscriptions": len(self.backend.webhooks.subscribed_users),
        }
        return Reply(200, {**self.backend.counters, **self.dispatcher.counters(), **sizes})

    def reads(self, request: Request) -> Reply:
        try:
            since = float(request.query.get("since", "0"))
        except ValueError:
            raise _bad("since must be a number (the fake's clock, Unix seconds)") from None
        route = request.query.get("route")
        data = [
            {"t": t, "route": key, "user_id": str(user), "max_results": size}
            for t, key, user, size in self.backend.reads
            if t >= since and (route is None or key == route)
        ]
        return Reply(200, {"data": data})

    async def drain(self, request: Request) -> Reply:
        try:
            timeout = float(request.query.get("timeout", "10"))
        except ValueError:
            raise _bad("timeout must be a number") from None
        drained = await self.dispatcher.drain(timeout)
        return Reply(200, {"drained": drained, **self.dispatcher.counters()})


def install(router: Router, backend: TwitterBackend, dispatcher: WebhookDispatcher) -> None:
    """Add :data:`ROUTES` (auth "control") over ``backend`` and ``dispatcher`` to ``router``."""
    handlers = ControlRoutes(backend, dispatcher)
    for path, name, methods in ROUTES:
        handler = getattr(handlers, name)
        for method in methods:
            router.add(method, path, handler, "control", is_async=inspect.iscoroutinefunction(handler))
