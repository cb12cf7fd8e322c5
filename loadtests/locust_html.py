"""locust's ``--html`` report, made to read right: HTTP requests apart from the journey metrics.

The journeys fire their latencies (``JOURNEY``) and outcomes (``OUTCOME``) as locust request rows
(:mod:`loadtests.metrics`) so the CSV files carry them; in locust's own HTML they would sit among
the HTTP requests and inflate its "Aggregated" row (a p95 of 380 ms that no request had). After
the run this rewrites the page's data (``window.templateArgs``): the request and response-time
tables keep the HTTP rows alone (the mixed "Aggregated" row is left out: its percentiles cannot be
taken apart), and a section above locust's app opens with the verdict (thresholds passed or which
failed, code latency) and lists the journey metrics and outcomes in tables of their own, with a
note that locust's "users" are the Little's-law pool of concurrent journeys, not a user count.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loadtests.metrics import JOURNEY, OUTCOME

__all__ = ["separate_journeys", "verdict_sentence"]

_ARGS = re.compile(r"(window\.templateArgs = )(\{.*?\})(\s*\n|\s*</script>|;)", re.S)


def verdict_sentence(summary: Mapping[str, Any]) -> str:
    """One sentence from the run's summary: passed or which thresholds failed, and code latency."""
    results = summary.get("thresholds", [])
    failed = [r["expression"] for r in results if not r["passed"]]
    if not results:
        text = "No thresholds were checked"
    elif failed:
        text = f"FAILED {len(failed)} of {len(results)} thresholds: {', '.join(failed)}"
    else:
        text = f"Passed all {len(results)} thresholds"
    f = summary.get("figures", {})
    if f.get("code_count"):
        p50, p95 = f.get("code_p50", 0.0), f.get("code_p95", 0.0)
        text += (
            f"; codes reached the handset in p50 {p50:.3g} s, p95 {p95:.3g} s ({int(f['code_count'])} codes)"
        )
    return text + "."


def _table(rows: list[dict[str, Any]], title: str, columns: tuple[tuple[str, str], ...]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _ in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(key, '')))}</td>" for _, key in columns) + "</tr>"
        for row in rows
    )
    return f"<h2>{html.escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


def separate_journeys(path: str | Path, summary: Mapping[str, Any]) -> bool:
    """Rewrite locust's HTML at ``path`` in place; False when it holds no ``templateArgs`` to rewrite."""
    page = Path(path).read_text(encoding="utf-8")
    match = _ARGS.search(page)
    if match is None:
        return False
    args = json.loads(match.group(2))
    rows = args.get("requests_statistics", [])
    journeys = [r for r in rows if r.get("method") == JOURNEY]
    outcomes = [r for r in rows if r.get("method") == OUTCOME]
    pseudo = {JOURNEY, OUTCOME}

    def http(r: Mapping[str, Any]) -> bool:
        return r.get("method") not in pseudo and r.get("name") != "Aggregated"

    args["requests_statistics"] = [r for r in rows if http(r)]
    args["response_time_statistics"] = [r for r in args.get("response_time_statistics", []) if http(r)]
    latency = (("metric", "name"), ("count", "num_requests"), ("median ms", "median_response_time"),
               ("p95 ms", "response_time_percentile_0.95"), ("p99 ms", "response_time_percentile_0.99"),
               ("max ms", "max_response_time"))  # fmt: skip
    section = (
        "<section id='twittcom' style='font-family:sans-serif;max-width:70rem;margin:1rem auto'>"
        f"<p id='verdict'><b>{html.escape(verdict_sentence(summary))}</b></p>"
        "<p>The request tables below hold the HTTP requests alone; the journeys' own figures are here. "
        "locust's \"users\" are the pool of concurrent journeys sized by Little's law for the scenario's "
        "arrival rate (open model), not a number of subscribers; its response-time chart covers every "
        "row, journeys included.</p>"
        + _table(journeys, "Journey metrics (milliseconds)", latency)
        + _table(outcomes, "Journey outcomes", (("actor:outcome", "name"), ("count", "num_requests")))
        + "</section>"
    )
    rewritten = page[: match.start(2)] + json.dumps(args) + page[match.end(2) :]
    rewritten = (
        rewritten.replace("<body>", "<body>" + section, 1) if "<body>" in rewritten else section + rewritten
    )
    Path(path).write_text(rewritten, encoding="utf-8")
    return True
