"""What a load run sends and reports: :class:`RequestSpec`, :class:`LoadResult` and :class:`LoadError`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LoadError", "LoadResult", "RequestSpec", "percentile", "summarise"]


class LoadError(RuntimeError):
    """The load could not run at all (bad URL, nothing listening, no request to send)."""


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One HTTP request: method, path (with query), extra headers and body bytes."""

    method: str = "GET"
    path: str = "/"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def serialise(self, host: str) -> bytes:
        """The request as HTTP/1.1 bytes with Host and (when there is a body) Content-Length."""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load run measured. Latencies are milliseconds; ``errors`` counts failed exchanges."""

    requests: int
    seconds: float
    rps: float
    statuses: dict[int, int]
    errors: int
    error_samples: tuple[str, ...]
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    connections: int
    client: str = "loadgen"
    notes: dict[str, Any] = field(default_factory=dict)

    def ok(self, *statuses: int) -> int:
        """How many answers had one of ``statuses`` (default: any 2xx)."""
        if statuses:
            return sum(self.statuses.get(status, 0) for status in statuses)
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)

    def summary(self) -> str:
        """One line: client, rate, answers by status, errors and latency percentiles."""
        statuses = " ".join(f"{status}x{count}" for status, count in sorted(self.statuses.items()))
        return (f"{self.client}: {self.rps:,.0f} req/s ({self.requests} in {self.seconds:.2f}s, "
                f"{self.connections} conns; {statuses}; errors {self.errors}; "
                f"p50 {self.latency_p50_ms:.2f} ms, p95 {self.latency_p95_ms:.2f} ms, "
                f"p99 {self.latency_p99_ms:.2f} ms{self._cpu_note()})")

    def _cpu_note(self) -> str:
        cost = self.notes.get("client_cpu_us_per_request")
        return f"; client cpu {cost} us/req" if cost is not None else ""


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def summarise(client: str, connections: int, seconds: float, statuses: Mapping[int, int],
              latencies_ns: Iterable[int], errors: int, error_samples: Sequence[str]) -> LoadResult:
    """Turn raw counts into a :class:`LoadResult`."""
    latencies = sorted(value / 1e6 for value in latencies_ns)
    answered = sum(statuses.values())
    return LoadResult(
        requests=answered,
        seconds=seconds,
        rps=answered / seconds if seconds > 0 else 0.0,
        statuses=dict(statuses),
        errors=errors,
        error_samples=tuple(error_samples),
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p95_ms=percentile(latencies, 0.95),
        latency_p99_ms=percentile(latencies, 0.99),
        connections=connections,
        client=client,
    )
