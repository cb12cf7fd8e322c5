"""The public names of the stack and QA modules: each module's __all__ is sorted and every name exists."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "twittcom.stack", "twittcom.stack_base", "twittcom.stack_control", "twittcom.stack_loopback",
    "twittcom.stack_options",
    "twittcom.stack_demo", "twittcom.qa", "twittcom.qa.client", "twittcom.qa.replies", "twittcom.qa.scenario",
    "twittcom.qa.suite", "twittcom.qa.webhooks", "twittcom.commands.up", "twittcom.commands.scenarios",
    "twittcom.commands.stackdemo",
]  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_module_exports_are_sorted_and_defined(name: str) -> None:
    """__all__ lists defined names in sorted order (httpx's convention)."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names undefined {missing}"
