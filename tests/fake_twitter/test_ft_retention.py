"""Bounded memory: tweets and DMs past the retention count or age are evicted cheaply."""

from __future__ import annotations

from fake_twitter import ManualClock, TwitterBackend
from fake_twitter.timeline import Timeline


def _backend(**kwargs) -> tuple[TwitterBackend, ManualClock]:
    clock = ManualClock()
    return TwitterBackend(clock, seed=1, rate_limits="off", **kwargs), clock


def test_count_retention_keeps_the_newest_tweets():
    """With retention_max_tweets=50, 500 tweets leave the newest 50 in store and in timelines."""
    backend, _ = _backend(retention_max_tweets=50)
    operator = backend.create_user("docomo")
    alice = backend.create_user("alice")
    created = [backend.create_tweet(alice.id, f"@docomo n{n}").id for n in range(500)]
    assert len(backend.tweets) == 50 and backend.counters["tweets_evicted"] == 450
    page = backend.get_mentions(operator.id, after=0, before=2**63, limit=100)
    assert page.ids == created[:-51:-1]
    assert len(backend.tweet_store.mentions[operator.id]) == 50
    assert len(backend.tweet_store.recent_texts[alice.id]) == 50


def test_age_retention_evicts_old_tweets():
    """Tweets older than retention_max_age are evicted as new ones arrive."""
    backend, clock = _backend(retention_max_age=3600)
    alice = backend.create_user("alice")
    old = backend.create_tweet(alice.id, "old")
    clock.advance(3601)
    new = backend.create_tweet(alice.id, "new")
    assert old.id not in backend.tweets and new.id in backend.tweets


def test_dm_retention_by_count():
    """DM events are bounded by the same count."""
    backend, _ = _backend(retention_max_tweets=10)
    a = backend.create_user("alice")
    b = backend.create_user("bob")
    for n in range(40):
        backend.send_dm(a.id, b.id, f"m{n}")
    assert len(backend.dm_events) == 10 and backend.counters["dms_evicted"] == 30
    page = backend.get_dm_events(b.id, before=2**63, limit=100, event_types=frozenset({"MessageCreate"}))
    assert [backend.dm_events[i].text for i in page.ids] == [f"m{n}" for n in range(39, 29, -1)]


def test_timeline_compacts_its_list():
    """A timeline's backing list is compacted once most of it was evicted."""
    timeline = Timeline()
    for n in range(5000):
        timeline.append(n)
    timeline.evict_through(3999)
    assert len(timeline) == 1000 and len(timeline.ids) == 1000 and timeline.newest() == 4999


def test_mentions_page_back_through_the_newest_800_only():
    """As X documents, paging reaches only the 800 newest mentions, even with since_id older than that."""
    backend, _ = _backend()
    operator = backend.create_user("docomo")
    alice = backend.create_user("alice")
    created = [backend.create_tweet(alice.id, f"@docomo n{n}").id for n in range(1000)]
    seen: list[int] = []
    before = 2**63
    while True:
        page = backend.get_mentions(operator.id, after=created[0], before=before, limit=100)
        seen += page.ids
        if page.next_until is None:
            break
        before = page.next_until
    assert len(seen) == 800 and seen[0] == created[-1] and seen[-1] == created[200]


def test_many_authors_keep_few_dead_ids():
    """With 2,000 authors and 200 retained tweets, the authors' timelines hold at most about as many
    dead ids as live ones plus 64 each (not ~1,000 each), so memory stays flat over a long run."""
    backend, clock = _backend(retention_max_tweets=200)
    authors = [backend.create_user(f"u{n}") for n in range(2000)]
    for n in range(40_000):
        backend.create_tweet(authors[n % 2000].id, f"@docomo n{n}")
        clock.advance(0.001)
    backing = sum(len(t.ids) for t in backend.tweet_store.by_author.values())
    live = sum(len(t) for t in backend.tweet_store.by_author.values())
    assert live == 200
    assert backing <= 2 * live + 65 * 2000 and backing < 40_000 // 4


def test_webhook_outbox_is_bounded_and_counts_drops():
    """Events for a subscribed user that no dispatcher drains are capped at max_pending_webhook_events;
    the oldest are dropped and counted in webhook_dropped."""
    backend, _ = _backend(max_pending_webhook_events=100)
    operator = backend.create_user("docomo")
    alice = backend.create_user("alice")
    hook = backend.create_webhook("http://127.0.0.1:9/hook")
    backend.subscribe(hook.id, operator.id)
    last = None
    for n in range(250):
        last = backend.create_tweet(alice.id, f"@docomo n{n}")
    assert len(backend.outbox) == 100 and backend.counters["webhook_dropped"] == 150
    assert backend.outbox[-1].payload["tweet_create_events"][0]["id_str"] == str(last.id)
