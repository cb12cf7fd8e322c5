"""locust's HTML report keeps the HTTP requests apart from the journeys' pseudo-requests."""

from __future__ import annotations

import json
import re

from loadtests.locust_html import separate_journeys, verdict_sentence


def _row(method: str, name: str, n: int, p95: float) -> dict[str, object]:
    return {"method": method, "name": name, "num_requests": n, "median_response_time": p95 / 2,
            "response_time_percentile_0.95": p95, "response_time_percentile_0.99": p95,
            "max_response_time": p95}  # fmt: skip


def _page(rows: list[dict[str, object]]) -> str:
    args = {"requests_statistics": rows, "response_time_statistics": rows, "history": []}
    return (
        "<!doctype html><html><head></head><body><div id='root'></div>"
        f"<script>window.templateArgs = {json.dumps(args)}\nwindow.theme = 'light'</script></body></html>"
    )


SUMMARY = {
    "thresholds": [
        {"expression": "error_rate<1%", "passed": True},
        {"expression": "code_p95<10s", "passed": False},
    ],
    "figures": {"code_count": 39.0, "code_p50": 0.445, "code_p95": 11.5},
}


def test_http_rows_stay_in_locusts_tables_and_journeys_get_their_own(tmp_path):
    rows = [
        _row("POST", "POST /2/tweets #reg", 120, 12.0),
        _row("GET", "GET handset messages", 300, 3.0),
        _row("JOURNEY", "code_latency", 39, 11500.0),
        _row("OUTCOME", "new_subscriber:registered", 39, 0.0),
        _row("", "Aggregated", 498, 380.0),
    ]
    path = tmp_path / "locust.html"
    path.write_text(_page(rows))
    assert separate_journeys(path, SUMMARY)
    page = path.read_text()
    args = json.loads(re.search(r"window\.templateArgs = (\{.*?\})\n", page, re.S)[1])
    names = [r["name"] for r in args["requests_statistics"]]
    assert names == ["POST /2/tweets #reg", "GET handset messages"]  # no pseudo rows, no mixed aggregate
    assert [r["name"] for r in args["response_time_statistics"]] == names
    section = page[page.index("<section id='twittcom'") : page.index("</section>")]
    assert page.index("<section id='twittcom'") < page.index("<div id='root'>")  # read first
    assert "code_latency" in section and "11500.0" in section and "new_subscriber:registered" in section
    assert "Little's law" in section


def test_the_verdict_names_the_failed_thresholds_and_the_code_latency():
    assert verdict_sentence(SUMMARY) == (
        "FAILED 1 of 2 thresholds: code_p95<10s; codes reached the handset in p50 0.445 s, "
        "p95 11.5 s (39 codes)."
    )
    assert verdict_sentence({"thresholds": [], "figures": {}}) == "No thresholds were checked."
