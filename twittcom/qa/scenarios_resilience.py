"""Resilience stories: repeated deliveries, two ingestion paths, X failing, the SMS network down,
and the X write budget running out."""

from __future__ import annotations

from twittcom.qa.client import eventually
from twittcom.qa.replies import SMS_PATTERNS
from twittcom.qa.scenario import Customer, ScenarioContext, ScenarioSkipped, scenario
from twittcom.qa.webhooks import sign, tweet_delivery

__all__: list[str] = []

_TWEETS = "twittcom_outbox_sent_total"
_RETRIES = "twittcom_outbox_retries_total"
_SKIPPED = "twittcom_replies_skipped_budget_total"
_INGESTED = "twittcom_ingested_events_total"


async def _buyer(ctx: ScenarioContext, balance: int = 50_000) -> tuple[Customer, dict[str, object]]:
    customer = await ctx.customer(circle="DL", balance_paise=balance)
    await ctx.register(customer)
    return customer, await ctx.pack("DL")


async def _deliver(ctx: ScenarioContext, tweet_id: str, customer: Customer, text: str) -> None:
    """Play X: deliver ``tweet_id`` by ``customer`` (a mention with ``text``) to the webhook, signed."""
    operator = await ctx.client.operator()
    body = tweet_delivery(operator.id, tweet_id, customer.user, text, operator)
    response = await ctx.client.webhook(body, sign(body, await ctx.client.consumer_secret()))
    ctx.check(response.status_code == 200, f"the webhook answered {response.status_code}: {response.text}")


async def _sms_count(ctx: ScenarioContext, number: str, outcome: str) -> int:
    pattern = SMS_PATTERNS[outcome]
    return sum(1 for m in await ctx.client.handset(number) if pattern.search(str(m.get("body", ""))))


@scenario("webhook_delivered_twice")
async def webhook_delivered_twice(ctx: ScenarioContext) -> None:
    """X delivers Asha's "#act" tweet, then (as X does when it missed our 200) delivers the very same
    event twice more. The processor accepts every delivery (200) but the purchase happens once:
    one debit, one reply, one confirmation SMS; the repeats are counted as duplicates."""
    asha, pack = await _buyer(ctx)
    text = f"@{ctx.client.endpoints.operator_handle} #act #{pack['hashtag']}"
    buy = await ctx.client.tweet(asha.user, text)
    await ctx.expect_reply(buy, "activated")
    duplicates = await ctx.client.metric(_INGESTED, source="webhook", result="duplicate")
    for _ in range(2):
        await _deliver(ctx, buy, asha, text)
    await ctx.client.settle()
    price = int(str(pack["price_paise"]))
    ctx.check(
        await ctx.balance(asha.msisdn) == asha.balance_paise - price, "a repeated delivery debited again"
    )
    ctx.check(len(await ctx.client.replies_to(buy)) == 1, "a repeated delivery got another reply")
    ctx.check(await _sms_count(ctx, asha.msisdn, "activated") <= 1, "a repeated delivery sent another SMS")
    after = await ctx.client.metric(_INGESTED, source="webhook", result="duplicate")
    ctx.check(after - duplicates == 2, f"{after - duplicates} duplicates counted (expected 2)")


@scenario("forged_webhook_rejected")
async def forged_webhook_rejected(ctx: ScenarioContext) -> None:
    """Someone who is not X posts a purchase event to the webhook with a signature made with the wrong
    secret: it is refused and nothing is bought."""
    asha, pack = await _buyer(ctx)
    plain = await ctx.client.tweet(asha.user, f"thinking about #{pack['hashtag']}")
    operator = await ctx.client.operator()
    body = tweet_delivery(
        operator.id, plain, asha.user, f"@{operator.username} #act #{pack['hashtag']}", operator
    )
    response = await ctx.client.webhook(body, sign(body, "not-the-consumer-secret"))
    ctx.check(response.status_code in (401, 403), f"a forged delivery got {response.status_code}")
    await ctx.client.settle()
    ctx.check(await ctx.balance(asha.msisdn) == asha.balance_paise, "a forged delivery debited the balance")


@scenario("mention_seen_by_webhook_and_poll", timeout_s=90.0)
async def mention_seen_twice(ctx: ScenarioContext) -> None:
    """With both ingestion paths on, Ravi's "#act" mention reaches the processor by webhook and again
    by the mentions poll. It is processed once: one debit, one reply; the second sighting is counted
    as a duplicate."""
    info = await ctx.client.stack_info()
    if info.get("ingestion") != "both":
        raise ScenarioSkipped(f"the stack ingests by {info.get('ingestion')!r}, not by webhook and poll")
    ravi, pack = await _buyer(ctx)
    before = sum(
        [await ctx.client.metric(_INGESTED, source=s, result="duplicate") for s in ("webhook", "poll")]
    )
    buy = await ctx.mention(ravi, f"#act #{pack['hashtag']}")
    await ctx.expect_reply(buy, "activated")

    async def seen_twice() -> bool:
        dup = sum(
            [await ctx.client.metric(_INGESTED, source=s, result="duplicate") for s in ("webhook", "poll")]
        )
        return dup > before

    wait = float(info.get("poll_interval_s", 15.0)) * 3 + 5
    await eventually(seen_twice, timeout=wait, interval=0.1, what="the poll to see the mention again")
    await ctx.client.settle()
    price = int(str(pack["price_paise"]))
    ctx.check(
        await ctx.balance(ravi.msisdn) == ravi.balance_paise - price, "the second sighting debited again"
    )
    ctx.check(len(await ctx.client.replies_to(buy)) == 1, "the second sighting got another reply")


@scenario("x_answers_503_then_recovers")
async def x_answers_503(ctx: ScenarioContext) -> None:
    """X's POST /2/tweets fails with 503 while Kiran's purchase is processed (QA plays X's webhook
    for his tweet, since the fault hits every tweet). The debit and the SMS confirmation do not
    wait for X; the reply tweet is retried with backoff, and once X recovers (and the retry is due)
    it is posted, once."""
    kiran, pack = await _buyer(ctx)
    plain = await ctx.client.tweet(kiran.user, f"getting #{pack['hashtag']} now")
    retries = await ctx.client.metric(_RETRIES, kind="tweet")
    await ctx.client.x_faults({"route": "POST /2/tweets", "error_rate": 1.0, "error_status": 503})
    await _deliver(ctx, plain, kiran, f"@{ctx.client.endpoints.operator_handle} #act #{pack['hashtag']}")
    await ctx.expect_sms(kiran.msisdn, SMS_PATTERNS["activated"].pattern)
    await eventually(lambda: _more(ctx, _RETRIES, retries, kind="tweet"), what="a retried reply tweet")
    ctx.check(not await ctx.client.replies_to(plain), "a reply was posted while X answered 503")
    await ctx.client.x_faults(None)
    await ctx.client.advance_x_clock(301)  # past the longest backoff: the retry is due
    await ctx.expect_reply(plain, "activated")
    price = int(str(pack["price_paise"]))
    ctx.check(await ctx.balance(kiran.msisdn) == kiran.balance_paise - price, "retries debited again")


async def _more(ctx: ScenarioContext, name: str, before: float, **labels: str) -> bool:
    return await ctx.client.metric(name, **labels) > before


@scenario("x_answers_429_sms_alone")
async def x_answers_429(ctx: ScenarioContext) -> None:
    """X answers 429 Too Many Requests to the operator's reply for Meera's purchase. The processor
    does not hammer X: the reply is skipped (counted), the SMS carries the confirmation alone, and
    tweets pause until X's reset. After the reset, Meera's next purchase is confirmed by tweet again."""
    meera, pack = await _buyer(ctx, balance=100_000)
    plain = await ctx.client.tweet(meera.user, f"want #{pack['hashtag']}")
    skipped = await ctx.client.metric(_SKIPPED)
    waits = await ctx.client.metric("twittcom_rate_limit_waits_total", api="x")
    await ctx.client.x_faults({"route": "POST /2/tweets", "error_rate": 1.0, "error_status": 429})
    await _deliver(ctx, plain, meera, f"@{ctx.client.endpoints.operator_handle} #act #{pack['hashtag']}")
    await ctx.expect_sms(meera.msisdn, SMS_PATTERNS["activated"].pattern)
    await eventually(lambda: _more(ctx, _SKIPPED, skipped), what="the reply counted as skipped")
    ctx.check(await _more(ctx, "twittcom_rate_limit_waits_total", waits, api="x"), "the 429 was not honoured")
    await ctx.client.x_faults(None)
    await ctx.client.settle()
    ctx.check(not await ctx.client.replies_to(plain), "the reply X refused was posted anyway")
    await ctx.client.advance_x_clock(61)  # past the pause X asked for
    again = await ctx.mention(meera, f"#act #{pack['hashtag']} again")
    await ctx.expect_reply(again, "activated")


@scenario("sms_network_down_for_a_circle")
async def sms_outage(ctx: ScenarioContext) -> None:
    """The SMS network of Gujarat goes down. Anil (Gujarat) and Priya (Karnataka) both tweet #reg:
    both get the public "code sent" reply, Priya's code arrives, Anil's is held by the carrier.
    When the network comes back, Anil's code is delivered, the processor hears the delivery
    callback, and Anil links his number."""
    anil = await ctx.customer(circle="GJ")
    priya = await ctx.customer(circle="KA")
    outage = await ctx.client.sms_outage("GJ")
    delivered = await ctx.client.metric("twittcom_sms_callbacks_total", status="delivered")
    try:
        await ctx.expect_reply(await ctx.mention(anil, f"#reg {anil.local}"), "code_sent")
        await ctx.expect_reply(await ctx.mention(priya, f"#reg {priya.local}"), "code_sent")
        await ctx.client.code_for(priya.msisdn)
        scale = float((await ctx.client.sms_clock()).get("time_scale") or 1.0)
        await ctx.client.settle()
        start = float((await ctx.client.sms_clock())["carrier_time"])

        async def carrier_minute() -> bool:  # a carrier minute: well past p99 latency (about 19 s)
            return float((await ctx.client.sms_clock())["carrier_time"]) - start >= 60

        await eventually(
            carrier_minute, timeout=max(5.0, 90.0 / scale), interval=0.05, what="a carrier minute"
        )
        ctx.check(not await ctx.client.handset(anil.msisdn), "an SMS reached Gujarat during its outage")
    finally:
        await ctx.client.end_sms_outage(outage)
    code = await ctx.client.code_for(anil.msisdn, timeout=max(10.0, 120.0 / scale))
    await ctx.expect_reply(await ctx.mention(anil, code), "registered")
    await eventually(
        lambda: _more(ctx, "twittcom_sms_callbacks_total", delivered, status="delivered"),
        what="the delivery callbacks",
    )
    ctx.note(f"carrier time scale {scale:g}: a carrier minute is {60 / scale:.2f} wall seconds")


@scenario("x_write_budget_runs_out", timeout_s=120.0)
async def write_budget(ctx: ScenarioContext) -> None:
    """A busy quarter hour: 105 unregistered users' purchase tweets spend the operator's X write
    budget (100 tweets per 15 minutes). Sunita's purchase then is confirmed by SMS alone (counted
    as a reply skipped for the budget; X is never asked past the budget). A quarter hour later
    replies are tweeted again."""
    info = await ctx.client.stack_info()
    if not info.get("tweet_budget", False):
        raise ScenarioSkipped("the stack runs without the processor's X write budget")
    sunita, pack = await _buyer(ctx, balance=100_000)
    skipped = await ctx.client.metric(_SKIPPED)
    crowd = [await ctx.user("crowd") for _ in range(5)]
    for round_ in range(21):
        for user in crowd:
            await ctx.mention(user, f"#act #{pack['hashtag']} try {round_}")
    await ctx.client.settle(timeout=60)
    stats = await ctx.client.admin("/admin/stats")
    ctx.check(stats["write_budget_left"] == 0, f"budget left after the crowd: {stats['write_budget_left']}")
    buy = await ctx.mention(sunita, f"#act #{pack['hashtag']}")
    await ctx.expect_sms(sunita.msisdn, SMS_PATTERNS["activated"].pattern)
    await ctx.client.settle()
    ctx.check(not await ctx.client.replies_to(buy), "a reply was tweeted past the budget")
    ctx.check(await _more(ctx, _SKIPPED, skipped), "the skipped replies were not counted")
    counters = await ctx.client.x_counters()
    ctx.note(f"X answered 429 {counters.get('rate_limited', 0)} times in the whole run")
    await ctx.client.advance_x_clock(15 * 60 + 1)
    again = await ctx.mention(sunita, f"#act #{pack['hashtag']} again")
    await ctx.expect_reply(again, "activated")


@scenario("operator_outage_mode")
async def operator_outage_mode(ctx: ScenarioContext) -> None:
    """The network in Mumbai fails (seed 002). The operator's admin turns outage mode on with a status
    text: the status is tweeted from the operator's account, and complaints ("@tatadocomo no signal
    since morning!!") are answered with it, while purchases still go through first. Turned off,
    complaints get no automatic answer again."""
    status = f"Network trouble in Mumbai since 09:40; engineers on site, update by noon ({ctx.run_tag})."
    auth = {"Authorization": f"Bearer {ctx.client.endpoints.admin_token}"}
    buyer, pack = await _buyer(ctx)
    angry = await ctx.user("angry")
    response = await ctx.client.processor.post("/admin/outage", json={"text": status}, headers=auth)
    ctx.check(response.status_code == 200 and response.json().get("on"), f"outage on: {response.text}")
    try:

        async def status_tweeted() -> bool:
            return any(
                status in str(t.get("text", "")) and not t.get("referenced_tweets")
                for t in await ctx.client.operator_tweets(200)
            )

        await eventually(status_tweeted, what="the operator's status tweet")
        complaint = await ctx.mention(angry, "no signal since morning!!")
        buy = await ctx.mention(buyer, f"#act #{pack['hashtag']}")
        await ctx.expect_reply(buy, "activated")
        replies = await eventually(lambda: ctx.client.replies_to(complaint), what="the status reply")
        ctx.check(status[:40] in str(replies[0]["text"]), f"the complaint got {replies[0]['text']!r}")
    finally:
        off = await ctx.client.processor.delete("/admin/outage", headers=auth)
        ctx.check(off.status_code == 200 and not off.json().get("on"), f"outage off: {off.text}")
    later = await ctx.mention(angry, "still no signal, what is going on")
    await ctx.client.settle()
    ctx.check(not await ctx.client.replies_to(later), "a complaint after the outage got an automatic reply")


@scenario("forged_sms_callback_rejected")
async def forged_sms_callback_rejected(ctx: ScenarioContext) -> None:
    """Someone posts a fake "delivered" status for an SMS to the processor's Twilio callback without
    Twilio's signature: it is refused (and counted), and the genuine, signed callbacks of a real
    code SMS are accepted and recorded on the customer's timeline."""
    rejected = await ctx.client.metric("twittcom_sms_callbacks_rejected_total")
    forged = await ctx.client.processor.post(
        "/callbacks/twilio/status",
        data={"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered", "To": ctx.fresh_number()},
        headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
    )
    ctx.check(forged.status_code in (401, 403), f"a forged callback got {forged.status_code}")
    ctx.check(
        await _more(ctx, "twittcom_sms_callbacks_rejected_total", rejected), "the forgery was not counted"
    )
    asha = await ctx.customer()
    await ctx.expect_reply(await ctx.mention(asha, f"#reg {asha.local}"), "code_sent")
    await ctx.client.code_for(asha.msisdn)

    async def delivered_on_timeline() -> bool:
        timeline = await ctx.client.admin(f"/admin/handles/{asha.user.username}/timeline")
        return any(e["kind"] == "sms_status" and "delivered" in str(e["text"]) for e in timeline["entries"])

    await eventually(delivered_on_timeline, what="the signed delivery callback on the timeline")
