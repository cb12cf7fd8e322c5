"""Reply texts for every outcome: a public tweet (or DM) and, where a number is involved, an SMS.

Rules: the public reply never shows the full number (masked ``98XXXXXX10``) nor any balance; it fits
280 weighted characters (``twitter_text.weighted_length``); and two replies to the same user are
never identical, because X rejects duplicate tweets. The phrasing rotates with the inbound message
id and every reply ends with a reference derived injectively from that id (hex of a numeric
tweet id), so two different inbound messages can never produce the same reply text.

SMS texts go only to a number the user proved or is proving to own, and every SMS to a linked
number carries its balance (the public reply never does). A registered user therefore gets an SMS
for every purchase outcome (activated, insufficient balance, unknown pack, pack not in the circle).
Outcomes without a proven number (invalid number, not on network, not prepaid, not registered, no
pending code) send none, and neither do a wrong or expired code nor too many codes: an SMS per
failed guess or per refused ``#reg`` would let a stranger flood someone else's phone; the one
warning is the SMS when a code is voided. A repeated ``#reg`` of the number already linked gets
the public reply only (nothing new reaches the phone).
"""

from __future__ import annotations

import functools
import string
import zlib
from collections.abc import Callable, Sequence
from datetime import date
from typing import NamedTuple, TypeAlias

import twitter_text
from reference.domain.catalog import Pack
from reference.domain.money import rupees
from reference.domain.outcomes import Outcome
from reference.domain.phone import mask

__all__ = ["MAX_TWEET_WEIGHT", "ReplyFacts", "SMS_SUGGESTIONS", "message_ref", "render_reply", "render_sms"]

MAX_TWEET_WEIGHT = 280


class ReplyFacts(NamedTuple):
    """What a reply may talk about; fields not relevant to an outcome stay at their defaults.

    A named tuple rather than a frozen dataclass: it is built for every reply on the hot path."""

    handle: str
    message_id: str
    msisdn: str | None = None
    tries_left: int = 0
    pack: Pack | None = None
    hashtag: str | None = None
    circle: str | None = None
    suggestions: Sequence[Pack] = ()
    balance_paise: int | None = None
    valid_until: date | None = None
    code: str | None = None
    ttl_minutes: int = 10


_REPLIES: dict[Outcome, tuple[str, ...]] = {
    Outcome.CODE_SENT: (
        "We have sent a 6-digit code by SMS to {masked}. Send it back to us within {ttl} minutes.",
        "A 6-digit code is on its way to {masked}. Reply with it within {ttl} minutes to link your number.",
        "Check your SMS on {masked}: send us the 6-digit code within {ttl} minutes.",
    ),
    Outcome.REGISTERED: (
        "Done! {masked} is now linked to your handle. Buy a pack any time: #act plus the pack hashtag.",
        "Welcome to Twittcom! {masked} is linked. To buy, tweet #act with the pack's hashtag.",
    ),
    Outcome.WRONG_CODE: (
        "That code does not match. {tries} left before it expires.",
        "Sorry, wrong code. You have {tries} left.",
    ),
    Outcome.CODE_EXPIRED: (
        "That code has expired. Tweet #reg with your number for a new one.",
        "Your code timed out. Send #reg and your number again to get a fresh code.",
    ),
    Outcome.CODE_VOIDED: (
        "Too many wrong codes, so that code no longer works. Tweet #reg with your number for a new one.",
        "That code is now void after too many wrong tries. Send #reg and your number to start again.",
    ),
    Outcome.NO_PENDING_CODE: (
        "We have no code waiting for you. Tweet #reg with your mobile number to get one.",
        "No code is pending for your handle. Start with #reg and your mobile number.",
    ),
    Outcome.TOO_MANY_CODES: (
        "Too many codes were sent to {masked} recently. Please try again in a few minutes.",
        "We have sent {masked} the maximum number of codes for now. Try again a little later.",
    ),
    Outcome.INVALID_NUMBER: (
        "That does not look like an Indian mobile number. Tweet #reg followed by your 10-digit number.",
        "We could not read a mobile number there. Try #reg 98XXXXXXXX with your 10-digit number.",
    ),
    Outcome.NOT_ON_NETWORK: (
        "{masked} is not an active TATA DOCOMO number, so we cannot link it.",
        "Sorry, {masked} is not active on our network and cannot be registered.",
    ),
    Outcome.NOT_PREPAID: (
        "{masked} is not a prepaid number. Twittcom packs are for prepaid numbers only.",
        "Twittcom works with prepaid numbers, and {masked} is not one.",
    ),
    Outcome.ALREADY_BOUND: (
        "{masked} is already linked to your handle. Tweet #act with a pack hashtag to buy.",
        "You are already registered with {masked}. Use #act and a pack hashtag to buy.",
    ),
    Outcome.NOT_REGISTERED: (
        "Please link your number first: tweet #reg with your mobile number.",
        "To buy packs, register first by tweeting #reg and your mobile number.",
    ),
    Outcome.UNKNOWN_PACK: (
        "We do not know that pack. In your circle try: {suggestions}",
        "No pack goes by that hashtag. Packs for you: {suggestions}",
    ),
    Outcome.PACK_NOT_IN_CIRCLE: (
        "#{hashtag} is not sold in your circle. Try: {suggestions}",
        "#{hashtag} is for another circle. In yours: {suggestions}",
    ),
    Outcome.INSUFFICIENT_BALANCE: (
        "Your balance is too low for {pack}. Please recharge and tweet again.",
        "Not enough balance for {pack}. Recharge and try again.",
    ),
    Outcome.ACTIVATED: (
        "{pack} is active on {masked}, valid till {until}. Details sent by SMS.",
        "Done! {pack} activated on {masked}, valid till {until}. Check your SMS.",
        "Enjoy! {pack} now runs on {masked} till {until}. SMS sent with details.",
    ),
}

_SMS: dict[Outcome, str] = {
    Outcome.CODE_SENT: "Your Twittcom code is {code}. It is valid for {ttl} minutes. Never share it. "
    "If you did not ask for it, ignore this SMS.",
    Outcome.REGISTERED: "Your number is now linked to Twitter handle @{handle} for Twittcom purchases.",
    Outcome.CODE_VOIDED: "Too many wrong Twittcom codes were entered for your number; the code is void.",
    Outcome.INSUFFICIENT_BALANCE: "Twittcom: {pack} costs {price}; your balance is {balance}. "
    "Please recharge.",
    Outcome.ACTIVATED: "Twittcom: {pack} activated, valid till {until}. {price} debited, "
    "new balance {balance}.",
    Outcome.UNKNOWN_PACK: "Twittcom: we do not know the pack {asked}. Packs in your circle: {suggestions}. "
    "Balance {balance}.",
    Outcome.PACK_NOT_IN_CIRCLE: "Twittcom: {asked} is not sold in your circle. Packs in your circle: "
    "{suggestions}. Balance {balance}.",
}
#: packs listed in an SMS (a long SMS is billed and delivered as several parts)
SMS_SUGGESTIONS = 4


def message_ref(message_id: str) -> str:
    """A short reference, injective in the message id (upper-case hex of numeric ids)."""
    if message_id.isdigit() and message_id.isascii() and len(message_id) < 40 and message_id[0] != "0":
        return f"{int(message_id):X}"
    return message_id[:40]


@functools.lru_cache(maxsize=512)
def _day(value: date) -> str:
    return value.strftime("%d %b %Y")


def _suggest(packs: Sequence[Pack], limit: int) -> str:
    shown = [f"#{p.hashtag} ({rupees(p.price_paise)})" for p in packs[:limit]]
    return ", ".join(shown) if shown else "(no packs on sale in your circle yet)"


_Field: TypeAlias = Callable[[ReplyFacts, int], str]
#: a template compiled once: (literal text, field or None) pieces, joined at render time
_Compiled: TypeAlias = tuple[tuple[str, _Field | None], ...]

_FIELDS: dict[str, _Field] = {
    "masked": lambda f, _: mask(f.msisdn) if f.msisdn else "your number",
    "ttl": lambda f, _: str(f.ttl_minutes),
    "tries": lambda f, _: f"{f.tries_left} {'try' if f.tries_left == 1 else 'tries'}",
    "pack": lambda f, _: f.pack.name if f.pack else (f.hashtag or "that pack"),
    "hashtag": lambda f, _: f.hashtag or "",
    "suggestions": lambda f, limit: _suggest(f.suggestions, limit),
    "until": lambda f, _: _day(f.valid_until) if f.valid_until else "",
}
#: pack prices repeat (a catalog has a few dozen), balances do not: only prices are memoised
_price = functools.lru_cache(maxsize=1024)(rupees)
_SMS_FIELDS: dict[str, _Field] = {
    "code": lambda f, _: f.code or "",
    "ttl": lambda f, _: str(f.ttl_minutes),
    "handle": lambda f, _: f.handle,
    "pack": lambda f, _: f.pack.name if f.pack else "",
    "price": lambda f, _: _price(f.pack.price_paise) if f.pack else "",
    "balance": lambda f, _: rupees(f.balance_paise or 0),
    "until": lambda f, _: _day(f.valid_until) if f.valid_until else "",
    "asked": lambda f, _: f"#{f.hashtag}" if f.hashtag else "(no pack hashtag given)",
    "suggestions": lambda f, _: _suggest(f.suggestions, SMS_SUGGESTIONS),
}


def _compile(template: str, fields: dict[str, _Field]) -> _Compiled:
    """Split ``template`` into literal/field pieces (only the fields it names are ever computed)."""
    return tuple(
        (literal, fields[name] if name else None)
        for literal, name, _, _ in string.Formatter().parse(template)
    )


def _fill(pieces: _Compiled, facts: ReplyFacts, limit: int) -> str:
    return "".join([literal if field is None else literal + field(facts, limit) for literal, field in pieces])


# Looked up by the member's value: Enum.__hash__ is Python code, str hashing is not (hot path).
_REPLIES_BY_VALUE = {
    outcome.value: tuple(_compile(t, _FIELDS) for t in variants) for outcome, variants in _REPLIES.items()
}
_SMS_BY_VALUE = {outcome.value: _compile(template, _SMS_FIELDS) for outcome, template in _SMS.items()}


def render_reply(outcome: Outcome, facts: ReplyFacts, *, public: bool = True) -> str | None:
    """The reply for ``outcome`` (``None`` when the outcome gets no reply: noise, duplicates).

    ``public`` replies start with ``@handle``; a DM answer does not.
    """
    variants = _REPLIES_BY_VALUE.get(outcome._value_)
    if variants is None:
        return None
    template = variants[zlib.crc32(facts.message_id.encode()) % len(variants)]
    prefix = f"@{facts.handle} " if public else ""
    suffix = f" Ref {message_ref(facts.message_id)}"
    limit = 6
    while True:
        text = prefix + _fill(template, facts, limit) + suffix
        # Without URLs no code point weighs more than 2, so 140 code points always fit; the catalog
        # rejects pack names with URLs and handles/hashtags cannot form one. Longer texts are
        # measured exactly (weighted_length is ~100x slower than len, and this is the hot path).
        if len(text) * 2 <= MAX_TWEET_WEIGHT or twitter_text.weighted_length(text) <= MAX_TWEET_WEIGHT:
            return text
        if limit == 0:
            return text
        limit -= 1


def render_sms(outcome: Outcome, facts: ReplyFacts) -> str | None:
    """The SMS for ``outcome`` or ``None`` when that outcome sends none."""
    pieces = _SMS_BY_VALUE.get(outcome._value_)
    if pieces is None:
        return None
    return _fill(pieces, facts, 0)
