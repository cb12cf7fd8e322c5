"""``XApiClient``: the processor's async client for the X API v2 (tweets, DMs, mentions, webhooks).

It speaks over an injected :class:`httpx.AsyncClient` (see :mod:`reference.clients.transport`)
with a user-context bearer token, parses ``x-rate-limit-*`` on every response into a
:class:`RateLimitState` per endpoint, and turns error responses into the typed exceptions of
:mod:`reference.clients.errors`, each carrying the RFC 7807 problem body. It never retries by
itself; callers wrap calls in :class:`reference.clients.retry.Retrier`.

Usage::

    async with make_async_client("https://api.x.com") as http:
        x = XApiClient(http, user_token="...")
        page = await x.get_mentions(me.id, since_id=last_seen)
        await x.create_tweet("Code sent", in_reply_to_tweet_id=page.tweets[0].id)
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
import orjson

from reference.clients._http import BodySender, json_object
from reference.clients.errors import XApiError, XNotFound
from reference.clients.x_models import (
    CreatedTweet,
    DmEventsPage,
    MentionsPage,
    RateLimitState,
    SentDm,
    User,
    Webhook,
)
from reference.clients.x_problems import x_error_from_response

__all__ = [
    "DM_EVENT_FIELDS",
    "TWEET_FIELDS",
    "XApiClient",
    "x_error_from_response",
]

TWEET_FIELDS = "created_at,author_id,conversation_id,in_reply_to_user_id"
DM_EVENT_FIELDS = "id,event_type,text,sender_id,dm_conversation_id,created_at"
_URL_CACHE_SIZE = 1024


class XApiClient:
    """Async X API v2 client over an injected :class:`httpx.AsyncClient`.

    Arguments:
        http: the client to send through; its ``base_url`` is X's origin (``https://api.x.com``
            or a fake's loopback URL). The caller owns and closes it.
        user_token: the OAuth 2.0 user-context bearer token of the operator's account.
        app_token: optional app-only bearer token, used for webhook management when given.
    """

    def __init__(self, http: httpx.AsyncClient, *, user_token: str, app_token: str | None = None) -> None:
        self._http = http
        self._user_headers = httpx.Headers({"Authorization": f"Bearer {user_token}"})
        self._app_headers = httpx.Headers({"Authorization": f"Bearer {app_token}"}) if app_token else None
        self._user_json = BodySender(http, self._user_headers, "application/json")
        self._app_json = (
            BodySender(http, self._app_headers, "application/json") if self._app_headers else None
        )
        self._urls: dict[str, httpx.URL | str] = {}
        self.rate_limits: dict[str, RateLimitState] = {}
        self.last_rate_limit: RateLimitState | None = None

    def set_user_token(self, user_token: str) -> None:
        """Use a refreshed user-context token from now on."""
        self._user_headers = httpx.Headers({"Authorization": f"Bearer {user_token}"})
        self._user_json = BodySender(self._http, self._user_headers, "application/json")

    def rate_limit(self, endpoint: str) -> RateLimitState | None:
        """The last rate-limit state seen for ``endpoint``, e.g. ``"POST /2/tweets"``."""
        return self.rate_limits.get(endpoint)

    # -- writes ---------------------------------------------------------------------------

    async def create_tweet(self, text: str, in_reply_to_tweet_id: str | None = None) -> CreatedTweet:
        """POST /2/tweets; a reply when ``in_reply_to_tweet_id`` is given."""
        payload: dict[str, Any] = {"text": text}
        if in_reply_to_tweet_id is not None:
            payload["reply"] = {"in_reply_to_tweet_id": str(in_reply_to_tweet_id)}
        body = await self._call("POST", "/2/tweets", "POST /2/tweets", json=payload)
        data = body.get("data") or {}
        return CreatedTweet(id=str(data["id"]), text=str(data.get("text", text)))

    async def send_dm(self, participant_id: str, text: str) -> SentDm:
        """POST /2/dm_conversations/with/:participant_id/messages."""
        body = await self._call(
            "POST",
            f"/2/dm_conversations/with/{participant_id}/messages",
            "POST /2/dm_conversations/with/:participant_id/messages",
            json={"text": text},
        )
        data = body.get("data") or {}
        return SentDm(
            dm_conversation_id=str(data["dm_conversation_id"]), dm_event_id=str(data["dm_event_id"])
        )

    # -- reads ----------------------------------------------------------------------------

    async def find_own_tweets(
        self, user_id: str, text: str, in_reply_to_tweet_id: str | None, *, max_pages: int = 32
    ) -> list[str]:
        """Ids of ``user_id``'s own recent tweets with exactly ``text`` that reply to
        ``in_reply_to_tweet_id`` (or reply to nothing when it is None), newest first: GET
        /2/users/:id/tweets with ``tweet.fields=referenced_tweets``, up to ``max_pages`` of 100
        (X serves this timeline's 3,200 newest tweets). A reply is newer than the tweet it
        answers, so the read starts there (``since_id``): an account replying at hundreds a
        second would otherwise bury the reply below the pages read and send it twice."""
        found: list[str] = []
        token: str | None = None
        wanted = html.unescape(text)
        newer_than = in_reply_to_tweet_id if (in_reply_to_tweet_id or "").isdigit() else None
        for _ in range(max_pages):
            params = {"max_results": "100", "tweet.fields": "referenced_tweets"}
            if newer_than is not None:
                params["since_id"] = newer_than
            if token is not None:
                params["pagination_token"] = token
            path = f"/2/users/{user_id}/tweets"
            body = await self._call("GET", path, "GET /2/users/:id/tweets", params=params)
            for tweet in body.get("data") or ():
                if not isinstance(tweet, dict) or "id" not in tweet:
                    continue
                refs = tweet.get("referenced_tweets") or ()
                parent = next((str(r.get("id")) for r in refs if isinstance(r, dict)
                               and r.get("type") == "replied_to"), None)  # fmt: skip
                if parent == in_reply_to_tweet_id and html.unescape(str(tweet.get("text", ""))) == wanted:
                    found.append(str(tweet["id"]))
            next_token = (body.get("meta") or {}).get("next_token")
            token = str(next_token) if next_token else None
            if token is None:
                break
        return found

    async def find_own_dms(
        self, user_id: str, participant_id: str, text: str, *, max_pages: int = 10
    ) -> list[str]:
        """Ids of the DM events ``user_id`` sent to ``participant_id`` with exactly ``text``, newest
        first: that one conversation's events (GET /2/dm_conversations/with/:participant_id/
        dm_events, up to ``max_pages`` of 100), so DMs to other customers never push it out of
        reach."""
        found: list[str] = []
        token: str | None = None
        path = f"/2/dm_conversations/with/{participant_id}/dm_events"
        route = "GET /2/dm_conversations/with/:participant_id/dm_events"
        for _ in range(max_pages):
            params = {"max_results": "100", "dm_event.fields": DM_EVENT_FIELDS,
                      "event_types": "MessageCreate"}  # fmt: skip
            if token is not None:
                params["pagination_token"] = token
            page = DmEventsPage.from_json(await self._call("GET", path, route, params=params))
            for event in page.events:
                members = (event.dm_conversation_id or "").split("-")
                if event.sender_id == user_id and participant_id in members and event.text == text:
                    found.append(event.id)
            token = page.next_token
            if token is None:
                break
        return found

    async def get_mentions(
        self,
        user_id: str,
        since_id: str | None = None,
        pagination_token: str | None = None,
        max_results: int = 100,
    ) -> MentionsPage:
        """GET /2/users/:id/mentions, with authors' usernames (expansions=author_id)."""
        if not 5 <= max_results <= 100:
            raise ValueError(f"max_results must be within 5..100, got {max_results}")
        params: dict[str, str] = {
            "max_results": str(max_results),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "username",
        }
        if since_id is not None:
            params["since_id"] = since_id
        if pagination_token is not None:
            params["pagination_token"] = pagination_token
        path = f"/2/users/{user_id}/mentions"
        body = await self._call("GET", path, "GET /2/users/:id/mentions", params=params)
        return MentionsPage.from_json(body)

    async def iter_mentions(
        self, user_id: str, since_id: str | None = None, page_size: int = 100
    ) -> AsyncIterator[MentionsPage]:
        """Every page (``page_size`` mentions each) newer than ``since_id``, following ``next_token``."""
        token: str | None = None
        while True:
            page = await self.get_mentions(
                user_id, since_id=since_id, pagination_token=token, max_results=page_size
            )
            yield page
            if page.next_token is None:
                return
            token = page.next_token

    async def search_recent(
        self,
        query: str,
        since_id: str | None = None,
        until_id: str | None = None,
        pagination_token: str | None = None,
    ) -> MentionsPage:
        """GET /2/tweets/search/recent (the last 7 days, newest first, 100 a page), with the fields
        and authors' usernames of :meth:`get_mentions`; ``since_id`` and ``until_id`` exclusive."""
        params: dict[str, str] = {
            "query": query,
            "max_results": "100",
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "username",
        }
        for name, value in (("since_id", since_id), ("until_id", until_id), ("next_token", pagination_token)):
            if value is not None:
                params[name] = value
        body = await self._call(
            "GET", "/2/tweets/search/recent", "GET /2/tweets/search/recent", params=params
        )
        return MentionsPage.from_json(body)

    async def iter_search_recent(
        self, query: str, since_id: str | None = None, until_id: str | None = None
    ) -> AsyncIterator[MentionsPage]:
        """Every page of :meth:`search_recent`, following ``next_token``."""
        token: str | None = None
        while True:
            page = await self.search_recent(query, since_id, until_id, token)
            yield page
            if page.next_token is None:
                return
            token = page.next_token

    async def get_dm_events(
        self,
        pagination_token: str | None = None,
        max_results: int = 100,
        event_types: Sequence[str] = ("MessageCreate",),
    ) -> DmEventsPage:
        """GET /2/dm_events (the account's DM events, newest first)."""
        if not 1 <= max_results <= 100:
            raise ValueError(f"max_results must be within 1..100, got {max_results}")
        params: dict[str, str] = {
            "max_results": str(max_results),
            "dm_event.fields": DM_EVENT_FIELDS,
            "event_types": ",".join(event_types),
        }
        if pagination_token is not None:
            params["pagination_token"] = pagination_token
        body = await self._call("GET", "/2/dm_events", "GET /2/dm_events", params=params)
        return DmEventsPage.from_json(body)

    async def iter_dm_events(
        self, event_types: Sequence[str] = ("MessageCreate",)
    ) -> AsyncIterator[DmEventsPage]:
        """Every page of DM events, following ``next_token`` to the end."""
        token: str | None = None
        while True:
            page = await self.get_dm_events(pagination_token=token, event_types=event_types)
            yield page
            if page.next_token is None:
                return
            token = page.next_token

    async def get_me(self) -> User:
        """GET /2/users/me: the account the user token belongs to."""
        return await self._get_user("/2/users/me", "GET /2/users/me")

    async def get_user_by_username(self, username: str) -> User:
        """GET /2/users/by/username/:username; XNotFound if X reports no such user."""
        return await self._get_user(f"/2/users/by/username/{username}", "GET /2/users/by/username/:username")

    async def _get_user(self, path: str, endpoint: str) -> User:
        response = await self._send("GET", path, endpoint, headers=self._user_headers)
        body = self._checked(response)
        data = body.get("data")
        if not isinstance(data, Mapping):
            errors = body.get("errors") or [{"title": "Not Found Error", "type": "about:blank"}]
            raise XNotFound(response.status_code, errors[0])
        return User.from_json(data)

    # -- webhooks (Account Activity) -------------------------------------------------------

    async def create_webhook(self, url: str) -> Webhook:
        """POST /2/webhooks: register ``url``; X sends it a CRC check before answering."""
        body = await self._call("POST", "/2/webhooks", "POST /2/webhooks", json={"url": url}, app=True)
        return Webhook.from_json(body.get("data") or body)

    async def validate_webhook(self, webhook_id: str) -> bool:
        """PUT /2/webhooks/:id: ask X to re-run the CRC check (re-enables an invalid webhook)."""
        body = await self._call("PUT", f"/2/webhooks/{webhook_id}", "PUT /2/webhooks/:id", app=True)
        return bool((body.get("data") or {}).get("attempted", False))

    async def list_webhooks(self) -> list[Webhook]:
        """GET /2/webhooks."""
        body = await self._call("GET", "/2/webhooks", "GET /2/webhooks", app=True)
        return [Webhook.from_json(w) for w in body.get("data") or ()]

    async def delete_webhook(self, webhook_id: str) -> bool:
        """DELETE /2/webhooks/:id."""
        body = await self._call("DELETE", f"/2/webhooks/{webhook_id}", "DELETE /2/webhooks/:id", app=True)
        return bool((body.get("data") or {}).get("deleted", False))

    async def subscribe(self, webhook_id: str) -> bool:
        """POST /2/account_activity/webhooks/:id/subscriptions/all: deliver this user's events."""
        body = await self._call(
            "POST",
            f"/2/account_activity/webhooks/{webhook_id}/subscriptions/all",
            "POST /2/account_activity/webhooks/:id/subscriptions/all",
            json={},
        )
        return bool((body.get("data") or {}).get("subscribed", False))

    async def unsubscribe(self, webhook_id: str, user_id: str) -> bool:
        """DELETE /2/account_activity/webhooks/:id/subscriptions/:user_id/all."""
        body = await self._call(
            "DELETE",
            f"/2/account_activity/webhooks/{webhook_id}/subscriptions/{user_id}/all",
            "DELETE /2/account_activity/webhooks/:id/subscriptions/:user_id/all",
            app=True,
        )
        return not bool((body.get("data") or {}).get("subscribed", False))

    # -- plumbing -------------------------------------------------------------------------

    def _url(self, path: str) -> httpx.URL | str:
        """The absolute URL for ``path``, parsed once (httpx's per-request merge costs ~50 us)."""
        url = self._urls.get(path)
        if url is None:
            base = str(self._http.base_url)
            url = httpx.URL(base.rstrip("/") + path) if base else path
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            self._urls[path] = url
        return url

    async def _send(
        self,
        method: str,
        path: str,
        endpoint: str,
        *,
        headers: httpx.Headers,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        app: bool = False,
    ) -> httpx.Response:
        url = self._url(path)
        if json is not None and params is None:  # a write: the body is encoded once, here
            sender = self._app_json if app and self._app_json is not None else self._user_json
            response = await sender.send(method, url, orjson.dumps(json))
        else:
            response = await self._http.request(method, url, params=params, json=json, headers=headers)
        state = RateLimitState.from_headers(response.headers)
        if state is not None:
            self.rate_limits[endpoint] = state
            self.last_rate_limit = state
        return response

    @staticmethod
    def _checked(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise x_error_from_response(response)
        body = json_object(response)
        if body is None:
            raise XApiError(
                response.status_code,
                {"title": "Invalid Response", "type": "about:blank", "detail": "expected a JSON object"},
            )
        return body

    async def _call(
        self,
        method: str,
        path: str,
        endpoint: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        app: bool = False,
    ) -> dict[str, Any]:
        headers = self._app_headers if app and self._app_headers is not None else self._user_headers
        response = await self._send(
            method, path, endpoint, headers=headers, params=params, json=json, app=app
        )
        return self._checked(response)
