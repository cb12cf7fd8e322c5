"""The composition root: DSN -> storage adapter; settings -> a wired processor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reference.bootstrap import Settings, build_processor, open_store, otp_key_from_env
from reference.domain.errors import ConfigError, StorageError
from reference.storage.memory import MemoryStore
from reference.storage.sqlite import SqliteStore


def test_dsn_selects_the_adapter(tmp_path: Path) -> None:
    """memory:// is in-process; a path, :memory: or sqlite:/// is SQLite."""
    assert isinstance(open_store("memory://"), MemoryStore)
    for dsn in (str(tmp_path / "a.db"), f"sqlite:///{tmp_path / 'b.db'}", ":memory:"):
        store = open_store(dsn)
        assert isinstance(store, SqliteStore)
        store.close()
    assert (tmp_path / "b.db").exists()


@pytest.mark.postgres
def test_postgresql_dsn_selects_psycopg(pg_dsn: str) -> None:
    """A postgresql:// DSN opens the PostgreSQL adapter and migrates the schema."""
    from reference.storage.postgres import PostgresStore

    store: Any = open_store(pg_dsn)
    assert isinstance(store, PostgresStore) and store.schema_version() >= 1
    store.close()


def test_unreachable_postgresql_is_a_storage_error() -> None:
    """A server that does not answer raises StorageError, not a driver exception."""
    with pytest.raises(StorageError, match="cannot connect"):
        open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")


def test_otp_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """TWITTCOM_OTP_KEY is hex; without it each process draws a random key."""
    monkeypatch.setenv("TWITTCOM_OTP_KEY", "00" * 32)
    assert otp_key_from_env() == bytes(32)
    monkeypatch.setenv("TWITTCOM_OTP_KEY", "not hex")
    with pytest.raises(ConfigError):
        otp_key_from_env()
    monkeypatch.delenv("TWITTCOM_OTP_KEY")
    assert otp_key_from_env() != otp_key_from_env()


def test_operator_handle_reaches_the_parser() -> None:
    """Settings.operator_handle configures which tweets are addressed to the operator."""
    processor = build_processor(MemoryStore(), Settings(operator_handle="@OtherTelco", otp_key=b"k" * 32))
    assert processor.parser.operator_handle == "othertelco"
