"""What an offered-load sweep measures: ``twittcom serve --processes N`` between a cheap sink and a store.

:func:`sweep_stack` prepares the store (``users`` linked subscribers with balance for every
activation, ``fresh`` unregistered numbers for ``#reg`` events; SQLite file or a PostgreSQL schema
of its own, dropped afterwards), starts :mod:`loadtests.sweep_sink` (X and Twilio as bare 201
answers, one process) and ``twittcom serve`` on loopback, and yields a :class:`SweepStack` that
reads what a step needs: CPU seconds per process from ``/proc``, queue depths from ``/metrics``,
and each event's times from the store (queued, outbox written, last outbound message accepted).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from loadtests.sweep_driver import fresh_number

__all__ = ["EventTimes", "SweepStack", "StackSpec", "sweep_stack"]

SECRET = "sweep-consumer-secret"
OPERATOR_ID = "900000000000000001"
_OTP_KEY = b"sweep-otp-key-0123456789abcdefgh"
_SID = "AC" + "0" * 32
_CODE = re.compile(r"code is (\d{6})")
_DEPTH = re.compile(r'twittcom_queue_depth\{queue="(inbound_pending|outbox_due)"\} ([0-9.e+]+)')
_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class StackSpec:
    """What to deploy: the store (SQLite path, ``sqlite`` for a temporary file, or a PostgreSQL
    DSN), service processes, workers per process and rows per group commit."""

    store: str = "sqlite"
    processes: int = 2
    workers: int = 1
    batch_size: int = 256
    users: int = 200
    fresh: int = 0


@dataclass(frozen=True)
class EventTimes:
    """Wall-clock epoch seconds of one event: queued, outbox rows written, last message accepted."""

    received: float
    created: float
    completed: float


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ticks() -> float:
    return float(os.sysconf("SC_CLK_TCK"))


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` so far; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _ticks()


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return found


class SweepStack:
    """The running deployment (see the module docstring)."""

    def __init__(self, url: str, sink_url: str, dsn: str, service_pid: int, sink_pid: int) -> None:
        self.url = url
        self.sink_url = sink_url
        self.dsn = dsn
        self.service_pid = service_pid
        self.sink_pid = sink_pid
        self._metrics = httpx.Client(base_url=url, timeout=30)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds so far: ``service`` (all its processes), ``service:<pid>`` each, ``sink``."""
        out = {f"service:{pid}": _cpu_of(pid) for pid in _descendants(self.service_pid)}
        out["service"] = sum(out.values())
        out["sink"] = _cpu_of(self.sink_pid)
        out["database"] = sum(_cpu_of(pid) for pid in self._database_pids())
        return out

    def our_pids(self) -> set[int]:
        """The deployment's processes: the service's, the sink's and the store's backends."""
        return {self.service_pid, *_descendants(self.service_pid), self.sink_pid, *self._database_pids()}

    def _database_pids(self) -> list[int]:
        """PostgreSQL backends serving this sweep's schema (named by ``application_name``)."""
        if not self.dsn.startswith(("postgresql://", "postgres://")):
            return []  # SQLite works inside the service processes
        import psycopg

        name = dict(parse_qsl(urlsplit(self.dsn).query)).get("application_name", "")
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()",
                (name,),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def depths(self) -> dict[str, float]:
        """Rows waiting now: ``inbound_pending`` and ``outbox_due`` (any process answers; the queue
        is the shared store's)."""
        text = self._metrics.get("/metrics").text
        return {name: float(value) for name, value in _DEPTH.findall(text)}

    def wait_drained(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            depths = self.depths()
            if len(depths) == 2 and not any(depths.values()):
                return
            time.sleep(0.1)
        raise RuntimeError(f"the service did not drain in {timeout:.0f} s")

    def event_times(self, first_id: int, count: int) -> dict[int, EventTimes]:
        """Times of tweets ``first_id .. first_id + count - 1`` whose outbound messages were all
        accepted upstream, keyed by index from ``first_id``."""
        # two range reads, no join: the outbox has no index on in_reply_to (nor should a sweep add one)
        queued = (
            "SELECT message_id, received_at FROM inbound_queue WHERE channel = 'tweet' "
            "AND message_id BETWEEN {p} AND {p}"
        )
        sent = ("SELECT in_reply_to, min(created_at), max(sent_at), count(*) - count(sent_at) FROM outbox "
                "WHERE in_reply_to BETWEEN {p} AND {p} GROUP BY in_reply_to")  # fmt: skip
        lo, hi = str(first_id), str(first_id + count - 1)
        if self.dsn.startswith(("postgresql://", "postgres://")):
            import psycopg

            with psycopg.connect(self.dsn) as conn:
                received = conn.execute(queued.format(p="%s"), (lo, hi)).fetchall()  # type: ignore[arg-type]
                outbound = conn.execute(sent.format(p="%s"), (lo, hi)).fetchall()  # type: ignore[arg-type]
        else:
            import sqlite3

            conn3 = sqlite3.connect(self.dsn)
            try:
                received = conn3.execute(queued.format(p="?"), (lo, hi)).fetchall()
                outbound = conn3.execute(sent.format(p="?"), (lo, hi)).fetchall()
            finally:
                conn3.close()
        at = {str(r[0]): r[1] for r in received}
        return {
            int(r[0]) - first_id: EventTimes(at[str(r[0])] / 1e6, r[1] / 1e6, r[2] / 1e6)
            for r in outbound
            if r[3] == 0 and r[2] is not None and str(r[0]) in at
        }

    def close(self) -> None:
        self._metrics.close()


def _prepare(dsn: str, users: int, fresh: int) -> None:
    from reference.bootstrap import Settings, build_processor, open_store
    from reference.domain.commands import Inbound
    from reference.domain.otp import SeededOtpSource
    from reference.domain.outcomes import SendSms
    from reference.domain.subscribers import Subscriber
    from reference.service.ports import SystemClock

    store = open_store(dsn)
    try:
        store.add_subscribers(Subscriber(f"+9198{n:08d}", "DL", 50_000_000) for n in range(users))
        store.add_subscribers(Subscriber(fresh_number(n), "DL", 50_000_000) for n in range(fresh))
        processor = build_processor(
            store, Settings(otp_key=_OTP_KEY), clock=SystemClock(), otp_source=SeededOtpSource(1)
        )
        for n in range(users):
            user, handle = str(10_000 + n), f"user{n}"
            sent = processor.process(
                Inbound("tweet", f"r{n}", user, handle, f"@tatadocomo #reg +9198{n:08d}", datetime.now(UTC))
            )
            code = next(
                m.group(1) for e in sent.effects if isinstance(e, SendSms) and (m := _CODE.search(e.text))
            )
            processor.process(
                Inbound("tweet", f"v{n}", user, handle, f"@tatadocomo {code}", datetime.now(UTC))
            )
    finally:
        store.close()


def _service_env(dsn: str, sink: str, spec: StackSpec) -> dict[str, str]:
    return {
        "TWITTCOM_DSN": dsn,
        "TWITTCOM_OPERATOR_USER_ID": OPERATOR_ID,
        "TWITTCOM_X_USER_TOKEN": "t",
        "TWITTCOM_X_BASE_URL": sink,
        "TWITTCOM_X_CONSUMER_SECRET": SECRET,
        "TWITTCOM_TWILIO_ACCOUNT_SID": _SID,
        "TWITTCOM_TWILIO_AUTH_TOKEN": "x",
        "TWITTCOM_TWILIO_BASE_URL": sink,
        "TWITTCOM_TWILIO_FROM": "54321",
        "TWITTCOM_ADMIN_TOKEN": secrets.token_urlsafe(12),
        "TWITTCOM_OTP_KEY": _OTP_KEY.hex(),
        "TWITTCOM_WEB_SECRET": secrets.token_urlsafe(24),
        "TWITTCOM_X_USER_TWEET_LIMIT": "0",
        "TWITTCOM_X_APP_TWEET_LIMIT": "0",
        "TWITTCOM_BATCH_SIZE": str(spec.batch_size),
        "TWITTCOM_WORKERS": str(spec.workers),
        "TWITTCOM_DISPATCH_BATCH": "64",
        "TWITTCOM_DISPATCH_CONCURRENCY": "64",
        "TWITTCOM_WEB_RATE_LIMIT": "0",
    }


def _wait_http(url: str, process: subprocess.Popen[bytes], output: Any, what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            output.seek(0)
            raise RuntimeError(f"{what} did not start: {output.read()[-2000:]!r}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)


@contextlib.contextmanager
def _child(command: list[str], env: dict[str, str], probe_url: str, what: str) -> Iterator[int]:
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command, cwd=_ROOT, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            _wait_http(probe_url, process, output, what)
            yield process.pid
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextlib.contextmanager
def _store_dsn(store: str) -> Iterator[str]:
    if store.startswith(("postgresql://", "postgres://")):
        import psycopg

        schema = f"sweep_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(store, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")  # type: ignore[arg-type]
        parts = urlsplit(store)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("options", "application_name")]
        query += [("options", f"-csearch_path={schema}"), ("application_name", schema)]
        try:
            yield urlunsplit(parts._replace(query=urlencode(query)))
        finally:
            with psycopg.connect(store, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")  # type: ignore[arg-type]
    elif store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="twittcom-sweep-") as folder:
            yield str(Path(folder) / "sweep.db")
    else:
        if Path(store).exists():
            raise RuntimeError(f"{store} exists; a sweep starts from a fresh store")
        yield store


@contextlib.contextmanager
def sweep_stack(spec: StackSpec) -> Iterator[SweepStack]:
    """The deployment of ``spec`` on loopback for the length of the block."""
    with _store_dsn(spec.store) as dsn:
        _prepare(dsn, spec.users, spec.fresh)
        sink_port, port = _free_port(), _free_port()
        sink_url, url = f"http://127.0.0.1:{sink_port}", f"http://127.0.0.1:{port}"
        sink_cmd = [sys.executable, "-m", "loadtests.sweep_sink", str(sink_port)]
        serve_cmd = [
            sys.executable,
            "-c",
            "from twittcom.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--processes",
            str(spec.processes),
        ]
        with (
            _child(sink_cmd, {}, sink_url + "/_count", "the sink") as sink_pid,
            _child(serve_cmd, _service_env(dsn, sink_url, spec), url + "/healthz", "twittcom serve") as pid,
        ):
            stack = SweepStack(url, sink_url, dsn, pid, sink_pid)
            try:
                stack.wait_drained(120)  # the set-up's own codes and replies go out first
                yield stack
            finally:
                stack.close()
