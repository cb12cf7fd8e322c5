"""Outbox rows that did not go: the admin listing and requeue, the backlog warning, status reconciliation."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from rt_stack import ADMIN, ASHA_NO, Stack

from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_SHORT_CODE
from reference.runtime import OutboxResult
from reference.runtime.reconcile import DeliveryReconciler
from reference.service.changes import OutboxRow

MESSAGES = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"


async def _call(stack: Stack, fn: Any) -> Any:
    assert stack.service is not None and stack.service.admin is not None
    return await stack.service.admin.call(fn)


async def test_failed_rows_are_listed_and_requeued_then_sent(stack: Stack) -> None:
    """GET /admin/outbox lists failed rows (no texts); POST /admin/outbox/requeue sends them again."""
    assert stack.client is not None and stack.service is not None
    now = stack.service.clock.now()
    (row,) = await _call(stack, lambda c: c.queue.add_outbox(
        [OutboxRow(now, "sms", "u1", "asha", ASHA_NO, None, "Your pack is active")]))  # fmt: skip
    await _call(stack, lambda c: c.queue.claim_outbox("elsewhere", 10, now + timedelta(hours=1), 600))
    await _call(stack, lambda c: c.queue.finish_outbox([OutboxResult(row, "failed", last_error="boom")],
                                                       "elsewhere"))  # fmt: skip
    listed = (await stack.admin_get("/admin/outbox?status=failed")).json()["rows"]
    assert [(r["id"], r["status"], r["last_error"]) for r in listed] == [(row, "failed", "boom")]
    assert "text" not in listed[0]
    assert (await stack.admin_get("/admin/outbox?status=nope")).status_code == 400
    assert (await stack.admin_get("/admin/outbox?limit=0")).status_code == 400
    headers = {"Authorization": f"Bearer {ADMIN}"}
    bad = await stack.client.post("/admin/outbox/requeue", json={"ids": "x"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["error"] == "bad_payload"
    assert (await stack.client.post("/admin/outbox/requeue", json={"status": ["failed"]})).status_code == 401
    done = await stack.client.post("/admin/outbox/requeue", json={"status": ["failed"]}, headers=headers)
    assert done.json() == {"requeued": 1, "asked": 1}
    for _ in range(200):
        if not (await stack.admin_get("/admin/outbox?status=failed,pending")).json()["rows"]:
            break
        await asyncio.sleep(0.02)
    sent = (await stack.admin_get("/admin/outbox?status=sent")).json()["rows"]
    assert row in {r["id"] for r in sent}
    bodies = [m["body"] for m in await stack.sms_to(ASHA_NO)]
    assert bodies.count("Your pack is active") == 1


async def test_readiness_warns_while_the_outbox_backlog_ages(stack: Stack) -> None:
    """A pending row older than backlog_warn_s gives a warning in /readyz (still ready) and a metric."""
    assert stack.client is not None and stack.service is not None
    now = stack.service.clock.now()
    old = now - timedelta(seconds=900)
    await _call(
        stack, lambda c: c.queue.add_outbox([OutboxRow(old, "sms", "u1", "asha", ASHA_NO, None, "x")])
    )
    await _call(stack, lambda c: c.queue.claim_outbox("elsewhere", 10, now, 600))  # pending, leased away
    ready = await stack.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert any("outbox backlog" in w for w in ready.json()["warnings"])
    metrics = (await stack.client.get("/metrics")).text
    line = next(x for x in metrics.splitlines() if x.startswith("twittcom_outbox_oldest_pending_seconds "))
    assert float(line.split()[1]) >= 900


async def test_a_missed_status_callback_is_fetched_from_twilio(stack: Stack) -> None:
    """An SMS whose callback never came (sent without one, or before its sid was stored) gets its
    status from GET Messages/{sid}; a fetched older status never overwrites a newer one."""
    assert stack.service is not None and stack.service.sms is not None
    form = {"To": ASHA_NO, "From": DEFAULT_SHORT_CODE, "Body": "hi"}  # no StatusCallback: none comes
    auth = (DEFAULT_ACCOUNT_SID, stack.service.config.twilio_auth_token)
    created = await stack.sms.post(MESSAGES, data=form, auth=auth)
    sid = created.json()["sid"]
    early = await _call(
        stack, lambda c: c.queue.record_delivery(sid, "sent", None, stack.service.clock.now())
    )
    assert early is None  # the callback came before any row held the sid: dropped
    now = stack.service.clock.now()
    (row,) = await _call(stack, lambda c: c.queue.add_outbox(
        [OutboxRow(now, "sms", "u1", "asha", ASHA_NO, None, "hi")]))  # fmt: skip
    await _call(stack, lambda c: c.queue.claim_outbox("elsewhere", 10, now + timedelta(hours=1), 600))
    await _call(stack, lambda c: c.queue.finish_outbox(
        [OutboxResult(row, "sent", provider_ref=sid, sent_at=now)], "elsewhere"))  # fmt: skip
    for _ in range(200):  # the fake's carrier delivers (time scale 2000)
        status = (await stack.sms.get(f"/_fake/messages/{sid}")).json()["status"]
        if status == "delivered":
            break
        await asyncio.sleep(0.02)
    assert stack.service.admin is not None
    service = stack.service
    reconciler = DeliveryReconciler(
        service.sms, service.admin.call, metrics=service.metrics, clock=service.clock.now, grace_s=0.0
    )
    assert await reconciler.run_once() == 1
    assert await reconciler.run_once() == 0  # final: not fetched again
    rows = (await stack.admin_get("/admin/outbox?status=sent")).json()["rows"]
    assert next(r for r in rows if r["id"] == row)["delivery_status"] == "delivered"
    late = await _call(stack, lambda c: c.queue.record_delivery(sid, "sent", None, stack.service.clock.now()))
    assert late is None
    assert stack.service.metrics.statuses_reconciled._value.get() == 1
