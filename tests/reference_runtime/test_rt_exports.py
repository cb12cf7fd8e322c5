"""The runtime package's public surface: every module declares ``__all__`` and every name resolves."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import reference.runtime

MODULES = sorted(m.name for m in pkgutil.iter_modules(reference.runtime.__path__, "reference.runtime."))


@pytest.mark.parametrize("name", MODULES)
def test_module_declares_all_with_resolvable_names(name: str) -> None:
    """Each module lists its public names in __all__, and each of them exists."""
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{name} has no __all__"
    assert [n for n in exported if not hasattr(module, n)] == []


def test_package_reexports_resolve_and_are_unique() -> None:
    """The package's __all__ has no duplicates and every name is importable from it."""
    exported = reference.runtime.__all__
    assert len(exported) == len(set(exported))
    assert [n for n in exported if not hasattr(reference.runtime, n)] == []
