"""The state every operation family of :class:`~fake_twitter.backend.TwitterBackend` shares, and the
users family: accounts, tokens, @mentions resolved to users.

The families (:mod:`.backend_webhooks`, :mod:`.backend_tweets`, :mod:`.backend_dms`) build on this
class one on another; :class:`~fake_twitter.backend.TwitterBackend` creates the state they declare.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable

import twitter_text
from fake_twitter.clock import Clock
from fake_twitter.exceptions import InvalidRequest, ResourceNotFound, invalid_parameter
from fake_twitter.faults import FaultPlan
from fake_twitter.models import AppCredentials, DmEvent, Mention, Principal, Tweet, User, WebhookEvent
from fake_twitter.ratelimits import RateLimiter
from fake_twitter.snowflake import SnowflakeGenerator
from fake_twitter.stores import DmStore, TweetStore
from fake_twitter.webhooks import WebhookRegistry

__all__ = ["UserOperations", "twitter_username_ok"]


class UserOperations:
    """Users and tokens over the shared state (declared here, created by ``TwitterBackend.__init__``)."""

    clock: Clock
    seed: int | None
    rng: random.Random
    ids: SnowflakeGenerator
    retention_max_tweets: int
    retention_max_age: float
    duplicate_window: float
    app: AppCredentials
    users: dict[int, User]
    users_by_username: dict[str, User]
    user_tokens: dict[str, int]
    principals: dict[str, Principal]
    tweet_store: TweetStore
    tweets: dict[int, Tweet]
    dm_store: DmStore
    dm_events: dict[int, DmEvent]
    webhooks: WebhookRegistry
    outbox: deque[WebhookEvent]
    on_event: Callable[[], None] | None
    limiter: RateLimiter
    faults: FaultPlan
    reads: deque[tuple[float, str, int, int]]
    counters: dict[str, int]

    def _token(self, length: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def create_user(self, username: str, name: str | None = None, description: str = "") -> User:
        key = username.lower()
        if not twitter_username_ok(username):
            raise invalid_parameter("username", username, f"The `username` value [{username}] is not valid")
        if key in self.users_by_username:
            raise InvalidRequest([{"parameters": {"username": [username]}, "message": "username is taken"}])
        user_id = self.ids.next_id()
        user = User(
            id=user_id,
            username=username,
            name=name or username,
            created_at=self.clock.time(),
            bearer_token=self._token(80),
            access_token=f"{user_id}-{self._token(30)}",
            access_token_secret=self._token(45),
            description=description,
        )
        self.users[user_id] = user
        self.users_by_username[key] = user
        self.user_tokens[user.bearer_token] = user_id
        self.user_tokens[user.access_token] = user_id
        return user

    def get_user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise ResourceNotFound("user", "id", str(user_id))
        return user

    def get_user_by_username(self, username: str) -> User:
        user = self.users_by_username.get(username.lower())
        if user is None:
            raise ResourceNotFound("user", "username", username)
        return user

    def _mentions(self, text: str) -> tuple[Mention, ...]:
        if "@" not in text and "\uff20" not in text:
            return ()
        users = self.users_by_username
        mentions: list[Mention] = []
        for e in twitter_text.extract_mentions_with_indices(text):
            user = users.get(e.value.lower())
            mentions.append(Mention(e.start, e.end, e.value, user.id if user is not None else None))
        return tuple(mentions)


def twitter_username_ok(username: str) -> bool:
    return 1 <= len(username) <= 15 and all(c.isascii() and (c.isalnum() or c == "_") for c in username)
