"""Gateway faults against ``twittcom serve`` (SQLite): the SMS gateway unreachable, slow and frozen,
X answering 503. Afterwards: no duplicate SMS or reply at the gateways, nothing given up while
still valid, every SMS sent once with a final delivery status."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from click.testing import CliRunner
from rt_faults import Gate, fake_sms_process, x_stub
from rt_procs import (
    ADMIN,
    ServeProcess,
    free_port,
    prepare_linked_users,
    serve_in_thread,
    signed_mention,
    sms_copies,
    sms_duplicates,
)

from twittcom.cli import main

pytestmark = pytest.mark.slow

USERS = 30
PACKS = 4
PRICE = 4_900
FINAL = ("delivered", "undelivered", "failed", "read")


def _post_paced(url: str, events: list[tuple[str, bytes, dict[str, str]]], seconds: float) -> set[str]:
    accepted: set[str] = set()
    gap = seconds / max(1, len(events))
    with httpx.Client(base_url=url, timeout=10) as client:
        for tweet_id, body, headers in events:
            started = time.monotonic()
            response = client.post("/webhooks/x", content=body, headers=headers)
            if response.status_code == 200:
                accepted.add(tweet_id)
            time.sleep(max(0.0, gap - (time.monotonic() - started)))
    return accepted


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


FAULTS = {  # name: (seconds, what breaks)
    "sms-unreachable-60s": 60.0,
    "sms-slow-12s-for-25s": 25.0,
    "sms-frozen-30s": 30.0,
    "x-503-20s": 20.0,
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_gateway_faults_send_every_message_once(fault: str, tmp_path) -> None:
    """Purchases keep coming through the fault; afterwards every confirmation SMS and reply went once."""
    duration = FAULTS[fault]
    dsn = str(tmp_path / "serve.db")
    users = prepare_linked_users(dsn, USERS, PACKS * PRICE + 300)
    events = []
    for round_ in range(PACKS):
        for user_id, handle, _ in users:
            tweet_id = str(1_800_000_000_000_000_000 + round_ * 1000 + int(user_id))
            events.append((tweet_id, *signed_mention(tweet_id, user_id, handle, "@tatadocomo #act #TD49DEL")))
    x_app = x_stub()
    with fake_sms_process(tmp_path / "fake_sms.log") as sms, serve_in_thread(x_app) as x_url:
        gate = Gate(sms.port)
        serve = ServeProcess(dsn, x_url, free_port(), tmp_path / "serve.log", twilio=gate.url, extra_env={
            "TWITTCOM_LEASE_S": "30", "TWITTCOM_UNKNOWN_SETTLE_S": "15", "TWITTCOM_RETRY_MAX_DELAY_S": "5",
            "TWITTCOM_RECONCILE_INTERVAL_S": "5", "TWITTCOM_BACKLOG_WARN_S": "20",
        })  # fmt: skip
        serve.start()
        accepted: set[str] = set()
        sender = threading.Thread(
            target=lambda: accepted.update(_post_paced(serve.url, events, duration + 6))
        )
        sender.start()
        time.sleep(3)
        if fault.startswith("sms-unreachable"):
            gate.close()
            time.sleep(duration / 2)
            ready = httpx.get(serve.url + "/readyz", timeout=10).json()  # the backlog ages past 20 s
            time.sleep(duration / 2)
            gate.open()
            assert ready["ready"] and any("outbox backlog" in w for w in ready.get("warnings", [])), ready
        elif fault.startswith("sms-slow"):
            sms.faults(api_latency_ms=12_000)
            time.sleep(duration)
            sms.faults(api_latency_ms=0)
        elif fault.startswith("sms-frozen"):
            sms.freeze()
            time.sleep(duration)
            sms.thaw()
        else:
            x_app.state.failing = True
            time.sleep(duration)
            x_app.state.failing = False
        sender.join(timeout=120)
        assert len(accepted) == len(events), "the service refused purchases during a gateway fault"

        def drained() -> bool:
            queues = serve.stats()["queues"]
            return queues["inbound_pending"] == 0 and queues["outbox_pending"] == 0

        _wait(drained, 150, "the outbox to drain")
        conn = sqlite3.connect(dsn)
        unsettled = "SELECT count(*) FROM outbox WHERE kind = 'sms' AND (delivery_status IS NULL OR " \
            f"delivery_status NOT IN {FINAL})"  # fmt: skip
        _wait(lambda: conn.execute(unsettled).fetchone()[0] == 0, 90, "every SMS to get a final status")
        copies = sms_copies(gate.url)
        listing = CliRunner().invoke(main, ["outbox", "list", "--url", serve.url, "--admin-token", ADMIN])
        serve.terminate()
        gate.stop()

    rows = conn.execute("SELECT recipient, text FROM outbox WHERE kind = 'sms'").fetchall()
    duplicates = sms_duplicates(copies, [(r[0], r[1]) for r in rows])
    assert not duplicates, f"{sum(duplicates.values())} duplicate SMS, e.g. {list(duplicates)[:3]}"
    statuses = conn.execute("SELECT kind, status, count(*) FROM outbox GROUP BY kind, status").fetchall()
    assert {status for _, status, _ in statuses} == {"sent"}, f"rows not sent: {statuses}"
    assert listing.exit_code == 0 and "no failed or expired rows" in listing.output
    assert sum(copies.values()) == len(rows) >= len(events)
    replies: dict[str, int] = x_app.state.replies
    tweets = conn.execute("SELECT count(*) FROM outbox WHERE kind = 'tweet'").fetchone()[0]
    assert max(replies.values()) == 1 and sum(replies.values()) == tweets >= len(events), "a reply went twice"
    assert conn.execute("SELECT count(*) FROM activations").fetchone()[0] == len(events)
