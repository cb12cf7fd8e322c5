"""What a storm of CI's size can earn from ``twittcom storm --check`` (:mod:`loadtests.judge`).

A minute or two of arrivals judges code p50 and activations/s, but a code p95 over a few hundred
codes has a 95 % interval of +-15-35 %: wider than the tolerance band, so it is "too few samples to
judge" (exit 3) unless the run is long enough. What such a run must show: no acceptance figure
disagrees or is missing, the ones named are judged and agree, and every unjudged one is said, with
what would tell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from twittcom.prechecks import EXIT_PASS, EXIT_UNJUDGED


def assert_check_earned(
    exit_code: int, output: str, comparison: Mapping[str, Any], judged: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Assert the above; return the acceptance figures by name."""
    context = output + "\n" + "\n".join(comparison["failures"] + comparison["unjudged"])
    assert comparison["failures"] == [], context
    assert exit_code == (EXIT_PASS if comparison["judged"] else EXIT_UNJUDGED), context
    accepted = {f["figure"]: f for f in comparison["figures"] if f["acceptance"]}
    for name, figure in accepted.items():
        assert figure["verdict"] in ("agrees", "too few samples"), (name, figure)
    for name in judged:
        assert accepted[name]["verdict"] == "agrees", (name, accepted[name], context)
    for line in comparison["unjudged"]:
        assert "needed" in line or "seeds" in line or "run longer" in line, line
        assert f"CHECK NOT JUDGED {line}" in output, output
    return accepted
