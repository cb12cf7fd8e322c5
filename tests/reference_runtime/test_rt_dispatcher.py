"""The outbox dispatcher against mocked X and Twilio (respx): budget, 429s, retries, failures."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from reference.clients import TwilioSmsClient, XApiClient
from reference.runtime import (
    NOTICE_PRIORITY,
    OutboxDispatcher,
    ServiceMetrics,
    WindowLimit,
    WriteBudget,
)
from reference.service.changes import OutboxRow
from reference.storage.work_memory import MemoryWorkQueue

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
EPOCH0 = T0.timestamp()
SID = "AC" + "0" * 32
SMS_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
TWEETS_URL = "https://api.x.com/2/tweets"
OPERATOR = "900"
OWN_TWEETS_URL = f"https://api.x.com/2/users/{OPERATOR}/tweets"
DM_URL = "https://api.x.com/2/dm_conversations/with/42/messages"
DM_EVENTS_URL = "https://api.x.com/2/dm_conversations/with/42/dm_events"


class Clocks:
    def __init__(self) -> None:
        self.now = T0

    def utc(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def sms_ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, json={"sid": "SM" + "a" * 32, "status": "queued", "num_segments": "1"})


def tweet_ok(request: httpx.Request) -> httpx.Response:
    headers = {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": "50",
        "x-rate-limit-reset": "2000000000",
    }
    return httpx.Response(201, json={"data": {"id": "1900", "text": "ok"}}, headers=headers)


class Harness:
    def __init__(self, router: respx.Router, *, tweet_limit: int = 100, horizon_s: float = 21_600.0) -> None:
        self.clocks = Clocks()
        self.queue = MemoryWorkQueue()
        self.metrics = ServiceMetrics()
        transport = httpx.MockTransport(router.async_handler)
        self.x_http = httpx.AsyncClient(transport=transport, base_url="https://api.x.com")
        self.sms_http = httpx.AsyncClient(transport=transport, base_url="https://api.twilio.com")
        self.tweet_budget = WriteBudget([WindowLimit(tweet_limit, 900.0)], clock=self.clocks.epoch)
        self.dispatcher = OutboxDispatcher(
            self.queue,
            XApiClient(self.x_http, user_token="t"),
            TwilioSmsClient(self.sms_http, account_sid=SID, auth_token="x", from_number="54321"),
            owner="test",
            tweet_budget=self.tweet_budget,
            dm_budget=WriteBudget([WindowLimit(15, 900.0)], clock=self.clocks.epoch),
            metrics=self.metrics,
            clock=self.clocks.utc,
            epoch=self.clocks.epoch,
            rng=random.Random(1),
            horizon_s=horizon_s,
            operator_id=OPERATOR,
        )

    def add(self, kind: str, in_reply_to: str | None = "55", priority: int = 0) -> int:
        recipient = "+919812345678" if kind == "sms" else "asha"
        text = f"{kind} text"
        row = OutboxRow(self.clocks.now, kind, "42", "asha", recipient, in_reply_to, text, priority=priority)
        return self.queue.add_outbox([row])[0]

    def status(self, outbox_id: int) -> str:
        return self.queue.work.outbox[outbox_id].status

    def metric(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels)
        return value or 0.0

    async def close(self) -> None:
        await self.x_http.aclose()
        await self.sms_http.aclose()


@pytest.fixture
def router() -> respx.Router:
    router = respx.Router(assert_all_called=False)
    router.get(SMS_URL).mock(return_value=httpx.Response(200, json={"messages": [], "next_page_uri": None}))
    for url in (OWN_TWEETS_URL, DM_EVENTS_URL):  # lookups of retried tweets and DMs: nothing there
        router.get(url).mock(return_value=httpx.Response(200, json={"meta": {"result_count": 0}}))
    return router


async def test_spent_write_budget_skips_the_reply_and_the_sms_still_goes(router: respx.Router) -> None:
    """With no tweets left the reply ends skipped_budget (counted) while the SMS is sent."""
    tweets = router.post(TWEETS_URL).mock(side_effect=tweet_ok)
    sms = router.post(SMS_URL).mock(side_effect=sms_ok)
    h = Harness(router, tweet_limit=1)
    first, second, text = h.add("tweet", "1"), h.add("tweet", "2"), h.add("sms")
    assert await h.dispatcher.run_once() == 3
    assert [h.status(first), h.status(second), h.status(text)] == ["sent", "skipped_budget", "sent"]
    assert tweets.call_count == 1 and sms.call_count == 1
    assert h.metric("twittcom_replies_skipped_budget_total") == 1
    await h.close()


async def test_x_429_pauses_tweets_until_the_reset(router: respx.Router) -> None:
    """A 429 with x-rate-limit-reset skips that reply and every reply until the reset, then tweets again."""
    reset = int(EPOCH0) + 120
    limited = httpx.Response(
        429, json={"title": "Too Many Requests", "type": "about:blank", "status": 429},
        headers={"x-rate-limit-limit": "9", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
    )  # fmt: skip
    tweets = router.post(TWEETS_URL).mock(side_effect=[limited, tweet_ok(httpx.Request("POST", TWEETS_URL))])
    h = Harness(router)
    first = h.add("tweet", "1")
    await h.dispatcher.run_once()
    second = h.add("tweet", "2")
    await h.dispatcher.run_once()
    assert h.status(first) == h.status(second) == "skipped_budget" and tweets.call_count == 1
    assert h.metric("twittcom_rate_limit_waits_total", api="x") == 1
    h.clocks.advance(130)
    third = h.add("tweet", "3")
    await h.dispatcher.run_once()
    assert h.status(third) == "sent" and tweets.call_count == 2
    await h.close()


async def test_twilio_20429_is_retried_with_backoff_then_sent(router: respx.Router) -> None:
    """Twilio's 20429 leaves the SMS pending for a jittered backoff; the next attempt sends it."""
    throttled = httpx.Response(429, json={"code": 20429, "message": "Too Many Requests", "status": 429})
    sms = router.post(SMS_URL).mock(side_effect=[throttled, sms_ok(httpx.Request("POST", SMS_URL))])
    h = Harness(router)
    row = h.add("sms")
    await h.dispatcher.run_once()
    state = h.queue.work.outbox[row]
    assert (
        state.status == "pending"
        and state.next_attempt_at is not None
        and "20429" in (state.last_error or "")
    )
    assert await h.dispatcher.run_once() == 0  # not due yet
    h.clocks.advance(5)
    await h.dispatcher.run_once()
    assert h.status(row) == "sent" and sms.call_count == 2
    assert h.metric("twittcom_rate_limit_waits_total", api="twilio") == 1
    await h.close()


async def test_server_errors_are_retried_while_valid_then_expire(router: respx.Router) -> None:
    """A send that keeps failing with 503 is retried (no attempt count) until its horizon, then expires."""
    sms = router.post(SMS_URL).mock(return_value=httpx.Response(503, json={"code": 20500, "message": "down"}))
    h = Harness(router, horizon_s=1800.0)
    row = h.add("sms")
    for _ in range(40):
        await h.dispatcher.run_once()
        h.clocks.advance(60)
    assert h.status(row) == "expired" and sms.call_count >= 25
    assert (h.queue.work.outbox[row].last_error or "").startswith("expired: not sent within its validity")
    assert h.metric("twittcom_outbox_expired_total", kind="sms") == 1
    assert h.metric("twittcom_outbox_failed_total", kind="sms") == 0
    await h.close()


async def test_a_rejected_send_fails_at_once_and_a_duplicate_on_retry_counts_as_sent(
    router: respx.Router,
) -> None:
    """Twilio 21211 is final; X's duplicate-content 403 on a second attempt means the first one landed."""
    router.post(SMS_URL).mock(return_value=httpx.Response(400, json={"code": 21211, "message": "bad To"}))
    duplicate = httpx.Response(
        403, json={"title": "Forbidden", "detail": "duplicate content", "type": "about:blank"}
    )
    router.post(TWEETS_URL).mock(side_effect=[httpx.Response(503, json={"title": "down"}), duplicate])
    h = Harness(router)
    text, tweet = h.add("sms"), h.add("tweet")
    await h.dispatcher.run_once()
    assert h.status(text) == "failed" and h.status(tweet) == "pending"
    h.clocks.advance(60)
    await h.dispatcher.run_once()
    assert h.status(tweet) == "sent"
    await h.close()


async def test_commerce_goes_before_notices_in_one_claim(router: respx.Router) -> None:
    """With room for one row, the commerce SMS is claimed before an older outage notice."""
    router.post(TWEETS_URL).mock(side_effect=tweet_ok)
    router.post(SMS_URL).mock(side_effect=sms_ok)
    h = Harness(router)
    h.dispatcher.batch_size = 1
    notice = h.add("tweet", "9", priority=NOTICE_PRIORITY)
    commerce = h.add("sms")
    await h.dispatcher.run_once()
    assert h.status(commerce) == "sent" and h.status(notice) == "pending"
    await h.dispatcher.run_once()
    assert h.status(notice) == "sent"
    await h.close()


async def test_operator_status_tweet_waits_for_the_budget_instead_of_being_skipped(
    router: respx.Router,
) -> None:
    """The operator's own status tweet (no reply target) is retried later when the budget is spent."""
    router.post(TWEETS_URL).mock(side_effect=tweet_ok)
    h = Harness(router, tweet_limit=1)
    h.add("tweet", "1")
    status = h.add("tweet", None)
    await h.dispatcher.run_once()
    assert h.status(status) == "pending"
    h.clocks.advance(901)
    await h.dispatcher.run_once()
    assert h.status(status) == "sent"
    await h.close()


async def test_handed_off_rows_are_sent_without_a_claim_and_finished_in_group_commits(
    router: respx.Router,
) -> None:
    """Rows a worker leased for the dispatcher are sent by take alone; their results land in
    fewer finish transactions than hand-offs (group commit), and room counts what is in flight."""
    router.post(TWEETS_URL).mock(side_effect=tweet_ok)
    router.post(SMS_URL).mock(side_effect=sms_ok)
    h = Harness(router)
    finishes: list[int] = []
    finish = h.queue.finish_outbox

    def counting_finish(results, owner):  # type: ignore[no-untyped-def]
        finishes.append(len(results))
        finish(results, owner)

    h.queue.finish_outbox = counting_finish  # type: ignore[method-assign]
    rows = [h.add("sms") for _ in range(6)] + [h.add("tweet", str(i)) for i in range(4)]
    leased = h.dispatcher.hand_off.lease(h.queue, h.clocks.now)
    assert sorted(item.id for item in leased) == sorted(rows)
    assert h.queue.claim_outbox("someone-else", 50, h.clocks.now, 30) == []  # leased to the dispatcher
    for i in range(0, len(leased), 2):
        h.dispatcher.take(leased[i : i + 2])
    assert h.dispatcher.room == h.dispatcher.concurrency - len(rows)
    await h.dispatcher.drain()
    assert [h.status(r) for r in rows] == ["sent"] * len(rows)
    assert sum(finishes) == len(rows) and len(finishes) < 5
    assert h.dispatcher.room == h.dispatcher.concurrency
    assert await h.dispatcher.run_once() == 0
    await h.close()


async def test_no_room_means_no_hand_off(router: respx.Router) -> None:
    """With every concurrency slot taken the worker leases nothing: the claim loop sends later."""
    h = Harness(router)
    h.add("sms")
    h.dispatcher._held = h.dispatcher.concurrency  # as if that many rows were in flight
    assert h.dispatcher.hand_off.lease(h.queue, h.clocks.now) == []
    await h.close()


def sms_list(*messages: tuple[str, str, str]) -> httpx.Response:
    """Twilio's message list page with (sid, to, body) messages, newest first."""
    return httpx.Response(200, json={
        "messages": [{"sid": sid, "to": to, "body": body, "status": "sent", "num_segments": "1"}
                     for sid, to, body in messages],
        "next_page_uri": None,
    })  # fmt: skip


async def test_a_read_timeout_is_looked_up_after_the_settle_time_and_not_sent_again(
    router: respx.Router,
) -> None:
    """The POST was written and timed out: the row waits unknown_settle_s, finds the message, adopts it."""
    posts = router.post(SMS_URL).mock(side_effect=httpx.ReadTimeout("slow gateway"))
    lookups = router.get(SMS_URL).mock(return_value=sms_list(("SMlanded", "+919812345678", "sms text")))
    h = Harness(router)
    row = h.add("sms")
    await h.dispatcher.run_once()
    state = h.queue.work.outbox[row]
    assert state.status == "pending" and "outcome unknown" in (state.last_error or "")
    assert state.next_attempt_at is not None and state.next_attempt_at >= T0 + timedelta(seconds=30)
    h.clocks.advance(29)
    assert await h.dispatcher.run_once() == 0  # not before the gateway can show the earlier attempt
    h.clocks.advance(2)
    await h.dispatcher.run_once()
    assert h.status(row) == "sent" and h.queue.work.outbox[row].provider_ref == "SMlanded"
    assert posts.call_count == 1 and lookups.call_count == 1
    assert lookups.calls.last.request.url.params["To"] == "+919812345678"
    assert h.metric("twittcom_outbox_found_at_gateway_total", kind="sms") == 1
    await h.close()


async def test_an_unknown_outcome_with_no_trace_at_the_gateway_is_sent_again(router: respx.Router) -> None:
    """The lookup finds nothing (the request never landed): the SMS goes out on the next attempt."""
    posts = router.post(SMS_URL).mock(side_effect=[httpx.RemoteProtocolError("dropped"), sms_ok(None)])  # type: ignore[arg-type]
    h = Harness(router)
    row = h.add("sms")
    await h.dispatcher.run_once()
    h.clocks.advance(31)
    await h.dispatcher.run_once()
    assert h.status(row) == "sent" and posts.call_count == 2
    await h.close()


async def test_a_message_another_row_holds_is_not_adopted(router: respx.Router) -> None:
    """Two rows with the same text to the same number: the second does not take the first's message."""
    posts = router.post(SMS_URL).mock(
        side_effect=[sms_ok(None), httpx.ReadTimeout("slow"), sms_ok(None)]  # type: ignore[arg-type]
    )
    router.get(SMS_URL).mock(return_value=sms_list(("SM" + "a" * 32, "+919812345678", "sms text")))
    h = Harness(router)
    first = h.add("sms")
    await h.dispatcher.run_once()
    second = h.add("sms")
    await h.dispatcher.run_once()
    assert h.status(first) == "sent" and h.status(second) == "pending"
    h.clocks.advance(31)
    await h.dispatcher.run_once()
    assert h.status(second) == "sent" and posts.call_count == 3
    await h.close()


async def test_a_failed_lookup_keeps_the_row_unknown_and_never_sends(router: respx.Router) -> None:
    """While the gateway cannot be asked, the row waits; it is not sent blindly."""
    posts = router.post(SMS_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    lookups = router.get(SMS_URL).mock(side_effect=httpx.ReadTimeout("still slow"))
    h = Harness(router)
    row = h.add("sms")
    for _ in range(5):
        await h.dispatcher.run_once()
        h.clocks.advance(31)
    assert h.status(row) == "pending" and posts.call_count == 1 and lookups.call_count == 4
    await h.close()


async def test_a_connect_error_is_retried_with_plain_backoff(router: respx.Router) -> None:
    """A request that never left (connection refused) is retried soon, not after the settle time."""
    posts = router.post(SMS_URL).mock(side_effect=[httpx.ConnectError("refused"), sms_ok(None)])  # type: ignore[arg-type]
    h = Harness(router)
    row = h.add("sms")
    await h.dispatcher.run_once()
    state = h.queue.work.outbox[row]
    assert state.next_attempt_at is not None and state.next_attempt_at <= T0 + timedelta(seconds=1)
    h.clocks.advance(1)
    await h.dispatcher.run_once()
    assert h.status(row) == "sent" and posts.call_count == 2
    await h.close()


def _add_code_sms(h: Harness) -> int:
    from reference.service.changes import OutboxRow

    row = OutboxRow(h.clocks.now, "sms", "42", "asha", "+919812345678", "55", "code 123456", "code ******")
    with h.queue.db.lock:
        h.queue.db.outbox.append(row)
        return len(h.queue.db.outbox)


async def test_a_code_sms_carries_its_remaining_lifetime_and_expires_with_it(router: respx.Router) -> None:
    """ValidityPeriod is what is left of the code's 10 minutes; past them the code is never sent."""
    posts = router.post(SMS_URL).mock(
        side_effect=[httpx.Response(503, json={"code": 20500, "message": "down"}), sms_ok(None)]  # type: ignore[arg-type]
    )
    h = Harness(router)
    row = _add_code_sms(h)
    h.clocks.advance(100)
    await h.dispatcher.run_once()
    form = dict(httpx.QueryParams(posts.calls.last.request.content.decode()))
    assert form["ValidityPeriod"] == "500"
    late = _add_code_sms(h)
    h.clocks.advance(601)
    await h.dispatcher.run_once()
    assert h.status(row) == "expired" and h.status(late) == "expired" and posts.call_count == 1
    assert h.metric("twittcom_outbox_expired_total", kind="sms") == 2
    await h.close()


async def test_a_lookup_that_spends_half_the_lease_does_not_send(router: respx.Router) -> None:
    """A slow lookup (past half the lease) leaves the row to be looked up again instead of sending."""
    posts = router.post(SMS_URL).mock(side_effect=[httpx.ReadTimeout("slow"), sms_ok(None)])  # type: ignore[arg-type]
    h = Harness(router)

    def slow_empty_list(request: httpx.Request) -> httpx.Response:
        h.clocks.advance(h.dispatcher.lease_s * 0.6)
        return sms_list()

    lookups = router.get(SMS_URL).mock(side_effect=slow_empty_list)
    row = h.add("sms")
    await h.dispatcher.run_once()
    h.clocks.advance(31)
    await h.dispatcher.run_once()
    assert h.status(row) == "pending" and posts.call_count == 1 and lookups.call_count == 1
    lookups.side_effect = None
    lookups.return_value = sms_list()
    await h.dispatcher.run_once()
    assert h.status(row) == "sent" and posts.call_count == 2 and lookups.call_count == 2
    await h.close()


async def test_a_retried_reply_found_on_the_operators_timeline_is_not_posted_again(
    router: respx.Router,
) -> None:
    """A reply whose POST timed out is looked up in GET /2/users/:id/tweets and adopted."""
    posts = router.post(TWEETS_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    other = {"id": "1", "text": "tweet text", "referenced_tweets": [{"type": "replied_to", "id": "54"}]}
    mine = {"id": "2", "text": "tweet text", "referenced_tweets": [{"type": "replied_to", "id": "55"}]}
    timeline = router.get(OWN_TWEETS_URL).mock(
        return_value=httpx.Response(200, json={"data": [mine, other], "meta": {"result_count": 2}})
    )
    h = Harness(router)
    row = h.add("tweet", "55")
    await h.dispatcher.run_once()
    h.clocks.advance(31)
    await h.dispatcher.run_once()
    assert h.status(row) == "sent" and h.queue.work.outbox[row].provider_ref == "2"
    assert (
        posts.call_count == 1
        and timeline.calls.last.request.url.params["tweet.fields"] == "referenced_tweets"
    )
    await h.close()


async def test_a_retried_dm_is_looked_up_in_the_dm_events_and_sent_when_absent(router: respx.Router) -> None:
    """A DM whose POST was cut is sent again only when the conversation holds no such event."""
    sent = httpx.Response(201, json={"data": {"dm_conversation_id": "42-900", "dm_event_id": "77"}})
    posts = router.post(DM_URL).mock(side_effect=[httpx.RemoteProtocolError("cut"), sent])
    stranger = {"id": "5", "event_type": "MessageCreate", "text": "dm text", "sender_id": "42",
                "dm_conversation_id": "42-900"}  # fmt: skip
    events = router.get(DM_EVENTS_URL).mock(
        return_value=httpx.Response(200, json={"data": [stranger], "meta": {"result_count": 1}})
    )
    h = Harness(router)
    row = h.add("dm")
    await h.dispatcher.run_once()
    h.clocks.advance(31)
    await h.dispatcher.run_once()
    assert h.status(row) == "sent" and h.queue.work.outbox[row].provider_ref == "77"
    assert posts.call_count == 2 and events.call_count == 1
    await h.close()


async def test_an_expired_sms_tells_the_customer_by_dm(router: respx.Router) -> None:
    """A confirmation SMS that expires unsent leaves a DM notice row to its customer."""
    router.post(SMS_URL).mock(return_value=httpx.Response(503, json={"code": 20500, "message": "down"}))
    dms = router.post(DM_URL).mock(
        return_value=httpx.Response(201, json={"data": {"dm_conversation_id": "42-900", "dm_event_id": "7"}})
    )
    h = Harness(router, horizon_s=60.0)
    row = h.add("sms")
    for _ in range(5):
        await h.dispatcher.run_once()
        h.clocks.advance(20)
    assert h.status(row) == "expired"
    notice = h.queue.db.outbox[-1]
    assert notice.kind == "dm" and notice.user_id == "42" and "ending 5678" in notice.text
    assert dms.call_count == 1 and "could not be sent in time" in dms.calls.last.request.content.decode()
    await h.close()


async def test_two_unknown_rows_with_one_text_do_not_adopt_the_same_message(router: respx.Router) -> None:
    """Both sends of one text to one number timed out and one landed: one row adopts it, one sends."""
    landed = httpx.Response(201, json={"sid": "SM" + "b" * 32, "status": "queued", "num_segments": "1"})
    posts = router.post(SMS_URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow"), landed]
    )
    router.get(SMS_URL).mock(return_value=sms_list(("SM" + "1" * 32, "+919812345678", "sms text")))
    h = Harness(router)
    rows = [h.add("sms"), h.add("sms")]
    await h.dispatcher.run_once()
    h.clocks.advance(31)
    await h.dispatcher.run_once()
    refs = sorted(h.queue.work.outbox[row].provider_ref or "" for row in rows)
    assert [h.status(row) for row in rows] == ["sent", "sent"] and posts.call_count == 3
    assert refs == sorted(["SM" + "1" * 32, "SM" + "b" * 32])
    await h.close()


class ScriptedSmpp:
    """An SMS port answering like SmppSmsClient: scripted send outcomes, receipts seen for lookups."""

    def __init__(self, outcomes: list) -> None:
        self.outcomes = outcomes
        self.sends = 0
        self.orphans: list[tuple[str, str, str]] = []  # (id, to, text) of receipts for unknown ids

    async def send_sms(self, to: str, body: str, *, validity_period: int | None = None):
        from reference.clients import SentSms

        self.sends += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return SentSms(sid=outcome, status="sent", num_segments=1, to=to, body=body)

    async def fetch_message(self, sid: str):
        raise AssertionError("not used")

    async def find_messages(self, to: str, body: str):
        from reference.clients import SentSms

        return [SentSms(sid=i, status="sent", num_segments=1)
                for i, t, b in self.orphans if (t, b) == (to, body)]  # fmt: skip


def _smpp_harness(router: respx.Router, sms: ScriptedSmpp) -> Harness:
    h = Harness(router)
    h.dispatcher.sms = sms
    h.dispatcher.lookups.sms = sms
    return h


async def test_smpp_throttling_is_retried_after_its_wait(router: respx.Router) -> None:
    """ESME_RTHROTTLED: the row is retried no sooner than the client's retry_after, then sent."""
    from reference.clients import SmppThrottled

    sms = ScriptedSmpp([SmppThrottled(0x58, "throttled", retry_after=1.0), "0000000001"])
    h = _smpp_harness(router, sms)
    row = h.add("sms")
    await h.dispatcher.run_once()
    state = h.queue.work.outbox[row]
    assert state.status == "pending" and state.next_attempt_at >= T0 + timedelta(seconds=1)
    assert h.metric("twittcom_rate_limit_waits_total", api="smpp") == 1
    h.clocks.advance(61)
    await h.dispatcher.run_once()
    assert h.status(row) == "sent" and h.queue.work.outbox[row].provider_ref == "0000000001"
    await h.close()


async def test_smpp_submit_without_response_is_adopted_from_its_receipt(router: respx.Router) -> None:
    """No submit_sm_resp: the row waits unknown_settle_s, then adopts the id its receipt showed."""
    from reference.clients import SmppOutcomeUnknown

    sms = ScriptedSmpp([SmppOutcomeUnknown(0, "no submit_sm_resp")])
    h = _smpp_harness(router, sms)
    row = h.add("sms")
    await h.dispatcher.run_once()
    state = h.queue.work.outbox[row]
    assert state.status == "pending" and state.next_attempt_at >= T0 + timedelta(seconds=30)
    sms.orphans.append(("0000000009", "+919812345678", "sms text"))
    h.clocks.advance(31)
    await h.dispatcher.run_once()
    assert h.status(row) == "sent" and h.queue.work.outbox[row].provider_ref == "0000000009"
    assert sms.sends == 1  # not sent twice
    await h.close()


async def test_smpp_unknown_outcome_without_a_receipt_is_sent_again(router: respx.Router) -> None:
    from reference.clients import SmppOutcomeUnknown

    sms = ScriptedSmpp([SmppOutcomeUnknown(0, "connection lost"), "0000000002"])
    h = _smpp_harness(router, sms)
    row = h.add("sms")
    await h.dispatcher.run_once()
    h.clocks.advance(31)
    await h.dispatcher.run_once()
    assert h.status(row) == "sent" and h.queue.work.outbox[row].provider_ref == "0000000002"
    assert sms.sends == 2
    await h.close()
