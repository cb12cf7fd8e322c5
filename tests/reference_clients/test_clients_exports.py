"""The package's curated API: every module declares a sorted, importable __all__."""

from __future__ import annotations

import importlib
import pkgutil

import reference.clients


def test_every_module_has_a_docstring_and_complete_all() -> None:
    """Each module under reference.clients has a docstring and an __all__ naming real attributes."""
    names = [m.name for m in pkgutil.iter_modules(reference.clients.__path__, "reference.clients.")]
    assert len(names) >= 7
    for name in [reference.clients.__name__, *names]:
        module = importlib.import_module(name)
        assert module.__doc__, name
        assert all(hasattr(module, attr) for attr in module.__all__), name


def test_package_all_is_sorted() -> None:
    """The package re-exports in sorted order (like httpx's own export test)."""
    assert reference.clients.__all__ == sorted(reference.clients.__all__)
