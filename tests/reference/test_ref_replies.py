"""Reply texts: every outcome, every phrasing, worst-case inputs: <= 280 weighted, masked, no balance."""

from __future__ import annotations

from datetime import date

import pytest

import twitter_text
from reference.domain.catalog import Catalog, Pack
from reference.domain.money import rupees
from reference.domain.outcomes import Outcome
from reference.domain.replies import MAX_TWEET_WEIGHT, ReplyFacts, message_ref, render_reply, render_sms

NUMBER = "+919876543210"
BALANCE = 123_456_789
SILENT = {Outcome.NOISE, Outcome.DUPLICATE, Outcome.FAILED}


def _facts(catalog: Catalog, message_id: str) -> ReplyFacts:
    packs = catalog.packs_in("DL")
    long_pack = Pack("long", "Rs 999 Unlimited Everything Super Saver Mega Combo Pack", "stv", 99_900, 365,
                     "Everything", "DL", "TD999DELHISUPERCOMBO")  # fmt: skip
    return ReplyFacts(
        handle="a_very_long_han",  # 15 characters, X's maximum
        message_id=message_id,
        msisdn=NUMBER,
        tries_left=3,
        pack=long_pack,
        hashtag="TD999DELHISUPERCOMBO",
        circle="DL",
        suggestions=packs * 3,
        balance_paise=BALANCE,
        valid_until=date(2026, 12, 31),
        code="123456",
    )


@pytest.mark.parametrize("outcome", [o for o in Outcome if o not in SILENT])
@pytest.mark.parametrize("public", [True, False])
def test_every_reply_fits_and_hides_number_and_balance(
    outcome: Outcome, public: bool, catalog: Catalog
) -> None:
    """All phrasings of every outcome fit 280 weighted characters, mask the number, omit the balance."""
    seen = set()
    for serial in range(40):
        message_id = str(1_790_000_000_000_000_000 + serial)
        text = render_reply(outcome, _facts(catalog, message_id), public=public)
        assert text is not None
        assert twitter_text.weighted_length(text) <= MAX_TWEET_WEIGHT
        assert NUMBER not in text and NUMBER[3:] not in text
        assert rupees(BALANCE) not in text
        assert text.startswith("@a_very_long_han ") is public
        assert text.endswith(message_ref(message_id))
        seen.add(text)
    assert len(seen) == 40


@pytest.mark.parametrize("outcome", sorted(SILENT, key=lambda o: o.value))
def test_silent_outcomes_have_no_reply_or_sms(outcome: Outcome, catalog: Catalog) -> None:
    """Noise, duplicates and failures are never answered."""
    facts = _facts(catalog, "1")
    assert render_reply(outcome, facts) is None and render_sms(outcome, facts) is None


def test_sms_carry_the_new_balance_where_relevant(catalog: Catalog) -> None:
    """Activation and insufficient-balance SMS state the balance; the code SMS carries the code."""
    facts = _facts(catalog, "1")
    for outcome in (Outcome.ACTIVATED, Outcome.INSUFFICIENT_BALANCE):
        sms = render_sms(outcome, facts)
        assert sms is not None and rupees(BALANCE) in sms
    code_sms = render_sms(Outcome.CODE_SENT, facts)
    assert code_sms is not None and "123456" in code_sms
    assert render_sms(Outcome.WRONG_CODE, facts) is None


def test_message_ref_is_injective_on_tweet_ids() -> None:
    """Different numeric ids give different references (hex), so replies never repeat."""
    ids = [str(1_790_000_000_000_000_000 + n) for n in range(1000)] + ["7", "07", "0", "abc"]
    refs = [message_ref(i) for i in ids]
    assert len(set(refs)) == len(refs)


def test_compiled_templates_render_exactly_what_str_format_would(catalog: Catalog) -> None:
    """Every reply phrasing and SMS, rendered from its compiled pieces, equals str.format of its text."""
    from reference.domain import replies

    facts = _facts(catalog, "1790000000000000001")._replace(
        valid_until=date(2026, 3, 29), balance_paise=4_950, code="012345"
    )
    reply_values = {name: field(facts, 6) for name, field in replies._FIELDS.items()}
    sms_values = {
        "code": "012345",
        "ttl": 10,
        "handle": facts.handle,
        "pack": facts.pack.name if facts.pack else "",
        "price": rupees(facts.pack.price_paise if facts.pack else 0),
        "balance": rupees(4_950),
        "until": "29 Mar 2026",
        "asked": f"#{facts.hashtag}",
        "suggestions": ", ".join(f"#{p.hashtag} ({rupees(p.price_paise)})" for p in facts.suggestions[:4]),
    }
    for outcome, variants in replies._REPLIES.items():
        for template, pieces in zip(variants, replies._REPLIES_BY_VALUE[outcome.value], strict=True):
            assert replies._fill(pieces, facts, 6) == template.format(**reply_values)
    for outcome, template in replies._SMS.items():
        assert render_sms(outcome, facts) == template.format(**sms_values)


def test_code_sent_wording_fits_a_dm_as_well_as_a_tweet(catalog: Catalog) -> None:
    """The code-sent answer (also sent as a DM) never tells a DM user to tweet the code."""
    from reference.domain.replies import _REPLIES

    texts = {render_reply(Outcome.CODE_SENT, _facts(catalog, str(n)), public=False) for n in range(1, 40)}
    assert len(texts) == 39 and len({t.rsplit(" Ref ", 1)[0] for t in texts if t}) == len(
        _REPLIES[Outcome.CODE_SENT]
    )
    for text in texts:
        assert text is not None and "tweet" not in text.lower() and "6-digit code" in text
