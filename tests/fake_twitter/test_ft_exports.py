"""The package's public surface: curated, sorted and importable."""

from __future__ import annotations

import importlib

import fake_twitter

MODULES = [
    "app",
    "auth",
    "backend",
    "clock",
    "control",
    "delivery",
    "exceptions",
    "faults",
    "http",
    "models",
    "oauth1",
    "params",
    "ratelimits",
    "routes_dms",
    "routes_tweets",
    "routes_users",
    "routes_webhooks",
    "snowflake",
    "stores",
    "timeline",
    "views",
    "webhooks",
]


def test_all_is_sorted_and_resolves():
    """fake_twitter.__all__ is sorted and every name in it exists."""
    assert fake_twitter.__all__ == sorted(fake_twitter.__all__)
    for name in fake_twitter.__all__:
        assert getattr(fake_twitter, name) is not None


def test_every_module_declares_all_and_a_docstring():
    """Each module has a docstring and an __all__ whose names exist."""
    for name in MODULES:
        module = importlib.import_module(f"fake_twitter.{name}")
        assert module.__doc__ and module.__doc__.strip(), name
        for exported in module.__all__:
            assert hasattr(module, exported), (name, exported)
