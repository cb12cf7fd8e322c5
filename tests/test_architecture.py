"""The component boundaries of ARCHITECTURE.md, checked on the source (imports are parsed, not run)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"twittcom", "twitter_text", "reference", "fake_twitter", "fake_sms", "simulator", "loadtests"}

#: package (or sub-package path) -> project packages it must never import
FORBIDDEN: dict[str, set[str]] = {
    "twitter_text": PROJECT - {"twitter_text"},
    "reference": {"fake_twitter", "fake_sms", "simulator", "loadtests", "twittcom"},
    "fake_twitter": {"reference", "fake_sms", "simulator", "loadtests", "twittcom"},
    "fake_sms": {"reference", "fake_twitter", "simulator", "loadtests", "twittcom"},
    "simulator": {"reference", "fake_twitter", "fake_sms", "loadtests", "twittcom"},
    "loadtests": {"reference", "fake_twitter", "fake_sms", "twittcom"},
    "twittcom/qa": {"reference", "fake_twitter", "fake_sms"},
}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _cases() -> list[tuple[str, Path]]:
    cases = []
    for package in FORBIDDEN:
        folder = ROOT / package
        cases.extend((package, path) for path in sorted(folder.rglob("*.py")))
    return cases


@pytest.mark.parametrize(("package", "path"), _cases(), ids=lambda v: str(v).removeprefix(str(ROOT) + "/"))
def test_component_imports_stay_inside_their_boundary(package: str, path: Path) -> None:
    """No component imports another it must reach only over HTTP or through typed events."""
    bad = _imported_roots(path) & FORBIDDEN[package]
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}, which {package} must not import"


@pytest.mark.parametrize("package", sorted(PROJECT))
def test_every_module_starts_with_postponed_annotations(package: str) -> None:
    """Each module of the distribution opens with a docstring and `from __future__ import annotations`."""
    missing = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not tree.body:
            continue
        has_future = any(
            isinstance(node, ast.ImportFrom) and node.module == "__future__" for node in tree.body[:3]
        )
        if not has_future or ast.get_docstring(tree) is None:
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"modules without a docstring or postponed annotations: {missing}"


@pytest.mark.parametrize("package", sorted(PROJECT))
def test_public_names_exist(package: str) -> None:
    """Every name a package exports in ``__all__`` is really there."""
    module = importlib.import_module(package)
    for name in getattr(module, "__all__", []):
        assert hasattr(module, name), f"{package}.__all__ names {name!r}, which it does not define"
