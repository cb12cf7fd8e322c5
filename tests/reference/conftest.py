"""Fixtures for the reference processor's tests (helpers live in ``refworld``)."""

from __future__ import annotations

import pytest
from refworld import OTP_KEY, FakeClock, World, make_world

from reference.bootstrap import Settings
from reference.domain.catalog import Catalog, default_catalog_path, load_catalog
from reference.storage.memory import MemoryStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(default_catalog_path())


@pytest.fixture
def settings() -> Settings:
    return Settings(otp_key=OTP_KEY)


@pytest.fixture
def world(clock: FakeClock, catalog: Catalog, settings: Settings) -> World:
    """A world on the in-memory store."""
    return make_world(MemoryStore(), clock, catalog, settings)
