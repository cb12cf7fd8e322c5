"""The state and behaviour of the fake X: users and tokens, tweets, DMs, webhooks, limits, faults.

:class:`TwitterBackend` keeps dicts and timelines, and has one method per API operation
(``create_tweet``, ``get_mentions``, ``send_dm`` ...). It does no HTTP: the ASGI layer in
:mod:`fake_twitter.app` parses requests, calls it and serialises. Time comes from the injected
clock and randomness from a seeded RNG; ``reset()`` re-runs ``__init__`` (moto's BaseBackend idea).
Events for Account Activity subscribers are appended to ``outbox`` and announced via ``on_event``.

The operations live by family, one module each, stacked on the shared state:
:mod:`.backend_users` (state, users, tokens) <- :mod:`.backend_webhooks` (Account Activity) <-
:mod:`.backend_tweets` and :mod:`.backend_dms`; this module creates the state and resets it.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import Any

from fake_twitter.backend_dms import DmOperations
from fake_twitter.backend_tweets import (
    MAX_WEIGHTED_LENGTH,
    MENTIONS_DEPTH,
    USER_TWEETS_DEPTH,
    TweetOperations,
)
from fake_twitter.backend_users import twitter_username_ok
from fake_twitter.clock import Clock, SystemClock
from fake_twitter.faults import FaultPlan
from fake_twitter.models import AppCredentials, Principal, User, WebhookEvent
from fake_twitter.ratelimits import RateLimiter
from fake_twitter.snowflake import SnowflakeGenerator
from fake_twitter.stores import DmStore, TweetStore
from fake_twitter.webhooks import WebhookRegistry

__all__ = [
    "DEFAULT_CONSUMER_SECRET",
    "MAX_WEIGHTED_LENGTH",
    "MENTIONS_DEPTH",
    "READ_ROUTES",
    "TwitterBackend",
    "USER_TWEETS_DEPTH",
    "twitter_username_ok",
]

#: Documented default for local use; pass ``consumer_secret=`` (or --consumer-secret) to change it.
DEFAULT_CONSUMER_SECRET = "fake-twitter-consumer-secret"


#: reads remembered by :attr:`TwitterBackend.reads` (oldest forgotten first)
READ_LOG_SIZE = 200_000
#: the routes whose reads are remembered (recent search: a poller reading mentions its timeline lost)
READ_ROUTES = frozenset(
    {
        "GET /2/users/:id/mentions",
        "GET /2/tweets/search/recent",
        "GET /2/dm_events",
        "GET /2/dm_conversations/with/:participant_id/dm_events",
        "GET /2/dm_conversations/:id/dm_events",
    }
)


class TwitterBackend(TweetOperations, DmOperations):
    """All state of one fake X deployment (one app, many users)."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        seed: int | None = None,
        rate_limits: str = "real",
        consumer_secret: str = DEFAULT_CONSUMER_SECRET,
        retention_max_tweets: int = 200_000,
        retention_max_age: float = 7 * 86_400.0,
        duplicate_window: float = 86_400.0,
        max_pending_webhook_events: int = 20_000,
    ) -> None:
        self._init_args: dict[str, Any] = dict(
            clock=clock,
            seed=seed,
            rate_limits=rate_limits,
            consumer_secret=consumer_secret,
            retention_max_tweets=retention_max_tweets,
            retention_max_age=retention_max_age,
            duplicate_window=duplicate_window,
            max_pending_webhook_events=max_pending_webhook_events,
        )
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.seed = seed
        self.rng = random.Random(seed)
        self.ids = SnowflakeGenerator(self.clock, worker_id=self.rng.randrange(1024))
        self.retention_max_tweets = retention_max_tweets
        self.retention_max_age = retention_max_age
        self.duplicate_window = duplicate_window
        self.app = AppCredentials(
            app_id=self.rng.randrange(10**7, 10**8),
            name="twittcom-fake-app",
            consumer_key=self._token(25),
            consumer_secret=consumer_secret,
            bearer_token="AAAAAAAAAAAAAAAAAAAAA" + self._token(60),
        )
        self.users: dict[int, User] = {}
        self.users_by_username: dict[str, User] = {}
        self.user_tokens: dict[str, int] = {}
        self.principals: dict[str, Principal] = {}  # token -> caller, filled on first use
        self.tweet_store = TweetStore()
        self.tweets = self.tweet_store.tweets  # the stores' main dicts, for routes and tests
        self.dm_store = DmStore()
        self.dm_events = self.dm_store.events
        self.webhooks = WebhookRegistry()
        # bounded: a storm against a slow or dead webhook drops the oldest undelivered events
        # (counted in webhook_dropped) instead of growing without limit
        self.outbox: deque[WebhookEvent] = deque(maxlen=max(1, max_pending_webhook_events))
        self.on_event: Callable[[], None] | None = None
        self.limiter = RateLimiter(self.clock, rate_limits)
        self.faults = FaultPlan()
        #: when each read of a timeline (mentions, DM events) was served: (fake clock, route key,
        #: user id of the caller or 0, max_results) - how a harness sees a system's polling from outside
        self.reads: deque[tuple[float, str, int, int]] = deque(maxlen=READ_LOG_SIZE)
        self.counters: dict[str, int] = {
            "tweets_created": 0,
            "tweets_deleted": 0,
            "tweets_evicted": 0,
            "dms_sent": 0,
            "dms_evicted": 0,
            "requests": 0,
            "rate_limited": 0,
            "faults_injected": 0,
            "webhook_events": 0,
            "webhook_dropped": 0,
        }

    # ---- lifecycle -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything (users, tokens, tweets, webhooks, counters), keeping construction args."""
        on_event = self.on_event
        args = self._init_args
        self.__dict__.clear()
        self.__init__(**args)  # type: ignore[misc]
        self.on_event = on_event

    def reseed(self, seed: int) -> None:
        """Reset with a new seed so ids, tokens and fault draws become reproducible."""
        self._init_args["seed"] = seed
        self.reset()
