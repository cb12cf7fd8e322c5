"""Fixtures for the simulator tests: the repository's scenarios folder and a small scenario file."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def scenarios_dir() -> Path:
    """The shipped scenarios."""
    return REPO / "scenarios"


@pytest.fixture
def smoke(scenarios_dir: Path) -> Path:
    """The CI-sized scenario."""
    return scenarios_dir / "ci-smoke.toml"


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write a scenario file from TOML text and return its path."""

    def write(text: str, name: str = "s.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def minimal() -> str:
    """The smallest valid scenario text: one constant segment."""
    return MINIMAL


MINIMAL = """
[[arrivals.segments]]
kind = "constant"
duration_s = 10
rate = 5
"""
