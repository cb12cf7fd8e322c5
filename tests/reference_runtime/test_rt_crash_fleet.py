"""Crash safety at scale, reconciled against the gateways: 500 subscribers register (#reg, then the
code from their SMS) and buy 4 packs each while service processes are SIGKILLed mid-run
(PostgreSQL with ``serve --processes 2``: a worker killed 3 times, uvicorn restarts it; SQLite with
one process: killed and restarted 3 times). Then drain and reconcile: no lost event, no double
debit, no SMS or reply at the gateways twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from rt_faults import fake_sms_process, x_stub
from rt_procs import (
    TWILIO_SID,
    TWILIO_TOKEN,
    ServeProcess,
    free_port,
    serve_in_thread,
    signed_mention,
    sms_copies,
    sms_duplicates,
)

from reference.bootstrap import open_store
from reference.domain.subscribers import Subscriber

pytestmark = pytest.mark.slow

USERS = 500
PACKS = 4
PRICE = 4_900
KILLS = 3
_CODE = re.compile(r"code is (\d{6})")

Event = tuple[str, bytes, dict[str, str]]


def _subscribers(dsn: str) -> list[tuple[str, str, str]]:
    store = open_store(dsn)
    users = [(str(500 + i), f"user{i}", f"+9198{i:08d}") for i in range(USERS)]
    store.add_subscribers(Subscriber(number, "DL", PACKS * PRICE + 300) for _, _, number in users)
    store.close()
    return users


def _mention(tweet_id: str, user: tuple[str, str, str], text: str) -> Event:
    return (tweet_id, *signed_mention(tweet_id, user[0], user[1], f"@tatadocomo {text}"))


def _post_all(url: Callable[[], str], events: list[Event], posted: list[int]) -> None:
    """Post every event until it is answered 200 (X redelivers what a dead service did not take)."""
    with httpx.Client(timeout=10) as client:
        for _, body, headers in events:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if client.post(url() + "/webhooks/x", content=body, headers=headers).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError("the service never took an event back")
                time.sleep(0.1)
            posted[0] += 1


def _codes(twilio_url: str) -> dict[str, str]:
    codes: dict[str, str] = {}
    url: str | None = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json?PageSize=1000"
    with httpx.Client(base_url=twilio_url, auth=(TWILIO_SID, TWILIO_TOKEN), timeout=30) as client:
        while url:
            page = client.get(url).raise_for_status().json()
            for m in page["messages"]:
                found = _CODE.search(m["body"])
                if found:
                    codes.setdefault(m["to"], found.group(1))  # newest first
            url = page.get("next_page_uri")
    return codes


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
    kids = []
    for child in out.split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"resource_tracker" not in cmdline:
            kids.append(int(child))
    return kids


class Fleet:
    """``twittcom serve`` with 1 or 2 processes; :meth:`kill_one` SIGKILLs a service process."""

    def __init__(self, serve: ServeProcess, processes: int) -> None:
        self.serve = serve
        self.processes = processes
        self.kills = 0

    def kill_one(self) -> None:
        assert self.serve.process is not None
        if self.processes == 1:
            self.serve.kill()
            self.serve.start()  # same port: the posting thread carries on
        else:
            workers = _children(self.serve.process.pid)
            assert len(workers) == self.processes, f"workers: {workers}"
            os.kill(workers[self.kills % len(workers)], signal.SIGKILL)  # uvicorn starts another
        self.kills += 1


def _run_phase(fleet: Fleet, events: list[Event], kill_at: list[float]) -> None:
    posted = [0]
    sender = threading.Thread(target=_post_all, args=(lambda: fleet.serve.url, events, posted))
    sender.start()
    for fraction in kill_at:
        while sender.is_alive() and posted[0] < fraction * len(events):
            time.sleep(0.01)
        fleet.kill_one()
    sender.join(timeout=600)
    assert posted[0] == len(events)


def _drained(serve: ServeProcess, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stats = serve.stats()
            if stats["queues"]["inbound_pending"] == 0 and stats["queues"]["outbox_pending"] == 0:
                return stats
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"not drained: {serve.stats()}")


def _query(dsn: str) -> Callable[[str], list[tuple[Any, ...]]]:
    if dsn.startswith("postgresql://"):
        import psycopg

        conn: Any = psycopg.connect(dsn, autocommit=True)
    else:
        import sqlite3

        conn = sqlite3.connect(dsn)
    return lambda sql: list(conn.execute(sql).fetchall())


@pytest.mark.parametrize("engine", ["postgres-2-processes", "sqlite-1-process"])
def test_sigkills_lose_nothing_and_send_nothing_twice(engine: str, tmp_path: Path, request) -> None:
    """Registrations and purchases of 500 subscribers through 3 SIGKILLs: reconciled exactly."""
    if engine.startswith("postgres"):
        request.applymarker(pytest.mark.postgres)
        dsn, processes = request.getfixturevalue("pg_schema_factory")(), 2
    else:
        dsn, processes = str(tmp_path / "serve.db"), 1
    users = _subscribers(dsn)
    x_app = x_stub()
    with fake_sms_process(tmp_path / "fake_sms.log") as sms, serve_in_thread(x_app) as x_url:
        env = {"TWITTCOM_LEASE_S": "10", "TWITTCOM_PROCESSES": str(processes), "TWITTCOM_WORKERS": "2"}
        serve = ServeProcess(dsn, x_url, free_port(), tmp_path / "serve.log", twilio=sms.url, extra_env=env)
        serve.start()
        fleet = Fleet(serve, processes)
        _run_phase(fleet, [_mention(f"9{i:05d}1", u, f"#reg {u[2]}") for i, u in enumerate(users)], [0.5])
        _drained(serve, 300)
        codes = _codes(sms.url)
        assert len(codes) == USERS, f"{USERS - len(codes)} code SMS never went out"
        verify = [_mention(f"9{i:05d}2", u, codes[u[2]]) for i, u in enumerate(users)]
        _run_phase(fleet, verify, [])
        _drained(serve, 300)
        buys = [
            _mention(f"9{i:05d}{3 + r}", u, "#act #TD49DEL")
            for r in range(PACKS)
            for i, u in enumerate(users)
        ]
        _run_phase(fleet, buys, [0.3, 0.7])
        _drained(serve, 300)
        copies = sms_copies(sms.url)
        serve.terminate()
    assert fleet.kills == KILLS
    query = _query(dsn)
    inbox = {row[0] for row in query("SELECT message_id FROM inbox WHERE channel = 'tweet'")}
    posted = {event[0] for event in verify + buys} | {f"9{i:05d}1" for i in range(USERS)}
    assert posted <= inbox, f"{len(posted - inbox)} events acknowledged and lost"
    assert query("SELECT count(*) FROM inbound_queue WHERE NOT done")[0][0] == 0
    twice = query("SELECT count(*) FROM (SELECT message_id FROM activations GROUP BY message_id "
                  "HAVING count(*) > 1) AS t")[0][0]  # fmt: skip
    assert twice == 0, f"{twice} purchases debited twice"
    assert query("SELECT count(*) FROM activations")[0][0] == USERS * PACKS
    balance = query("SELECT sum(balance_paise) FROM subscribers")[0][0]
    assert balance == USERS * (PACKS * PRICE + 300) - USERS * PACKS * PRICE
    statuses = {row[0] for row in query("SELECT DISTINCT status FROM outbox")}
    assert statuses == {"sent"}, f"outbox rows not sent: {statuses}"
    rows = query("SELECT recipient, text FROM outbox WHERE kind = 'sms'")
    duplicates = sms_duplicates(copies, [(r[0], r[1]) for r in rows])
    assert not duplicates, f"{sum(duplicates.values())} duplicate SMS, e.g. {list(duplicates)[:3]}"
    assert sum(copies.values()) == len(rows)
    replies: dict[str, int] = x_app.state.replies
    assert max(replies.values()) == 1, f"{sum(n - 1 for n in replies.values())} replies went twice"
    assert sum(replies.values()) == query("SELECT count(*) FROM outbox WHERE kind = 'tweet'")[0][0]
