"""Numbers and codes are masked where texts are kept (inbox, finished inbound rows, the admin
timeline) while processing still sees them in clear: the code is verified, then masked."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from rt_stack import ASHA_NO, Stack

_FULL_NUMBER = re.compile(r"9812345678|98123 45678")


async def _register_and_verify(live: Stack) -> str:
    asha = await live.user("asha")
    await live.tweet(asha, "@tatadocomo #reg 98123 45678")
    await live.settle()
    code = await live.code_for(ASHA_NO)
    await live.tweet(asha, f"@tatadocomo #code {code}")
    await live.dm(asha, code)  # a bare code in a DM (answered as already linked)
    await live.settle()
    info = (await live.admin_get("/admin/handles/asha")).json()
    assert info["msisdn"] == ASHA_NO  # the code was verified before its text was masked
    timeline = (await live.admin_get("/admin/handles/asha/timeline")).json()["entries"]
    shown = str(timeline)
    assert not _FULL_NUMBER.search(shown) and code not in shown, shown
    assert "98XXXXXX78" in shown and "#code XXXXXX" in shown
    return code


def _kept_texts(rows: list[tuple[object, ...]]) -> str:
    return " | ".join(str(r[0]) for r in rows)


async def test_sqlite_keeps_no_number_or_code_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "masked.db"
    live = Stack(str(path))
    await live.start()
    try:
        code = await _register_and_verify(live)
        with sqlite3.connect(path) as conn:
            kept = _kept_texts(conn.execute("SELECT text FROM inbox").fetchall())
            kept += _kept_texts(conn.execute("SELECT text FROM inbound_queue").fetchall())
        assert kept.count("98XXXXXX78") == 2 and kept.count("#code XXXXXX") == 2
        assert not _FULL_NUMBER.search(kept) and code not in kept, kept
    finally:
        await live.stop()


@pytest.mark.postgres
async def test_postgresql_keeps_no_number_or_code_in_clear(pg_schema_factory) -> None:
    import psycopg

    dsn = pg_schema_factory()
    live = Stack(dsn)
    await live.start()
    try:
        code = await _register_and_verify(live)
        with psycopg.connect(dsn) as conn:
            kept = _kept_texts(conn.execute("SELECT text FROM inbox").fetchall())
            kept += _kept_texts(conn.execute("SELECT text FROM inbound_queue").fetchall())
        assert kept.count("98XXXXXX78") == 2 and kept.count("#code XXXXXX") == 2
        assert not _FULL_NUMBER.search(kept) and code not in kept, kept
    finally:
        await live.stop()


async def test_memory_timeline_is_masked(stack: Stack) -> None:
    await _register_and_verify(stack)
