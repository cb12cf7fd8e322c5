"""The tweets family of :class:`~fake_twitter.backend.TwitterBackend`: create (validated as X does),
read, delete, the mentions and user timelines, and the events they raise for subscribers."""

from __future__ import annotations

from collections.abc import Iterable

import twitter_text
from fake_twitter.backend_webhooks import WebhookOperations
from fake_twitter.exceptions import Forbidden, NotAuthorizedForResource, ResourceNotFound, invalid_parameter
from fake_twitter.models import Tweet
from fake_twitter.timeline import Page
from fake_twitter.webhooks import tweet_delete_payload, tweet_event_payload

__all__ = ["MAX_WEIGHTED_LENGTH", "MENTIONS_DEPTH", "USER_TWEETS_DEPTH", "TweetOperations"]

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


class TweetOperations(WebhookOperations):
    """Tweets and the timelines built from them."""

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

    def _tweet_events(self, tweet: Tweet, mentioned: set[int]) -> None:
        subscribed = self.webhooks.subscribed_users
        targets = set(mentioned)
        targets.add(tweet.author_id)
        if tweet.in_reply_to_user_id is not None:
            targets.add(tweet.in_reply_to_user_id)
        for user_id in targets:
            if user_id in subscribed:
                self._emit(user_id, "tweet_create_events", tweet_event_payload(tweet, user_id, self.users))
