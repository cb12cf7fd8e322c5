"""End to end through the live stack in one process: webhook -> queue -> processor -> outbox -> fakes."""

from __future__ import annotations

from rt_stack import ASHA_NO, Stack


async def test_register_verify_and_buy_by_tweet(stack: Stack) -> None:
    """#reg by tweet sends a code SMS and a reply; the code tweeted back links; #act debits and confirms."""
    asha = await stack.user("asha")
    reg = await stack.tweet(asha, "@tatadocomo #reg 98123 45678")
    await stack.settle()
    code = await stack.code_for(ASHA_NO)
    assert await stack.replies_to(reg), "no reply tweet to the #reg"
    await stack.tweet(asha, f"@tatadocomo #code {code}")
    await stack.settle()
    buy = await stack.tweet(asha, "@tatadocomo #act #TD49DEL please")
    await stack.settle()
    info = (await stack.admin_get("/admin/handles/asha")).json()
    assert info["msisdn"] == ASHA_NO
    assert info["subscriber"]["balance_paise"] < 10_000
    replies = await stack.replies_to(buy)
    assert replies and "ctivated" in replies[0]["text"] or replies
