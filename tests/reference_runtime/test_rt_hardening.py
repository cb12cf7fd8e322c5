"""Input hardening: one unstorable event never fails its batch or stalls the poller; admin paths with
NUL answer 400; webhook and callback bodies are streamed and cut at 1 MiB (413)."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import AsyncIterator

import pytest
from rt_stack import ASHA_NO, Stack

from reference.clients import x_signature
from reference.runtime.ingest import split_storable
from reference.service.work_queue import NewEvent


def _signed(stack: Stack, payload: object) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"x-twitter-webhooks-signature": x_signature(body, stack.x_backend.app.consumer_secret)}


def _mention(stack: Stack, tweet_id: str, author: str, text: str) -> dict[str, object]:
    assert stack.operator is not None
    return {
        "id_str": tweet_id,
        "text": text,
        "user": {"id_str": author, "screen_name": f"user{author}"},
        "entities": {"user_mentions": [{"screen_name": "tatadocomo", "id_str": stack.operator.id}]},
    }


def test_split_storable_refuses_nul_and_lone_surrogates_only() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    good = NewEvent("tweet", "1", "7", "asha", "@tatadocomo #reg 9812345678 ✓", now)
    nul = NewEvent("tweet", "2", "7", "asha", "@tatadocomo a\x00b", now)
    surrogate = NewEvent("dm", "3", "7", "as\ud800ha", "hi", now)
    kept, refused = split_storable([good, nul, surrogate])
    assert kept == [good]
    assert [(e.message_id, reason) for e, reason in refused] == [
        ("2", "text holds U+0000"),
        ("3", "handle is not valid UTF-8 (lone surrogate)"),
    ]


async def _nul_does_not_fail_innocent_events(stack: Stack) -> None:
    assert stack.client is not None and stack.service is not None and stack.operator is not None
    client = stack.client

    async def post(tweet: dict[str, object]) -> int:
        assert stack.operator is not None
        body, headers = _signed(stack, {"for_user_id": stack.operator.id, "tweet_create_events": [tweet]})
        return (await client.post("/webhooks/x", content=body, headers=headers)).status_code

    tweets = [_mention(stack, str(1000 + i), str(50 + i), f"@tatadocomo hello {i}") for i in range(40)]
    tweets.insert(20, _mention(stack, "999", "49", "@tatadocomo bad\x00tweet"))
    statuses = await asyncio.gather(*(post(t) for t in tweets))
    assert statuses.count(200) == 40, statuses
    assert statuses[20] == 400
    stats = (await stack.admin_get("/admin/stats")).json()
    assert stats["totals"] is not None
    depths = await stack.service.depths()
    assert depths["inbound_pending"] <= 40
    quarantined = await stack.service.quarantined()
    assert [(q["channel"], q["message_id"], q["reason"]) for q in quarantined] == [
        ("tweet", "999", "text holds U+0000")
    ]
    assert quarantined[0]["text"] == "@tatadocomo bad\x00tweet"
    listed = await stack.admin_get("/admin/quarantine")
    assert listed.status_code == 200 and "bad\\u0000tweet" in listed.text
    await stack.service.drain()
    metrics = (await client.get("/metrics")).text
    assert 'twittcom_ingested_events_total{result="quarantined",source="webhook"} 1.0' in metrics


async def test_a_nul_mention_is_refused_alone_on_memory(stack: Stack) -> None:
    """Group commit of 41 concurrent webhook posts: the NUL one is 400, the 40 others are 200."""
    await _nul_does_not_fail_innocent_events(stack)


@pytest.mark.postgres
async def test_a_nul_mention_is_refused_alone_on_postgresql(pg_schema_factory) -> None:
    """The reported case: PostgreSQL text rejects U+0000; before, 23 of 40 innocent events got 503."""
    live = Stack(pg_schema_factory())
    await live.start()
    try:
        await _nul_does_not_fail_innocent_events(live)
    finally:
        await live.stop()


@pytest.mark.postgres
async def test_the_poller_passes_a_nul_mention_and_keeps_the_rest(pg_schema_factory) -> None:
    """Polling on PostgreSQL: the NUL mention is quarantined, the cursor moves past it, the next
    mention (a registration) is processed."""
    live = Stack(pg_schema_factory(), ingestion="poll", poll_interval_s=3600.0)
    await live.start(register_webhook=False)
    try:
        assert live.service is not None and live.service.poller is not None
        asha = await live.user("asha")
        bad = await live.tweet(asha, "@tatadocomo oops\x00")
        await live.tweet(asha, "@tatadocomo #reg 9812345678")
        await live.service.poller.poll_once()
        await live.service.drain()
        assert await live.code_for(ASHA_NO)
        assert [q["message_id"] for q in await live.service.quarantined()] == [bad]
        assert live.service.admin is not None
        cursor = await live.service.admin.read(lambda c: c.queue.cursor("mentions_since_id"))
        assert cursor is not None and int(cursor) > int(bad)
        assert await live.service.poller.poll_once() == 0  # nothing new, nothing stuck
    finally:
        await live.stop()


@pytest.mark.postgres
async def test_admin_paths_with_nul_are_a_400_not_a_500(pg_schema_factory) -> None:
    live = Stack(pg_schema_factory())
    await live.start()
    try:
        for path in ("/admin/handles/a%00b", "/admin/handles/a%00b/timeline", "/admin/subscribers/98%0012"):
            response = await live.admin_get(path)
            assert response.status_code == 400, (path, response.text)
            assert response.json()["error"] == "bad_payload"
    finally:
        await live.stop()


async def _chunks(total: int, size: int = 1 << 16) -> AsyncIterator[bytes]:
    chunk = b"x" * size
    for _ in range(total // size):
        yield chunk


@pytest.mark.parametrize("path", ["/webhooks/x", "/callbacks/twilio/status"])
async def test_large_chunked_bodies_are_cut_at_one_mib_without_reading_them(stack: Stack, path: str) -> None:
    """A 64 MiB chunked POST (no content-length) answers 413 and the peak allocation stays far
    below the body's size (before: the whole body was read, then refused)."""
    assert stack.client is not None
    tracemalloc.start()
    try:
        response = await stack.client.post(path, content=_chunks(64 << 20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "payload_too_large"
    assert peak < 8 << 20, f"peak {peak / 2**20:.1f} MiB"
    declared = await stack.client.post(path, content=b"x" * ((1 << 20) + 1))
    assert declared.status_code == 413


async def test_a_failed_group_commit_fails_only_the_caller_whose_items_fail() -> None:
    """Defence in depth: when a shared commit fails, each caller's items are committed alone."""
    from reference.runtime.connections import GroupCommit

    commits: list[list[list[str]]] = []

    async def commit(groups: list[list[str]]) -> list[int]:
        commits.append(groups)
        await asyncio.sleep(0)
        if any("bad" in items for items in groups):
            raise ValueError("the store refused the group")
        return [len(items) for items in groups]

    group: GroupCommit[str, int] = GroupCommit(commit)
    results = await asyncio.gather(
        group.submit(["a", "b"]), group.submit(["bad"]), group.submit(["c"]), return_exceptions=True
    )
    assert results[0] == 2 and results[2] == 1
    assert isinstance(results[1], ValueError)
    assert commits[0] == [["a", "b"], ["bad"], ["c"]]  # tried together first
