"""Every public module of ``reference`` declares ``__all__``, sorted, naming only what it defines."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import reference

# this suite's own modules (other parts of ``reference`` such as web/, clients/, runtime/ and the
# work-queue stores have their own tests)
OWN_PACKAGES = ("reference.domain.", "reference.service.", "reference.storage.migrations")
OWN_MODULES = {
    "reference.domain", "reference.service", "reference.storage", "reference.storage.memory",
    "reference.storage.sqlite", "reference.storage.postgres", "reference.storage.rows",
    "reference.storage.timeconv", "reference.bootstrap", "reference.population", "reference.demo",
    "reference.crm", "reference.data",
}  # fmt: skip


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(reference.__path__, "reference."):
        if info.name in OWN_MODULES or info.name.startswith(OWN_PACKAGES):
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_module_declares_sorted_complete_all(name: str) -> None:
    """__all__ exists, is sorted, and every listed name resolves."""
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported)
    for symbol in exported:
        assert hasattr(module, symbol), f"{name}.__all__ lists missing {symbol}"
    assert module.__doc__, f"{name} has no module docstring"
