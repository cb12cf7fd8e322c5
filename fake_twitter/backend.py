"""The state and behaviour of the fake X: users and tokens, tweets, DMs, webhooks, limits, faults.

:class:`TwitterBackend` keeps dicts and timelines, and has one method per API operation
(``create_tweet``, ``get_mentions``, ``send_dm`` ...). It does no HTTP: the ASGI layer in
:mod:`fake_twitter.app` parses requests, calls it and serialises. Time comes from the injected
clock and randomness from a seeded RNG; ``reset()`` re-runs ``__init__`` (moto's BaseBackend idea).
Events for Account Activity subscribers are appended to ``outbox`` and announced via ``on_event``.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import twitter_text
from fake_twitter.clock import Clock, SystemClock
from fake_twitter.exceptions import (
    Forbidden,
    InvalidRequest,
    NotAuthorizedForResource,
    ResourceNotFound,
    invalid_parameter,
)
from fake_twitter.faults import FaultPlan
from fake_twitter.models import (
    AppCredentials,
    DmEvent,
    Mention,
    Principal,
    Tweet,
    User,
    Webhook,
    WebhookEvent,
    extract_hashtags,
)
from fake_twitter.ratelimits import RateLimiter
from fake_twitter.snowflake import SnowflakeGenerator
from fake_twitter.stores import DmStore, TweetStore
from fake_twitter.timeline import Page
from fake_twitter.webhooks import (
    WebhookRegistry,
    dm_event_payload,
    tweet_delete_payload,
    tweet_event_payload,
)

__all__ = [
    "DEFAULT_CONSUMER_SECRET",
    "MAX_WEIGHTED_LENGTH",
    "MENTIONS_DEPTH",
    "TwitterBackend",
    "USER_TWEETS_DEPTH",
]

#: Documented default for local use; pass ``consumer_secret=`` (or --consumer-secret) to change it.
DEFAULT_CONSUMER_SECRET = "fake-twitter-consumer-secret"
MAX_WEIGHTED_LENGTH = 280
#: X pages back through at most the 800 newest mentions and the 3,200 newest tweets of a user
MENTIONS_DEPTH = 800
USER_TWEETS_DEPTH = 3200
#: as tweepy users quote X's answer ("400 Bad Request\nYour Tweet text is too long. ...")
TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length see "
    "https://github.com/twitter/twitter-text."
)
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."


#: reads remembered by :attr:`TwitterBackend.reads` (oldest forgotten first)
READ_LOG_SIZE = 200_000
#: the routes whose reads are remembered
READ_ROUTES = frozenset(
    {
        "GET /2/users/:id/mentions",
        "GET /2/dm_events",
        "GET /2/dm_conversations/with/:participant_id/dm_events",
        "GET /2/dm_conversations/:id/dm_events",
    }
)


class TwitterBackend:
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

    def _token(self, length: int) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    # ---- users and tokens ------------------------------------------------------------------------
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

    # ---- tweets ----------------------------------------------------------------------------------
    def create_tweet(
        self,
        author_id: int,
        text: str,
        *,
        in_reply_to_tweet_id: int | None = None,
        quote_tweet_id: int | None = None,
    ) -> Tweet:
        author = self.get_user(author_id)
        if text and not twitter_text.is_valid_tweet(text):
            if twitter_text.weighted_length(text) > MAX_WEIGHTED_LENGTH:
                raise invalid_parameter("text", text, TOO_LONG)
            raise invalid_parameter("text", text, "The `text` contains characters X does not allow")
        now = self.clock.time()
        previous = self.tweet_store.recent_with_text(author_id, text)
        if previous is not None and now - previous.created_at < self.duplicate_window:
            raise Forbidden(DUPLICATE)
        parent: Tweet | None = None
        if in_reply_to_tweet_id is not None:
            parent = self.tweets.get(in_reply_to_tweet_id)
            if parent is None:
                raise invalid_parameter(
                    "reply.in_reply_to_tweet_id",
                    str(in_reply_to_tweet_id),
                    "Your Tweet could not be sent because the Tweet you are replying to has been deleted "
                    "or is not visible to you.",
                )
        if quote_tweet_id is not None and quote_tweet_id not in self.tweets:
            raise invalid_parameter("quote_tweet_id", str(quote_tweet_id), "Quoted Tweet not found")
        mentions = self._mentions(text)
        tweet_id = self.ids.next_id()
        tweet = Tweet(
            id=tweet_id,
            text=text,
            author_id=author.id,
            created_at=now,
            conversation_id=parent.conversation_id if parent is not None else tweet_id,
            mentions=mentions,
            in_reply_to_tweet_id=parent.id if parent is not None else None,
            in_reply_to_user_id=parent.author_id if parent is not None else None,
            quote_tweet_id=quote_tweet_id,
        )
        mentioned = {m.user_id for m in mentions if m.user_id is not None}
        self.tweet_store.add(tweet, mentioned)
        self.counters["tweets_created"] += 1
        evicted = self.tweet_store.evict(now, self.retention_max_tweets, self.retention_max_age)
        if evicted:
            self.counters["tweets_evicted"] += evicted
        if self.webhooks.subscribed_users:
            self._tweet_events(tweet, mentioned)
        return tweet

    def _mentions(self, text: str) -> tuple[Mention, ...]:
        if "@" not in text and "\uff20" not in text:
            return ()
        users = self.users_by_username
        mentions: list[Mention] = []
        for e in twitter_text.extract_mentions_with_indices(text):
            user = users.get(e.value.lower())
            mentions.append(Mention(e.start, e.end, e.value, user.id if user is not None else None))
        return tuple(mentions)

    def get_tweet(self, tweet_id: int) -> Tweet:
        tweet = self.tweets.get(tweet_id)
        if tweet is None:
            raise ResourceNotFound("tweet", "id", str(tweet_id))
        return tweet

    def get_tweets(self, tweet_ids: Iterable[int]) -> tuple[list[Tweet], list[ResourceNotFound]]:
        found: list[Tweet] = []
        missing: list[ResourceNotFound] = []
        for tweet_id in tweet_ids:
            tweet = self.tweets.get(tweet_id)
            if tweet is None:
                missing.append(ResourceNotFound("tweet", "ids", str(tweet_id)))
            else:
                found.append(tweet)
        return found, missing

    def delete_tweet(self, user_id: int, tweet_id: int) -> bool:
        tweet = self.tweets.get(tweet_id)
        if tweet is None:
            raise ResourceNotFound("tweet", "id", str(tweet_id))
        if tweet.author_id != user_id:
            raise NotAuthorizedForResource(
                "You are not authorized to delete this Tweet.",
                resource_type="tweet",
                resource_id=str(tweet_id),
                parameter="id",
            )
        self.tweet_store.forget(tweet)
        self.counters["tweets_deleted"] += 1
        if user_id in self.webhooks.subscribed_users:
            self._emit(user_id, "tweet_delete_events", tweet_delete_payload(tweet, self.clock.time()))
        return True

    def get_mentions(self, user_id: int, *, after: int, before: int, limit: int) -> Page:
        self.get_user(user_id)
        store = self.tweet_store
        return store.page(
            store.mentions, user_id, after=after, before=before, limit=limit, depth=MENTIONS_DEPTH
        )

    def get_user_tweets(
        self, user_id: int, *, after: int, before: int, limit: int, exclude_replies: bool = False
    ) -> Page:
        self.get_user(user_id)
        accept = None
        if exclude_replies:
            tweets = self.tweets

            def accept(tweet_id: int) -> bool:
                return tweets[tweet_id].in_reply_to_tweet_id is None

        store = self.tweet_store
        return store.page(
            store.by_author,
            user_id,
            after=after,
            before=before,
            limit=limit,
            depth=USER_TWEETS_DEPTH,
            accept=accept,
        )

    # ---- direct messages -------------------------------------------------------------------------
    def send_dm(
        self, sender_id: int, recipient_id: int, text: str, media_ids: tuple[str, ...] = ()
    ) -> DmEvent:
        self.get_user(sender_id)
        if recipient_id not in self.users:
            raise invalid_parameter(
                "participant_id",
                str(recipient_id),
                f"Could not find user with participant_id: [{recipient_id}].",
            )
        low, high = sorted((sender_id, recipient_id))
        conversation = f"{low}-{high}"
        hashtags, mentions = extract_hashtags(text), self._mentions(text)
        now = self.clock.time()
        event = DmEvent(
            id=self.ids.next_id(),
            event_type="MessageCreate",
            sender_id=sender_id,
            recipient_id=recipient_id,
            dm_conversation_id=conversation,
            created_at=now,
            text=text,
            hashtags=hashtags,
            mentions=mentions,
            media_ids=media_ids,
        )
        self.dm_store.add(event)
        self.counters["dms_sent"] += 1
        self.counters["dms_evicted"] += self.dm_store.evict(
            now, self.retention_max_tweets, self.retention_max_age
        )
        if self.webhooks.subscribed_users:
            for user_id in {sender_id, recipient_id}:
                if user_id in self.webhooks.subscribed_users:
                    self._emit(
                        user_id,
                        "direct_message_events",
                        dm_event_payload(event, user_id, self.users, self.app),
                    )
        return event

    def get_dm_events(
        self,
        user_id: int,
        *,
        before: int,
        limit: int,
        event_types: frozenset[str],
        with_user: int | None = None,
    ) -> Page:
        if "MessageCreate" not in event_types:  # the fake only has MessageCreate events
            return Page([], None)
        return self.dm_store.page(user_id, before=before, limit=limit, with_user=with_user)

    # ---- account activity ------------------------------------------------------------------------
    def create_webhook(self, url: str) -> Webhook:
        """Register ``url`` (the caller runs the CRC check first); http and ports allowed locally."""
        if not url.startswith(("https://", "http://")) or len(url) > 200:
            raise invalid_parameter(
                "url", url, "The `url` must be an absolute http(s) URL of at most 200 characters"
            )
        if any(w.url == url for w in self.webhooks.webhooks.values()):
            raise invalid_parameter("url", url, "DuplicateUrlFailed: this URL is already registered")
        now = self.clock.time()
        webhook = Webhook(id=self.ids.next_id(), url=url, created_at=now, crc_checked_at=now)
        self.webhooks.add(webhook)
        return webhook

    def get_webhook(self, webhook_id: int) -> Webhook:
        webhook = self.webhooks.webhooks.get(webhook_id)
        if webhook is None:
            raise invalid_parameter("webhook_id", str(webhook_id), f"Webhook [{webhook_id}] not found")
        return webhook

    def delete_webhook(self, webhook_id: int) -> bool:
        self.get_webhook(webhook_id)
        return self.webhooks.remove(webhook_id)

    def subscribe(self, webhook_id: int, user_id: int) -> bool:
        self.get_webhook(webhook_id)
        self.get_user(user_id)
        self.webhooks.subscribe(webhook_id, user_id)
        return True

    def unsubscribe(self, webhook_id: int, user_id: int) -> bool:
        self.get_webhook(webhook_id)
        return self.webhooks.unsubscribe(webhook_id, user_id)

    def _tweet_events(self, tweet: Tweet, mentioned: set[int]) -> None:
        subscribed = self.webhooks.subscribed_users
        targets = set(mentioned)
        targets.add(tweet.author_id)
        if tweet.in_reply_to_user_id is not None:
            targets.add(tweet.in_reply_to_user_id)
        for user_id in targets:
            if user_id in subscribed:
                self._emit(user_id, "tweet_create_events", tweet_event_payload(tweet, user_id, self.users))

    def _emit(self, user_id: int, kind: str, payload: dict[str, Any]) -> None:
        outbox = self.outbox
        if len(outbox) == outbox.maxlen:
            self.counters["webhook_dropped"] += 1
        outbox.append(WebhookEvent(user_id, kind, payload))
        self.counters["webhook_events"] += 1
        if self.on_event is not None:
            self.on_event()


def twitter_username_ok(username: str) -> bool:
    return 1 <= len(username) <= 15 and all(c.isascii() and (c.isalnum() or c == "_") for c in username)
