"""Crash safety of ``twittcom serve`` on SQLite: SIGKILL mid-run, restart, drain, audit the ledger."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time

import httpx
import pytest
from rt_procs import (
    ServeProcess,
    free_port,
    prepare_linked_users,
    serve_in_thread,
    signed_mention,
    sms_copies,
    sms_duplicates,
    stub_upstream,
)

from fake_sms.app import create_app as create_sms_fake

pytestmark = pytest.mark.slow

USERS = 30
BALANCE = 15_000  # three Rs 49 packs each, then "insufficient balance"
PRICE = 4_900


def _post_all(
    url: str, events: list[tuple[str, bytes, dict[str, str]]], accepted: set[str], stop: threading.Event
) -> None:
    with httpx.Client(base_url=url, timeout=5) as client:
        for tweet_id, body, headers in events:
            if stop.is_set():
                return
            try:
                response = client.post("/webhooks/x", content=body, headers=headers)
            except httpx.HTTPError:
                return  # the server died under us
            if response.status_code == 200:
                accepted.add(tweet_id)


def test_sigkill_mid_run_loses_no_accepted_event_and_debits_once(tmp_path) -> None:
    """Every webhook event answered 200 before a SIGKILL is processed after restart, none debits twice."""
    dsn = str(tmp_path / "serve.db")
    users = prepare_linked_users(dsn, USERS, BALANCE)
    events = []
    for round_ in range(8):
        for user_id, handle, _ in users:
            tweet_id = str(1_800_000_000_000_000_000 + round_ * 1000 + int(user_id))
            body, headers = signed_mention(tweet_id, user_id, handle, "@tatadocomo #act #TD49DEL")
            events.append((tweet_id, body, headers))
    # X redelivers: every tenth event comes twice.
    events += [events[i] for i in range(0, len(events), 10)]

    with serve_in_thread(stub_upstream()) as upstream, serve_in_thread(create_sms_fake()) as twilio:
        serve = ServeProcess(dsn, upstream, free_port(), tmp_path / "serve.log", twilio=twilio)
        serve.start()
        accepted: set[str] = set()
        stop = threading.Event()
        sender = threading.Thread(target=_post_all, args=(serve.url, events, accepted, stop))
        sender.start()
        deadline = time.monotonic() + 30
        while len(accepted) < len(events) // 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        serve.kill()  # SIGKILL: no shutdown, leases left behind
        stop.set()
        sender.join(timeout=30)
        accepted_before_crash = set(accepted)
        assert accepted_before_crash, "nothing was accepted before the kill"

        serve.port = free_port()
        serve.start()
        # X retries whatever was not acknowledged, and redelivers some acknowledged ones too.
        _post_all(serve.url, events, accepted, threading.Event())
        stats = serve.wait_drained()
        copies = sms_copies(twilio)
        assert serve.terminate() in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after a clean stop

    assert stats["queues"]["inbound_pending"] == 0
    conn = sqlite3.connect(dsn)
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    all_ids = {tweet_id for tweet_id, _, _ in events}
    inbox = {row[0] for row in conn.execute("SELECT message_id FROM inbox WHERE channel = 'tweet'")}
    assert accepted_before_crash <= inbox, "an event acknowledged before the crash was lost"
    assert all_ids <= inbox
    assert one("SELECT count(*) FROM inbound_queue WHERE done = 0") == 0
    per_message = one(
        "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM activations GROUP BY message_id)"
    )
    assert per_message == 1, "a tweet was debited twice"
    debited = one("SELECT coalesce(sum(price_paise), 0) FROM activations")
    balance = one("SELECT sum(balance_paise) FROM subscribers")
    assert balance == USERS * BALANCE - debited
    assert one("SELECT count(*) FROM activations") == USERS * (BALANCE // PRICE)
    assert one("SELECT min(balance_paise) FROM subscribers") >= 0
    sms_sent = one("SELECT count(*) FROM outbox WHERE kind = 'sms' AND status = 'sent'")
    assert sms_sent >= USERS * (BALANCE // PRICE), "a confirmation SMS was never sent"
    rows = conn.execute("SELECT recipient, text FROM outbox WHERE kind = 'sms' AND status = 'sent'")
    duplicates = sms_duplicates(copies, [(r[0], r[1]) for r in rows.fetchall()])
    assert not duplicates, f"{sum(duplicates.values())} duplicate SMS, e.g. {list(duplicates)[:3]}"
    assert sum(copies.values()) == sms_sent
