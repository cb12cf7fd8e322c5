"""How each answer of the core is shown: HTTP status, heading, explanation, next step.

Outcomes about what the user typed (bad number, number not on the network, bad handle) re-render
the form with the message on the field to fix; the others get a page of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from reference.web.ports import RequestCodeOutcome

__all__ = ["OutcomeView", "code_tweet_text", "outcome_view", "tweet_intent_url"]


@dataclass(frozen=True, slots=True)
class OutcomeView:
    """Presentation of one outcome.

    ``field`` names the form field the message belongs to (the form is shown again), or is ``None``
    for an outcome page. ``explanation`` may contain ``{operator}`` and ``{handle}``.
    """

    status: int
    title: str
    explanation: str
    field: str | None = None
    can_retry: bool = True


_VIEWS: dict[RequestCodeOutcome, OutcomeView] = {
    RequestCodeOutcome.CODE_SENT: OutcomeView(200, "Check your phone", "", can_retry=False),
    RequestCodeOutcome.INVALID_MOBILE: OutcomeView(
        422, "Check your mobile number", "We could not read that mobile number.", field="mobile"
    ),
    RequestCodeOutcome.INVALID_HANDLE: OutcomeView(
        422, "Check your Twitter handle", "We could not use that Twitter handle.", field="handle"
    ),
    RequestCodeOutcome.NOT_ON_NETWORK: OutcomeView(
        422,
        "Not a Tata DOCOMO prepaid number",
        "Twittcom works with active Tata DOCOMO prepaid numbers only. Check the number, or use "
        "your Tata DOCOMO prepaid number.",
        field="mobile",
    ),
    RequestCodeOutcome.ALREADY_BOUND: OutcomeView(
        409,
        "Already linked elsewhere",
        "This number is already linked to another Twitter handle, or @{handle} to another number. "
        "A number can be linked to one handle only. To move it, tweet @{operator} #reg with the "
        "number from the handle you want, and confirm with the new code we send to that number.",
    ),
    RequestCodeOutcome.ALREADY_REGISTERED: OutcomeView(
        200,
        "You are already registered",
        "@{handle} and this number are already linked, so you can buy packs now: tweet "
        "@{operator} #act and the pack's hashtag.",
        can_retry=False,
    ),
    RequestCodeOutcome.TOO_MANY_CODES: OutcomeView(
        429,
        "Too many codes for this number",
        "We have sent this number as many codes as we can for now. Use the last code you received, "
        "or try again later.",
    ),
    RequestCodeOutcome.UNAVAILABLE: OutcomeView(
        503,
        "We could not send a code right now",
        "Sending codes is not working at the moment. Nothing was changed; please try again in a few minutes.",
    ),
}


def outcome_view(outcome: RequestCodeOutcome) -> OutcomeView:
    """The presentation of ``outcome`` (every outcome has one)."""
    return _VIEWS[outcome]


def code_tweet_text(operator_handle: str) -> str:
    """The start of the verification tweet; the user adds the 6 digits from the SMS."""
    return f"@{operator_handle} #code "


def tweet_intent_url(base_url: str, text: str) -> str:
    """A web-intent link that opens the tweet composer with ``text`` filled in."""
    return f"{base_url}?text={quote(text, safe='')}"
