"""Polling ingestion against the X fake: since_id cursor, pagination, DMs, rate-limit waits."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from rt_stack import ASHA_NO, Stack

from reference.clients.x_models import MentionsPage
from reference.runtime.poller import DM_CURSOR, MENTIONS_CURSOR
from reference.service.work_queue import NewEvent


@pytest.fixture
async def polling() -> AsyncIterator[Stack]:
    live = Stack("memory://", ingestion="poll", poll_interval_s=3600.0)
    await live.start(register_webhook=False)
    try:
        yield live
    finally:
        await live.stop()


async def test_mentions_and_dms_are_polled_once_each(polling: Stack) -> None:
    """A round queues new mentions and DMs; the next round, from the persisted cursors, queues nothing."""
    stack = polling
    assert stack.service is not None and stack.service.poller is not None
    poller = stack.service.poller
    asha, ravi = await stack.user("asha"), await stack.user("ravi")
    await poller.poll_once()  # the empty account: cursors start here
    newest = await stack.tweet(asha, "@tatadocomo #reg 9812345678")
    await stack.tweet(ravi, "just chatting, no mention")
    await stack.dm(ravi, "hello there")
    assert await poller.poll_once() == 2
    await stack.service.drain()
    assert await stack.code_for(ASHA_NO)
    assert await poller.poll_once() == 0
    assert stack.service.admin is not None
    assert await stack.service.admin.call(lambda c: c.queue.cursor(MENTIONS_CURSOR)) == newest
    assert await stack.service.admin.call(lambda c: c.queue.cursor(DM_CURSOR)) is not None


async def test_mentions_are_read_to_the_last_page(polling: Stack) -> None:
    """More mentions than one page holds are all queued (next_token followed to the end)."""
    stack = polling
    assert stack.service is not None and stack.service.poller is not None
    await stack.service.poller.poll_once()
    asha = await stack.user("asha")
    for i in range(130):
        await stack.tweet(asha, f"@tatadocomo complaint number {i}")
    assert await stack.service.poller.poll_once() == 130
    await stack.service.drain()
    stats = (await stack.admin_get("/admin/stats")).json()
    assert stats["totals"]["inbox"] == 130


async def test_a_429_while_polling_waits_until_the_reset(polling: Stack) -> None:
    """X's 429 on mentions makes the poller sleep until x-rate-limit-reset and count the wait."""
    stack = polling
    assert stack.service is not None and stack.service.poller is not None
    poller = stack.service.poller
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    poller.sleep = record
    limits = {"GET /2/users/:id/mentions": {"app": [], "user": [[1, 900]]}}
    assert (await stack.x.post("/_fake/rate-limits", json={"limits": limits})).status_code == 200
    await poller.poll_once()
    await poller.poll_once()  # the window allows one request: this round or the one before gets 429
    assert slept and all(0 < s <= 901 for s in slept)
    text = (await stack.client.get("/metrics")).text  # type: ignore[union-attr]
    waits = re.search(r'twittcom_rate_limit_waits_total\{api="x"\} ([0-9.]+)', text)
    assert waits is not None and float(waits.group(1)) >= 1


async def test_a_code_and_a_purchase_polled_together_run_in_tweet_order(polling: Stack) -> None:
    """X pages newest first; the poller queues oldest first, so #code links before the #act that follows."""
    stack = polling
    assert stack.service is not None and stack.service.poller is not None
    poller = stack.service.poller
    await poller.poll_once()
    asha = await stack.user("asha")
    await stack.tweet(asha, "@tatadocomo #reg 9812345678")
    await poller.poll_once()
    await stack.service.drain()
    code = await stack.code_for(ASHA_NO)
    await stack.tweet(asha, f"@tatadocomo #code {code}")
    await stack.tweet(asha, "@tatadocomo #act #TD49DEL")
    assert await poller.poll_once() == 2
    await stack.service.drain()
    timeline = (await stack.admin_get("/admin/handles/asha/timeline")).json()
    kinds = [entry["kind"] for entry in timeline["entries"]]
    assert "debit" in kinds, kinds
    subscriber = (await stack.admin_get(f"/admin/subscribers/{ASHA_NO}")).json()
    assert subscriber["balance_paise"] == 10_000 - 4_900


async def test_concurrent_rounds_never_overlap(polling: Stack) -> None:
    """Rounds asked for at once (poll loop, webhook fallback, a caller) run one after another:
    they share the poller's connection and cursors, so an overlap could corrupt either."""
    stack = polling
    assert stack.service is not None and stack.service.poller is not None
    poller = stack.service.poller
    await poller.poll_once()  # waits out the loop's first round (a loaded machine may start it late)
    inside, most = 0, 0
    original = poller.poll_mentions

    async def counted() -> int:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        try:
            return await original()
        finally:
            inside -= 1

    poller.poll_mentions = counted  # type: ignore[method-assign]
    asha = await stack.user("asha")
    await stack.tweet(asha, "@tatadocomo #reg 9812345678")
    counts = await asyncio.gather(*(poller.poll_once() for _ in range(4)))
    assert most == 1
    assert sorted(counts) == [0, 0, 0, 1]  # the mention is offered once, by the first round


async def test_mentions_pushed_out_of_the_timeline_while_a_round_pages_are_read_from_search(
    polling: Stack,
) -> None:
    """X's mentions timeline holds the 800 newest: mentions posted while a round pages back push its
    oldest unread ones out (its last page then ends above the cursor, and X says nothing). The round
    reads those from recent search, so a customer's mention is never skipped by the cursor."""
    stack = polling
    assert stack.service is not None and stack.service.poller is not None
    poller = stack.service.poller
    await poller.poll_once()
    backend = stack.x_backend
    asha = backend.create_user("asha")  # straight into the fake: hundreds of posts in milliseconds
    offered: list[str] = []
    enqueue = poller.enqueue

    async def recorded(events: list[NewEvent], source: str) -> int:
        offered.extend(event.message_id for event in events)
        return await enqueue(events, source)

    poller.enqueue = recorded
    backend.create_tweet(asha.id, "@tatadocomo hello 0")
    assert await poller.poll_once() == 1  # the cursor now stands on that mention
    before_round = [str(backend.create_tweet(asha.id, f"@tatadocomo hello {i}").id) for i in range(1, 751)]
    during_round: list[str] = []
    get_mentions = poller.x.get_mentions

    async def busy(*args: Any, **kwargs: Any) -> MentionsPage:
        page = await get_mentions(*args, **kwargs)
        if not during_round:  # 150 more arrive once the first page is read: 900 newer than the cursor
            during_round.extend(
                str(backend.create_tweet(asha.id, f"@tatadocomo hello {i}").id) for i in range(751, 901)
            )
        return page

    poller.x.get_mentions = busy  # type: ignore[method-assign]
    assert await poller.poll_once() == 750
    assert sorted(offered[1:], key=int) == before_round
    # the 100 oldest had left the timeline's 800 newest: they came from search
    assert poller.metrics.registry.get_sample_value("twittcom_mentions_backfilled_total") == 100
    assert await poller.poll_once() == 150
    assert sorted(offered[751:], key=int) == during_round
    assert await poller.poll_once() == 0


async def test_a_deleted_cursor_mention_costs_one_search_and_loses_nothing(polling: Stack) -> None:
    """The round cannot see the cursor's own mention once its author deleted it; it then searches
    the gap once (finding nothing: there was none) and moves on from the newest mention."""
    stack = polling
    assert stack.service is not None and stack.service.poller is not None
    poller = stack.service.poller
    await poller.poll_once()
    asha = await stack.user("asha")
    first = await stack.tweet(asha, "@tatadocomo first")
    assert await poller.poll_once() == 1
    deleted = await stack.x.delete(f"/2/tweets/{first}", headers={"Authorization": f"Bearer {asha.token}"})
    assert deleted.status_code == 200
    newer = [await stack.tweet(asha, f"@tatadocomo again {i}") for i in range(3)]
    assert await poller.poll_once() == 3
    assert stack.service.admin is not None
    assert await stack.service.admin.call(lambda c: c.queue.cursor(MENTIONS_CURSOR)) == newer[-1]
    assert await poller.poll_once() == 0
    assert poller.metrics.registry.get_sample_value("twittcom_mentions_backfilled_total") == 0
