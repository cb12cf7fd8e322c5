"""The whole QA suite: every scenario module registered, run against a stack, reported.

Importing this module registers the scenarios (registration, commerce, resilience) in the order
they run; :func:`run_suite` runs a selection against ``endpoints`` and writes JUnit XML.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from pathlib import Path

from twittcom.qa.client import Endpoints, StackClient
from twittcom.qa.scenario import SCENARIOS, Result, Scenario, run_scenarios, select, write_junit

__all__ = ["MODULES", "SCENARIOS", "run_suite", "select"]

#: the modules whose scenarios make up the suite (imported for their registrations)
MODULES = tuple(
    importlib.import_module(f"twittcom.qa.scenarios_{group}")
    for group in ("registration", "commerce", "resilience")
)


async def run_suite(
    endpoints: Endpoints,
    scenarios: Iterable[Scenario] | None = None,
    *,
    junit: Path | None = None,
    seed: int | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Run ``scenarios`` (all by default) against ``endpoints``; write JUnit XML to ``junit``."""
    chosen = list(scenarios) if scenarios is not None else select()
    async with StackClient(endpoints) as client:
        results = await run_scenarios(client, chosen, seed=seed, on_result=on_result)
    if junit is not None:
        write_junit(results, junit)
    return results
