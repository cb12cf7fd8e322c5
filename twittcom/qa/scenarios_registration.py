"""Registration stories: #reg by tweet, DM and web page, and every way a code can go wrong."""

from __future__ import annotations

from twittcom.qa.client import CODE_PATTERN, eventually
from twittcom.qa.replies import SMS_PATTERNS
from twittcom.qa.scenario import ScenarioContext, scenario

__all__: list[str] = []


async def _code_sms(ctx: ScenarioContext, number: str) -> list[tuple[str, str]]:
    """(sid, date created) of the code SMS sent to ``number``, oldest first."""
    messages = await ctx.client.sms_outbox(to=number, limit=1000)
    return [(m["sid"], m["date_created"]) for m in reversed(messages) if CODE_PATTERN.search(m["body"])]


def _wrong(code: str, by: int = 1) -> str:
    """A 6-digit code that differs from ``code`` in its last digit (a typo); ``by`` in 1..9."""
    return code[:-1] + str((int(code[-1]) + by) % 10)


@scenario("register_by_tweet")
async def register_by_tweet(ctx: ScenarioContext) -> None:
    """Asha tweets "@tatadocomo #reg 98xxx xxxxx". The operator replies publicly that a 6-digit code
    went to her number, masked (98XXXXXX10, never the full number), and the code reaches her handset
    by SMS. She tweets the code back; the reply says her number is linked and an SMS confirms the
    link to her handle. The processor now binds her handle to her number."""
    asha = await ctx.customer()
    reg = await ctx.mention(asha, f"#reg {asha.local}")
    text = await ctx.expect_reply(reg, "code_sent")
    ctx.check(
        asha.msisdn[-10:] not in text and asha.local not in text, f"the reply shows the number: {text!r}"
    )
    ctx.check(f"{asha.msisdn[3:5]}XXXXXX{asha.msisdn[-2:]}" in text, f"the number is not masked: {text!r}")
    code = await ctx.client.code_for(asha.msisdn)
    verify = await ctx.mention(asha, f"#code {code}")
    await ctx.expect_reply(verify, "registered")
    await ctx.expect_sms(asha.msisdn, SMS_PATTERNS["registered"].pattern)
    info = await ctx.client.admin(f"/admin/handles/{asha.user.username}")
    ctx.check(info["msisdn"] == asha.msisdn, f"the handle is bound to {info['msisdn']}")
    ctx.note(f"@{asha.user.username} linked to {asha.msisdn} with code {code}")


@scenario("register_by_dm")
async def register_by_dm(ctx: ScenarioContext) -> None:
    """Ravi prefers privacy: he sends the operator a DM "reg 98xxxxxxxx" (no hashtag, as 2009's
    "D @company keyword"). The answer comes back by DM, the code by SMS; he DMs the code and the DM
    answer says he is linked. Nothing is tweeted publicly in reply to a DM."""
    ravi = await ctx.customer()
    before_tweets = len(await ctx.client.operator_tweets())
    await ctx.client.dm(ravi.user, f"reg {ravi.msisdn[-10:]}")
    await ctx.expect_dm(ravi.user, "code_sent")
    code = await ctx.client.code_for(ravi.msisdn)
    await ctx.client.dm(ravi.user, code)
    await ctx.expect_dm(ravi.user, "registered")
    await ctx.client.settle()
    ctx.check(len(await ctx.client.operator_tweets()) == before_tweets, "a DM command got a public tweet")


@scenario("register_on_web_page")
async def register_on_web_page(ctx: ScenarioContext) -> None:
    """Meera opens the registration page on her phone, types her handle and number and submits the
    form (with its CSRF token). The page tells her a code went to her masked number and to tweet it
    to the operator; the SMS arrives; she tweets the code and is linked. A form posted without the
    CSRF token is refused."""
    meera = await ctx.customer()
    page = await ctx.client.register_on_page(meera.user.username, meera.local)
    ctx.check(page.status_code == 200, f"the page answered {page.status_code}")
    ctx.check("tweet" in page.text.lower(), "the page does not tell her to tweet the code")
    code = await ctx.client.code_for(meera.msisdn)
    verify = await ctx.mention(meera, code)
    await ctx.expect_reply(verify, "registered")
    forged = await ctx.client.processor.post(
        "/register", data={"handle": meera.user.username, "mobile": meera.local}
    )
    ctx.check(forged.status_code in (400, 403), f"a form without CSRF token got {forged.status_code}")


@scenario("wrong_code_with_tries_left")
async def wrong_code_with_tries_left(ctx: ScenarioContext) -> None:
    """Kiran mistypes his code. The reply says it does not match and that 4 tries are left; the
    right code after that still links his number."""
    kiran = await ctx.customer()
    await ctx.mention(kiran, f"#reg {kiran.local}")
    code = await ctx.client.code_for(kiran.msisdn)
    wrong = await ctx.mention(kiran, _wrong(code))
    text = await ctx.expect_reply(wrong, "wrong_code")
    ctx.check("4 tries" in text, f"the reply does not say 4 tries are left: {text!r}")
    right = await ctx.mention(kiran, code)
    await ctx.expect_reply(right, "registered")


@scenario("code_expired")
async def code_expired(ctx: ScenarioContext) -> None:
    """Divya asks for a code and gets distracted. Eleven minutes later (fake X's clock, which the
    processor follows, is moved forward) she tweets it: the code has expired (valid 10 minutes) and
    the reply tells her to send #reg again. A fresh #reg then works."""
    divya = await ctx.customer()
    await ctx.mention(divya, f"#reg {divya.msisdn}")
    code = await ctx.client.code_for(divya.msisdn)
    await ctx.client.settle()
    await ctx.client.advance_x_clock(11 * 60)
    late = await ctx.mention(divya, code)
    await ctx.expect_reply(late, "code_expired")
    await ctx.register(divya)


@scenario("code_lockout_after_five_wrong_tries")
async def code_lockout(ctx: ScenarioContext) -> None:
    """Someone guesses codes for Arjun's handle: four wrong tries are answered with the tries left
    (4, 3, 2, 1); the fifth voids the code and an SMS warns the number's owner. Even the right code
    is refused after that ("no code waiting"): the lockout holds."""
    arjun = await ctx.customer()
    await ctx.mention(arjun, f"#reg {arjun.local}")
    code = await ctx.client.code_for(arjun.msisdn)
    guesses = [_wrong(code, k) for k in range(1, 6)]  # five different typos (X refuses duplicate tweets)
    for left, guess in zip((4, 3, 2, 1), guesses, strict=False):
        text = await ctx.expect_reply(await ctx.mention(arjun, guess), "wrong_code")
        ctx.check(f"{left} tr" in text, f"expected {left} tries left in {text!r}")
    await ctx.expect_reply(await ctx.mention(arjun, guesses[4]), "code_voided")
    await ctx.expect_sms(arjun.msisdn, SMS_PATTERNS["code_voided"].pattern)
    await ctx.expect_reply(await ctx.mention(arjun, code), "no_pending_code")
    bound = await ctx.client.admin_maybe(f"/admin/handles/{arjun.user.username}")
    ctx.check(bound is None, "the handle got bound after the lockout")


@scenario("resend_limit_five_codes_per_ten_minutes")
async def resend_limit(ctx: ScenarioContext) -> None:
    """Pooja keeps asking for codes. Five #reg tweets within ten minutes each send a code; the sixth
    is refused with "too many codes" and no SMS goes out. Ten minutes later she may ask again."""
    pooja = await ctx.customer()
    for word in ("please", "pls", "again please", "thanks", "now"):  # X refuses duplicate tweets
        await ctx.expect_reply(await ctx.mention(pooja, f"#reg {pooja.local} {word}"), "code_sent")
    await ctx.client.settle()
    sent = await _code_sms(ctx, pooja.msisdn)
    ctx.check(len(sent) == 5, f"{len(sent)} code SMS for five #reg")
    await ctx.expect_reply(await ctx.mention(pooja, f"#reg {pooja.local} again"), "too_many_codes")
    await ctx.client.settle()
    ctx.check(await _code_sms(ctx, pooja.msisdn) == sent, "a sixth code SMS went out")
    await ctx.client.advance_x_clock(10 * 60 + 1)
    await ctx.expect_reply(await ctx.mention(pooja, f"#reg {pooja.local} later"), "code_sent")


@scenario("not_on_network")
async def not_on_network(ctx: ScenarioContext) -> None:
    """Vikram gives a number from another operator, then one that is disconnected (inactive): both
    are refused as not an active TATA DOCOMO number, and no SMS is sent to either."""
    vikram = await ctx.user("vik")
    stranger = ctx.fresh_number()
    await ctx.expect_reply(await ctx.mention(vikram, f"#reg {stranger}"), "not_on_network")
    inactive = await ctx.customer(active=False)
    await ctx.expect_reply(await ctx.mention(inactive, f"#reg {inactive.local}"), "not_on_network")
    await ctx.client.settle()
    for number in (stranger, inactive.msisdn):
        ctx.check(not await ctx.client.sms_outbox(to=number), f"an SMS went to {number}")


@scenario("postpaid_and_invalid_numbers")
async def postpaid_and_invalid(ctx: ScenarioContext) -> None:
    """A postpaid customer learns Twittcom is for prepaid numbers only; a typo'd number
    ("#reg 12345") is answered with how to write an Indian mobile number."""
    post = await ctx.customer(prepaid=False)
    await ctx.expect_reply(await ctx.mention(post, f"#reg {post.local}"), "not_prepaid")
    await ctx.expect_reply(await ctx.mention(post, "#reg 12345"), "invalid_number")


@scenario("already_bound")
async def already_bound(ctx: ScenarioContext) -> None:
    """Sunita registered last week and tweets #reg with the same number again: the reply says the
    number is already linked to her handle and no new code is sent."""
    sunita = await ctx.customer()
    await ctx.register(sunita)
    await ctx.client.settle()
    codes = await _code_sms(ctx, sunita.msisdn)
    await ctx.expect_reply(await ctx.mention(sunita, f"#reg {sunita.msisdn}"), "already_bound")
    await ctx.client.settle()
    after = await _code_sms(ctx, sunita.msisdn)
    ctx.check(after == codes, f"a new code went out: {codes} -> {after}")


@scenario("number_moves_to_a_new_handle")
async def number_moves(ctx: ScenarioContext) -> None:
    """Rahul opens a new X account and registers the number his old handle used. A fresh code goes to
    the number (so only its owner can move it); once verified the number belongs to the new handle
    and the old handle can no longer buy ("register first")."""
    old = await ctx.customer()
    await ctx.register(old)
    new_user = await ctx.user("rahul")
    before = len(await ctx.client.handset(old.msisdn))
    await ctx.expect_reply(await ctx.mention(new_user, f"#reg {old.local}"), "code_sent")
    code = await ctx.client.code_for(old.msisdn, after=before)
    await ctx.expect_reply(await ctx.mention(new_user, code), "registered")
    info = await eventually(
        lambda: ctx.client.admin_maybe(f"/admin/handles/{new_user.username}"), what="the new binding"
    )
    ctx.check(info["msisdn"] == old.msisdn, "the number did not move")
    pack = await ctx.pack(old.circle)
    await ctx.expect_reply(await ctx.mention(old, f"#act #{pack['hashtag']}"), "not_registered")
