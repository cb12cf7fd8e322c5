"""Every outcome of issue point 6 through the processor (in-memory store), with its replies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from refworld import (
    ALICE,
    ALICE_NO,
    BOB,
    BOB_NO,
    CAROL,
    CAROL_NO,
    DAVE,
    INACTIVE_NO,
    POSTPAID_NO,
    World,
)

import twitter_text
from reference.domain.money import rupees
from reference.domain.outcomes import Outcome, ReplyTweet, SendDm, SendSms
from reference.domain.subscribers import Subscriber
from reference.service.processor import Processed


def _reply(result: Processed) -> str:
    replies = [e.text for e in result.effects if isinstance(e, ReplyTweet | SendDm)]
    assert len(replies) == 1
    return replies[0]


def _sms(result: Processed) -> list[SendSms]:
    return [e for e in result.effects if isinstance(e, SendSms)]


def _balance(world: World, msisdn: str) -> int:
    subscriber = world.store.subscriber(msisdn)  # type: ignore[attr-defined]
    assert subscriber is not None
    return int(subscriber.balance_paise)


def _check_public(text: str, number: str) -> None:
    assert number not in text and number[3:] not in text
    assert twitter_text.weighted_length(text) <= 280


def test_code_sent(world: World) -> None:
    """#reg with an active prepaid number: reply names the masked number, SMS carries the code."""
    result, code = world.register(ALICE, "98765 43210")
    assert result.outcome is Outcome.CODE_SENT
    reply = _reply(result)
    assert reply.startswith("@alice ") and "98XXXXXX10" in reply
    _check_public(reply, ALICE_NO)
    (sms,) = _sms(result)
    assert sms.msisdn == ALICE_NO and code is not None and code in sms.text


def test_registered(world: World) -> None:
    """The right code binds handle and number; confirmation tweet and SMS."""
    result = world.onboard(ALICE, ALICE_NO)
    assert result.outcome is Outcome.REGISTERED
    _check_public(_reply(result), ALICE_NO)
    assert [s.msisdn for s in _sms(result)] == [ALICE_NO]
    assert world.store.binding_of_handle("@ALICE") == (ALICE.user_id, ALICE_NO)  # type: ignore[attr-defined]


def test_wrong_code_says_tries_left(world: World) -> None:
    """A wrong code spends a try and the reply says how many are left; no SMS."""
    _, code = world.register(ALICE, ALICE_NO)
    wrong = "000000" if code != "000000" else "111111"
    result = world.tweet(ALICE, f"@tatadocomo {wrong}")
    assert result.outcome is Outcome.WRONG_CODE
    assert "4 tries" in _reply(result)
    assert _sms(result) == []


def test_code_expired(world: World) -> None:
    """The right code after 10 minutes is refused as expired."""
    _, code = world.register(ALICE, ALICE_NO)
    world.clock.advance(timedelta(minutes=10))
    result = world.tweet(ALICE, f"@tatadocomo #code {code}")
    assert result.outcome is Outcome.CODE_EXPIRED
    assert "expired" in _reply(result)


def test_code_voided_after_five_wrong_tries(world: World) -> None:
    """The fifth wrong try voids the code (SMS warns the number); the right code then fails."""
    _, code = world.register(ALICE, ALICE_NO)
    wrong = "000000" if code != "000000" else "111111"
    outcomes = [world.tweet(ALICE, f"@tatadocomo {wrong}") for _ in range(5)]
    assert [o.outcome for o in outcomes] == [Outcome.WRONG_CODE] * 4 + [Outcome.CODE_VOIDED]
    assert [s.msisdn for s in _sms(outcomes[-1])] == [ALICE_NO]
    assert world.tweet(ALICE, f"@tatadocomo {code}").outcome is Outcome.NO_PENDING_CODE


def test_code_single_use_and_bound_to_requesting_handle(world: World) -> None:
    """Another handle cannot use Alice's code, and Alice cannot use it twice."""
    _, code = world.register(ALICE, ALICE_NO)
    assert world.tweet(DAVE, f"@tatadocomo {code}").outcome is Outcome.NO_PENDING_CODE
    assert world.tweet(ALICE, f"@tatadocomo {code}").outcome is Outcome.REGISTERED
    assert world.tweet(ALICE, f"@tatadocomo {code}").outcome is Outcome.NO_PENDING_CODE


def test_too_many_codes(world: World) -> None:
    """A sixth #reg for one number within 10 minutes gets no code; after the window it does."""
    results = [world.register(ALICE, ALICE_NO)[0] for _ in range(6)]
    assert [r.outcome for r in results] == [Outcome.CODE_SENT] * 5 + [Outcome.TOO_MANY_CODES]
    assert _sms(results[-1]) == []
    _check_public(_reply(results[-1]), ALICE_NO)
    world.clock.advance(timedelta(minutes=10))
    assert world.register(ALICE, ALICE_NO)[0].outcome is Outcome.CODE_SENT


def test_send_limit_counts_per_number_across_handles(world: World) -> None:
    """The send limit is per number: other handles asking for the same number count too."""
    for user in (ALICE, DAVE, ALICE, DAVE, ALICE):
        assert world.register(user, ALICE_NO)[0].outcome is Outcome.CODE_SENT
    assert world.register(DAVE, ALICE_NO)[0].outcome is Outcome.TOO_MANY_CODES


def test_a_new_code_replaces_the_old(world: World) -> None:
    """Only the latest code of a handle is valid (the keyed hash of the old one is replaced)."""
    _, first = world.register(ALICE, ALICE_NO)
    _, second = world.register(ALICE, ALICE_NO)
    if first != second:
        assert world.tweet(ALICE, f"@tatadocomo {first}").outcome is Outcome.WRONG_CODE
    assert world.tweet(ALICE, f"@tatadocomo {second}").outcome is Outcome.REGISTERED


@pytest.mark.parametrize("number", ["12345", "5876543210", "+44 7700 900123"])
def test_invalid_number(world: World, number: str) -> None:
    """#reg with something that is not an Indian mobile number."""
    result = world.tweet(ALICE, f"@tatadocomo #reg {number}")
    assert result.outcome is Outcome.INVALID_NUMBER
    assert _sms(result) == []


@pytest.mark.parametrize("number", ["+919999999999", INACTIVE_NO])
def test_not_on_network(world: World, number: str) -> None:
    """Unknown or inactive numbers cannot register; nothing is sent to them."""
    result, code = world.register(ALICE, number)
    assert result.outcome is Outcome.NOT_ON_NETWORK and code is None
    _check_public(_reply(result), number)


def test_not_prepaid(world: World) -> None:
    """Postpaid numbers cannot use Twittcom."""
    assert world.register(ALICE, POSTPAID_NO)[0].outcome is Outcome.NOT_PREPAID


def test_already_bound(world: World) -> None:
    """#reg of the number already linked to this handle: a public reply, no code and no SMS."""
    world.onboard(ALICE, ALICE_NO)
    result, code = world.register(ALICE, ALICE_NO)
    assert result.outcome is Outcome.ALREADY_BOUND and code is None
    assert _sms(result) == []
    _check_public(_reply(result), ALICE_NO)


def test_failed_buys_of_a_registered_user_get_an_sms_with_balance_and_packs(world: World) -> None:
    """Unknown pack and pack of another circle: the linked number gets the circle's packs and balance."""
    world.onboard(ALICE, ALICE_NO)
    balance = rupees(_balance(world, ALICE_NO))
    for text, outcome, said in (
        ("@tatadocomo #act #NOSUCHPACK", Outcome.UNKNOWN_PACK, "the pack #NOSUCHPACK"),
        ("@tatadocomo #act", Outcome.UNKNOWN_PACK, "(no pack hashtag given)"),
        ("@tatadocomo #act #TD49MUM", Outcome.PACK_NOT_IN_CIRCLE, "#TD49MUM is not sold in your circle"),
    ):
        result = world.tweet(ALICE, text)
        assert result.outcome is outcome
        (sms,) = _sms(result)
        assert sms.msisdn == ALICE_NO and said in sms.text
        assert "#TD11DEL" in sms.text and "MUM (" not in sms.text and f"Balance {balance}." in sms.text
        assert balance not in _reply(result)
    assert _balance(world, ALICE_NO) == 10_000


def test_moving_a_number_needs_a_fresh_code(world: World) -> None:
    """A number bound to Alice moves to Dave only after Dave verifies a code sent to that number."""
    world.onboard(ALICE, ALICE_NO)
    result, code = world.register(DAVE, ALICE_NO)
    assert result.outcome is Outcome.CODE_SENT
    assert world.store.binding_of_handle("alice") == (ALICE.user_id, ALICE_NO)  # type: ignore[attr-defined]
    assert world.tweet(DAVE, f"@tatadocomo {code}").outcome is Outcome.REGISTERED
    assert world.store.binding_of_handle("dave") == (DAVE.user_id, ALICE_NO)  # type: ignore[attr-defined]
    assert world.store.binding_of_handle("alice") is None  # type: ignore[attr-defined]
    assert world.tweet(ALICE, "@tatadocomo #act #TD49DEL").outcome is Outcome.NOT_REGISTERED


def test_not_registered(world: World) -> None:
    """Buying before registering asks the user to #reg first."""
    result = world.tweet(ALICE, "@tatadocomo #act #TD49DEL")
    assert result.outcome is Outcome.NOT_REGISTERED
    assert "#reg" in _reply(result)


def test_unknown_pack_suggests_the_circles_packs(world: World) -> None:
    """An unknown hashtag is answered with the subscriber's circle's packs."""
    world.onboard(ALICE, ALICE_NO)
    result = world.tweet(ALICE, "@tatadocomo #act #NOSUCHPACK")
    assert result.outcome is Outcome.UNKNOWN_PACK
    reply = _reply(result)
    assert "#TD11DEL" in reply and "#TD49MUM" not in reply
    _check_public(reply, ALICE_NO)
    assert world.tweet(ALICE, "@tatadocomo #act").outcome is Outcome.UNKNOWN_PACK


def test_pack_not_in_circle(world: World) -> None:
    """A Mumbai hashtag from a Delhi subscriber: not in your circle, with Delhi suggestions."""
    world.onboard(ALICE, ALICE_NO)
    result = world.tweet(ALICE, "@tatadocomo #act #TD49MUM")
    assert result.outcome is Outcome.PACK_NOT_IN_CIRCLE
    assert "#TD49DEL" in _reply(result)


def test_insufficient_balance(world: World) -> None:
    """Bob (Rs 5) cannot buy a Rs 49 pack: the tweet hides the balance, the SMS tells it."""
    world.onboard(BOB, BOB_NO)
    result = world.tweet(BOB, "@tatadocomo #act #TD49MUM")
    assert result.outcome is Outcome.INSUFFICIENT_BALANCE
    reply = _reply(result)
    assert rupees(500) not in reply
    (sms,) = _sms(result)
    assert rupees(500) in sms.text
    assert world.store.subscriber(BOB_NO).balance_paise == 500  # type: ignore[attr-defined]


def test_activated(world: World) -> None:
    """A purchase debits the price once, replies publicly without the balance, SMSes the new balance."""
    world.onboard(ALICE, ALICE_NO)
    result = world.tweet(ALICE, "@tatadocomo #act #TD49DEL please")
    assert result.outcome is Outcome.ACTIVATED
    reply = _reply(result)
    _check_public(reply, ALICE_NO)
    assert rupees(5100) not in reply
    (sms,) = _sms(result)
    assert sms.msisdn == ALICE_NO and rupees(5100) in sms.text
    assert world.store.subscriber(ALICE_NO).balance_paise == 5100  # type: ignore[attr-defined]


def test_duplicate_delivery_debits_once_and_replies_once(world: World) -> None:
    """The same tweet id delivered twice: one debit, one reply, the second is a silent duplicate."""
    world.onboard(ALICE, ALICE_NO)
    first = world.tweet(ALICE, "@tatadocomo #act #TD49DEL", message_id="555")
    second = world.tweet(ALICE, "@tatadocomo #act #TD49DEL", message_id="555")
    assert (first.outcome, second.outcome) == (Outcome.ACTIVATED, Outcome.DUPLICATE)
    assert second.effects == ()
    assert world.store.subscriber(ALICE_NO).balance_paise == 5100  # type: ignore[attr-defined]


def test_noise_is_recorded_without_reply(world: World) -> None:
    """Complaints and chatter go on the timeline and get no automatic reply."""
    result = world.tweet(CAROL, "@tatadocomo my data is so slow today")
    assert result.outcome is Outcome.NOISE and result.effects == ()
    entries = world.store.timeline(handle="carol")  # type: ignore[attr-defined]
    assert [e["kind"] for e in entries] == ["tweet_in"]


def test_dm_commands_are_answered_by_dm(world: World) -> None:
    """Commands received by DM are answered by DM, not by a public tweet."""
    result = world.dm(CAROL, f"reg {CAROL_NO}")
    assert result.outcome is Outcome.CODE_SENT
    assert any(isinstance(e, SendDm) for e in result.effects)
    assert not any(isinstance(e, ReplyTweet) for e in result.effects)
    assert not _reply(result).startswith("@")


def test_replies_to_one_user_are_never_identical_in_a_row(world: World) -> None:
    """The same outcome twice in a row for one user yields two different reply texts."""
    world.onboard(BOB, BOB_NO)
    texts = [_reply(world.tweet(BOB, "@tatadocomo #act #TD49MUM")) for _ in range(6)]
    assert all(a != b for a, b in zip(texts, texts[1:], strict=False))
    assert len(set(texts)) == len(texts)


def test_number_that_left_the_network_cannot_complete_registration(world: World) -> None:
    """A number deactivated between #reg and the code is not bound."""
    _, code = world.register(CAROL, CAROL_NO)
    world.store.add_subscribers([Subscriber(CAROL_NO, "KA", 100_000, active=False)])  # type: ignore[attr-defined]
    assert world.tweet(CAROL, f"@tatadocomo {code}").outcome is Outcome.NOT_ON_NETWORK
    assert world.store.binding_of_handle("carol") is None  # type: ignore[attr-defined]


def test_web_channel_gets_sms_but_no_reply(world: World) -> None:
    """A registration from the web page is answered on the page: SMS only, no tweet or DM."""
    message = world.message(ALICE, f"@tatadocomo #reg {ALICE_NO}", channel="web")
    result = world.processor.process(message)
    assert result.outcome is Outcome.CODE_SENT
    assert [type(e) for e in result.effects] == [SendSms]
