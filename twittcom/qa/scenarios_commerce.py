"""Purchase stories: a pack activated, and every reason one is refused."""

from __future__ import annotations

from twittcom.qa.replies import SMS_PATTERNS
from twittcom.qa.scenario import ScenarioContext, scenario

__all__: list[str] = []


def _rupees(paise: int) -> str:
    """As the processor writes amounts: ``48900 -> 'Rs 489'``, ``123450 -> 'Rs 1,234.50'``."""
    whole, fraction = divmod(paise, 100)
    return f"Rs {whole:,}" + (f".{fraction:02d}" if fraction else "")


@scenario("pack_activated")
async def pack_activated(ctx: ScenarioContext) -> None:
    """Asha, registered in Delhi with Rs 500, tweets "#act #TD11DEL please". The pack's price is
    debited once from her prepaid balance, the public reply says the pack is active (masked
    number, no balance), the SMS carries the new balance, and her customer timeline shows the
    tweet, the debit and both confirmations."""
    asha = await ctx.customer(circle="DL", balance_paise=50_000)
    await ctx.register(asha)
    pack = await ctx.pack("DL")
    buy = await ctx.mention(asha, f"#act #{pack['hashtag']} please")
    text = await ctx.expect_reply(buy, "activated")
    ctx.check(
        "Rs 500" not in text and "balance" not in text.lower(), f"the public reply shows money: {text!r}"
    )
    sms = await ctx.expect_sms(asha.msisdn, SMS_PATTERNS["activated"].pattern)
    left = 50_000 - int(pack["price_paise"])
    ctx.check(await ctx.balance(asha.msisdn) == left, "the balance is not debited by the price exactly once")
    ctx.check(_rupees(left) in sms, f"the SMS does not show the new balance {_rupees(left)}: {sms!r}")
    timeline = await ctx.client.admin(f"/admin/handles/{asha.user.username}/timeline")
    kinds = [e["kind"] for e in timeline["entries"]]
    ctx.check("debit" in kinds and "tweet_in" in kinds, f"the timeline misses entries: {kinds}")
    ctx.check(any(k in ("tweet_out", "sms_out") for k in kinds), f"no confirmation on the timeline: {kinds}")
    ctx.note(f"{pack['hashtag']} debited {pack['price_paise']} paise; timeline {kinds}")


@scenario("launch_syntax_and_dm_purchase")
async def launch_syntax_and_dm(ctx: ScenarioContext) -> None:
    """The 2009 launch taught "#act# TD49DEL" (hash stuck to the keyword): it buys the pack. A
    purchase by DM ("act TD11DEL") is answered by DM with the same confirmation."""
    ravi = await ctx.customer(circle="DL", balance_paise=100_000)
    await ctx.register(ravi)
    packs = (await ctx.client.admin("/admin/catalog", circle="DL"))["packs"]
    tags = {p["hashtag"] for p in packs}
    ctx.check("TD49DEL" in tags and "TD11DEL" in tags, f"the sample catalog changed: {sorted(tags)}")
    await ctx.expect_reply(await ctx.mention(ravi, "#act# TD49DEL"), "activated")
    before = len(await ctx.client.dms_to(ravi.user))
    await ctx.client.dm(ravi.user, "act TD11DEL")
    await ctx.expect_dm(ravi.user, "activated", after=before)
    ctx.check(
        await ctx.balance(ravi.msisdn) == 100_000 - 4_900 - 1_100, "the two purchases did not debit once each"
    )


@scenario("unknown_pack")
async def unknown_pack(ctx: ScenarioContext) -> None:
    """Kiran tweets "#act #TD999XYZ", a pack nobody sells: the reply says so and suggests packs of
    his own circle by hashtag; nothing is debited."""
    kiran = await ctx.customer(circle="KA", balance_paise=20_000)
    await ctx.register(kiran)
    text = await ctx.expect_reply(await ctx.mention(kiran, "#act #TD999XYZ"), "unknown_pack")
    own = {p["hashtag"] for p in (await ctx.client.admin("/admin/catalog", circle="KA"))["packs"]}
    ctx.check(any(f"#{tag}" in text for tag in own), f"no pack of KA suggested in {text!r}")
    ctx.check(await ctx.balance(kiran.msisdn) == 20_000, "an unknown pack debited the balance")


@scenario("pack_not_in_circle")
async def pack_not_in_circle(ctx: ScenarioContext) -> None:
    """Meera lives in Karnataka and tweets the Delhi pack "#act #TD49DEL": the reply says that pack
    is not sold in her circle and offers Karnataka's; nothing is debited."""
    meera = await ctx.customer(circle="KA", balance_paise=20_000)
    await ctx.register(meera)
    text = await ctx.expect_reply(await ctx.mention(meera, "#act #TD49DEL"), "pack_not_in_circle")
    ctx.check("KAR" in text, f"no Karnataka pack suggested: {text!r}")
    ctx.check(await ctx.balance(meera.msisdn) == 20_000, "a pack of another circle debited the balance")


@scenario("insufficient_balance")
async def insufficient_balance(ctx: ScenarioContext) -> None:
    """Raju has Rs 5 left and tweets for the Rs 11 pack: the public reply asks him to recharge (no
    amount shown), the SMS tells him the price and his balance, and the balance is untouched."""
    raju = await ctx.customer(circle="DL", balance_paise=500)
    await ctx.register(raju)
    pack = await ctx.pack("DL")
    ctx.check(int(pack["price_paise"]) > 500, "the cheapest Delhi pack costs no more than Rs 5")
    text = await ctx.expect_reply(await ctx.mention(raju, f"#act #{pack['hashtag']}"), "insufficient_balance")
    ctx.check("Rs 5" not in text, f"the public reply shows the balance: {text!r}")
    sms = await ctx.expect_sms(raju.msisdn, SMS_PATTERNS["insufficient_balance"].pattern)
    ctx.check("Rs 5" in sms, f"the SMS does not show the balance: {sms!r}")
    ctx.check(await ctx.balance(raju.msisdn) == 500, "a refused purchase changed the balance")


@scenario("not_registered_and_noise")
async def not_registered_and_noise(ctx: ScenarioContext) -> None:
    """A stranger tweets "#act #TD11DEL" before registering: the reply asks them to link a number
    first. A complaint ("@tatadocomo my network is down again") is recorded on the timeline but
    gets no automatic reply."""
    stranger = await ctx.user("strg")
    await ctx.expect_reply(await ctx.mention(stranger, "#act #TD11DEL"), "not_registered")
    complaint = await ctx.mention(stranger, "my network is down again since morning")
    await ctx.client.settle()
    ctx.check(not await ctx.client.replies_to(complaint), "a complaint got an automatic reply")
    timeline = await ctx.client.admin(f"/admin/handles/{stranger.username}/timeline")
    texts = [str(e.get("text")) for e in timeline["entries"]]
    ctx.check(any("network is down" in t for t in texts), "the complaint is not on the timeline")
