"""The component boundaries of ARCHITECTURE.md, checked on the source (imports are parsed, not run)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {
    "twittcom", "twitter_text", "reference", "fake_twitter", "fake_sms", "scenario", "simulator", "loadtests",
}  # fmt: skip

#: package (or sub-package path) -> project packages it must never import
FORBIDDEN: dict[str, set[str]] = {
    "twitter_text": PROJECT - {"twitter_text"},
    "reference": {"fake_twitter", "fake_sms", "scenario", "simulator", "loadtests", "twittcom"},
    "fake_twitter": {"reference", "fake_sms", "scenario", "simulator", "loadtests", "twittcom"},
    "fake_sms": {"reference", "fake_twitter", "scenario", "simulator", "loadtests", "twittcom"},
    # the scenario file contract is pure: simulator/, loadtests/ and twittcom/ import it, it imports none
    "scenario": PROJECT - {"scenario"},
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


#: the longest a module of the distribution may be (ARCHITECTURE.md: small modules, < 400 lines)
MAX_MODULE_LINES = 400


@pytest.mark.parametrize("package", sorted(PROJECT))
def test_no_module_over_400_lines(package: str) -> None:
    """Every module of the distribution fits in :data:`MAX_MODULE_LINES` lines (no exceptions: a module
    that grows past it is split along a seam, its old import path kept by re-exports)."""
    long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them): {long}"


# --- inside reference/: layers (functional core, ports, adapters, runtime, one composition root) ---

#: every project module -> (its file, whether it is a package __init__)
def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for package in sorted(PROJECT):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


MODULES = _modules()


def _imported_modules(name: str) -> set[str]:
    """Project modules ``name`` imports anywhere in its source (also inside functions and under
    ``TYPE_CHECKING``: a lazy import is still a dependency), relative imports resolved."""
    path, is_package = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    wanted: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            wanted.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            for alias in node.names:
                wanted.append(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    found = set()
    for target in wanted:
        while target not in MODULES and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in MODULES and target != name:
            found.add(target)
    return found


GRAPH = {name: _imported_modules(name) for name in MODULES}

#: reference/ layer -> the reference/ modules or packages it may import (its own layer always)
REFERENCE_LAYERS: dict[str, tuple[str, ...]] = {
    "reference.domain": (),  # the functional core imports nothing of the project (but twitter_text)
    "reference.service": ("reference.domain",),  # handlers, processor and the ports
    "reference.storage": ("reference.domain", "reference.service"),  # adapters: ports, never runtime
    "reference.clients": ("reference.domain", "reference.service"),
    "reference.web": ("reference.domain", "reference.service"),
    # the runtime wires nothing itself: the engines come from bootstrap (the DSN parser is pure)
    "reference.runtime": ("reference.domain", "reference.service", "reference.clients", "reference.web",
                          "reference.storage.dsn"),  # fmt: skip
}


def _layer(name: str) -> str | None:
    return next((layer for layer in REFERENCE_LAYERS if name == layer or name.startswith(layer + ".")), None)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _layer(n) is not None))
def test_reference_layers(name: str) -> None:
    """Inside reference/: the domain imports nothing of the project, the service layer the domain
    only, adapters the ports (never the runtime), the runtime no storage engine and no bootstrap."""
    layer = _layer(name)
    assert layer is not None
    allowed = (layer, *REFERENCE_LAYERS[layer])
    bad = sorted(t for t in GRAPH[name] if t.startswith("reference") and not _within(t, allowed))
    assert not bad, f"{name} ({layer}) imports {bad}; it may import {allowed}"


def test_only_bootstrap_and_twittcom_wire_the_runtime() -> None:
    """Outside reference/runtime/ only the composition root (reference/bootstrap.py) and twittcom/
    import the runtime."""
    importers = sorted(
        name
        for name, targets in GRAPH.items()
        if any(_within(t, ("reference.runtime",)) for t in targets)
        and not _within(name, ("reference.runtime", "reference.bootstrap", "twittcom"))
    )
    assert importers == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    """The cycle check itself sees a cycle (so the next test cannot pass on a blind finder)."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    """No module of the distribution imports itself back through others (lazy imports count)."""
    assert len(GRAPH) > 100
    assert _cycles(GRAPH) == []
