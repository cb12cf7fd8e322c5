"""In-memory stores of tweets and DM events: the indexes, retention eviction and timeline pages.

The backend decides *whether* something may be stored (auth, validation, duplicates); these stores
only keep it findable and bounded. Eviction walks from the oldest id (ids grow with time), so it
costs O(1) amortised per stored item, and each timeline drops the same head in step.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from fake_twitter.models import DmEvent, Tweet
from fake_twitter.timeline import Page, Timeline

__all__ = ["DmStore", "TweetStore"]

_EMPTY = Page([], None)


def _timeline(index: dict[int, Timeline], key: int) -> Timeline:
    timeline = index.get(key)
    if timeline is None:
        timeline = index[key] = Timeline()
    return timeline


class TweetStore:
    """Tweets by id, each author's timeline, each user's mentions, and recent texts per author."""

    def __init__(self) -> None:
        self.tweets: dict[int, Tweet] = {}
        self.order: deque[int] = deque()
        self.by_author: dict[int, Timeline] = {}
        self.mentions: dict[int, Timeline] = {}
        self.recent_texts: dict[int, dict[str, int]] = {}

    def recent_with_text(self, author_id: int, text: str) -> Tweet | None:
        """The author's retained tweet with exactly this text, if any."""
        recent = self.recent_texts.get(author_id)
        previous_id = recent.get(text) if recent is not None else None
        return self.tweets.get(previous_id) if previous_id is not None else None

    def add(self, tweet: Tweet, mentioned: set[int]) -> None:
        self.tweets[tweet.id] = tweet
        self.order.append(tweet.id)
        _timeline(self.by_author, tweet.author_id).append(tweet.id)
        for user_id in mentioned:
            _timeline(self.mentions, user_id).append(tweet.id)
        recent = self.recent_texts.get(tweet.author_id)
        if recent is None:
            recent = self.recent_texts[tweet.author_id] = {}
        recent[tweet.text] = tweet.id

    def forget(self, tweet: Tweet) -> None:
        """Remove a tweet (deleted or evicted); timelines skip ids that are no longer stored."""
        del self.tweets[tweet.id]
        recent = self.recent_texts.get(tweet.author_id)
        if recent is not None and recent.get(tweet.text) == tweet.id:
            del recent[tweet.text]

    def evict(self, now: float, max_count: int, max_age: float) -> int:
        """Drop the oldest tweets beyond ``max_count`` or older than ``max_age``; return how many."""
        order, tweets = self.order, self.tweets
        horizon = now - max_age
        evicted = 0
        while order:
            oldest = tweets.get(order[0])
            if oldest is None:  # deleted earlier
                order.popleft()
                continue
            if len(order) <= max_count and oldest.created_at >= horizon:
                break
            order.popleft()
            self.forget(oldest)
            self.by_author[oldest.author_id].evict_through(oldest.id)
            for mention in oldest.mentions:
                if mention.user_id is not None and mention.user_id in self.mentions:
                    self.mentions[mention.user_id].evict_through(oldest.id)
            evicted += 1
        return evicted

    def page(
        self,
        index: dict[int, Timeline],
        user_id: int,
        *,
        after: int,
        before: int,
        limit: int,
        depth: int,
        accept: Callable[[int], bool] | None = None,
    ) -> Page:
        """Up to ``limit`` ids in (after, before), newest first, within the ``depth`` newest entries."""
        timeline = index.get(user_id)
        if timeline is None:
            return _EMPTY
        if len(timeline) > depth:
            after = max(after, timeline.ids[len(timeline.ids) - depth - 1])
        return timeline.page(after=after, before=before, limit=limit, present=self.tweets, accept=accept)

    def search(
        self, accept: Callable[[Tweet], bool], *, after: int, before: int, limit: int, author: int | None
    ) -> Page:
        """Up to ``limit`` retained tweets in (after, before) that ``accept`` takes, newest first; with
        ``author``, only that author's timeline is walked (every match of a ``from:`` query is there)."""
        tweets = self.tweets
        if author is not None:
            timeline = self.by_author.get(author)
            if timeline is None:
                return _EMPTY
            # one match beyond the page decides next_token, so the last page is never an empty one
            found = timeline.page(
                after=after,
                before=before,
                limit=limit + 1,
                present=tweets,
                accept=lambda tweet_id: accept(tweets[tweet_id]),
            ).ids
            if len(found) > limit:
                return Page(found[:limit], found[limit - 1])
            return Page(found, None)
        out: list[int] = []
        more = False
        for tweet_id in reversed(tweets):  # insertion order is id order: ids grow with time
            if tweet_id >= before:
                continue
            if tweet_id <= after:
                break
            if accept(tweets[tweet_id]):
                if len(out) == limit:
                    more = True
                    break
                out.append(tweet_id)
        return Page(out, out[-1] if more else None)


class DmStore:
    """DM events by id, each participant's events and each one-to-one conversation's events."""

    def __init__(self) -> None:
        self.events: dict[int, DmEvent] = {}
        self.order: deque[int] = deque()
        self.by_user: dict[int, Timeline] = {}
        self.by_conversation: dict[str, Timeline] = {}

    def add(self, event: DmEvent) -> None:
        self.events[event.id] = event
        self.order.append(event.id)
        for user_id in set(event.participant_ids):
            _timeline(self.by_user, user_id).append(event.id)
        conversation = self.by_conversation.get(event.dm_conversation_id)
        if conversation is None:
            conversation = self.by_conversation[event.dm_conversation_id] = Timeline()
        conversation.append(event.id)

    def evict(self, now: float, max_count: int, max_age: float) -> int:
        order, events = self.order, self.events
        horizon = now - max_age
        evicted = 0
        while order:
            oldest = events[order[0]]
            if len(order) <= max_count and oldest.created_at >= horizon:
                break
            order.popleft()
            del events[oldest.id]
            for user_id in set(oldest.participant_ids):
                self.by_user[user_id].evict_through(oldest.id)
            self.by_conversation[oldest.dm_conversation_id].evict_through(oldest.id)
            evicted += 1
        return evicted

    def page(self, user_id: int, *, before: int, limit: int, with_user: int | None = None) -> Page:
        """The user's events (or only those with ``with_user``), newest first."""
        if with_user is None:
            timeline = self.by_user.get(user_id)
        else:
            low, high = sorted((user_id, with_user))
            timeline = self.by_conversation.get(f"{low}-{high}")
        if timeline is None:
            return _EMPTY
        return timeline.page(after=0, before=before, limit=limit, present=self.events)
