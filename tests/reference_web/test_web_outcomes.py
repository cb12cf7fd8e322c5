"""Each answer of the core rendered: success instructions, field errors, outcome pages, failures."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from reference.web import RequestCodeOutcome, RequestCodeResult
from reference.web.outcomes import outcome_view

from .support import client_for, submit, token_of

Outcome = RequestCodeOutcome


def test_every_outcome_has_a_view():
    """No outcome of the port is left without a page."""
    for outcome in RequestCodeOutcome:
        assert outcome_view(outcome).status in {200, 409, 422, 429, 503}


async def test_code_sent_tells_user_what_to_tweet(client, port):
    """Success shows the masked number and the exact tweet to send, from the user's handle."""
    port.result = RequestCodeResult(Outcome.CODE_SENT, "Code sent.", "98XXXXXX10")
    response = await submit(client, handle="@priya_k", mobile="98765 43210")
    assert response.status_code == 200
    text = response.text
    assert "We sent a 6-digit code to <strong>98XXXXXX10</strong>" in text
    assert "<code>@tatadocomo #code <var>123456</var></code>" in text
    assert "Now tweet this from <strong>@priya_k</strong> to finish:" in text


async def test_code_sent_never_shows_the_full_number(client, port):
    """The full mobile number typed by the user never appears on the success page."""
    port.result = RequestCodeResult(Outcome.CODE_SENT, "", "98XXXXXX10")
    response = await submit(client, mobile="9876543210")
    assert "9876543210" not in response.text
    assert "98765 43210" not in response.text


async def test_tweet_it_link_prefills_the_code_tweet(client, port):
    """The Tweet it link opens the composer with '@operator #code ' filled in."""
    response = await submit(client)
    href = response.text.split('href="https://twitter.com/intent/tweet?', 1)[1].split('"', 1)[0]
    assert parse_qs(href.replace("&amp;", "&"), keep_blank_values=True)["text"] == ["@tatadocomo #code "]
    assert ">Tweet it</a>" in response.text


async def test_operator_handle_and_intent_base_are_configurable(make_app, port):
    """Another operator handle and intent URL appear in the instructions and the link."""
    app = make_app(operator_handle="@otheroperator", tweet_intent_base="http://127.0.0.1:9/intent/tweet")
    async with client_for(app) as c:
        response = await submit(c)
    assert "@otheroperator #code" in response.text
    link = response.text.split('class="button" href="', 1)[1].split('"', 1)[0]
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("127.0.0.1:9", "/intent/tweet")


@pytest.mark.parametrize(
    "outcome, field",
    [
        (Outcome.INVALID_MOBILE, "mobile"),
        (Outcome.NOT_ON_NETWORK, "mobile"),
        (Outcome.INVALID_HANDLE, "handle"),
    ],
)
async def test_field_outcomes_rerender_the_form_with_the_core_message(client, port, outcome, field):
    """Outcomes about the input show the form again with the core's message on the right field."""
    port.result = RequestCodeResult(outcome, f"The core says no ({outcome}).")
    response = await submit(client)
    assert response.status_code == 422
    assert f'<span class="error" id="{field}-error">' in response.text
    assert f"The core says no ({outcome})." in response.text
    assert outcome_view(outcome).title in response.text
    assert token_of(response.text)


async def test_not_on_network_explains_prepaid_only(client, port):
    """Not on network says that only active Tata DOCOMO prepaid numbers work."""
    port.result = RequestCodeResult(Outcome.NOT_ON_NETWORK, "")
    response = await submit(client)
    assert "active Tata DOCOMO prepaid numbers only" in response.text


async def test_already_bound_explains_how_to_move_a_number(client, port):
    """Already bound: 409 with the one-number-one-handle rule and how to move it."""
    port.result = RequestCodeResult(Outcome.ALREADY_BOUND, "98XXXXXX10 is linked to another handle.")
    response = await submit(client, handle="priya_k")
    assert response.status_code == 409
    assert "Already linked elsewhere" in response.text
    assert "@priya_k to another number" in response.text
    assert "tweet @tatadocomo #reg" in response.text
    assert "98XXXXXX10 is linked to another handle." in response.text


async def test_already_registered_says_you_can_buy(client, port):
    """Already registered: 200 and how to buy a pack."""
    port.result = RequestCodeResult(Outcome.ALREADY_REGISTERED, "")
    response = await submit(client)
    assert response.status_code == 200
    assert "You are already registered" in response.text
    assert "@tatadocomo #act" in response.text


async def test_too_many_codes_is_429_with_the_cores_retry_after(client, port):
    """Too many codes: 429, Retry-After from the core, and the wait in words."""
    port.result = RequestCodeResult(
        Outcome.TOO_MANY_CODES, "5 codes in 10 minutes is the limit.", None, 421.5
    )
    response = await submit(client)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "422"
    assert "about 8 minutes" in response.text
    assert "5 codes in 10 minutes is the limit." in response.text


async def test_unavailable_is_503(client, port):
    """The core saying it cannot send gives a 503 page that says nothing changed."""
    port.result = RequestCodeResult(Outcome.UNAVAILABLE, "", None, 30)
    response = await submit(client)
    assert response.status_code == 503
    assert "Nothing was changed" in response.text
    assert response.headers["retry-after"] == "30"


async def test_core_crash_is_a_503_page_not_a_500(client, port, caplog):
    """An exception from the core becomes the 'could not send' page and is logged."""
    port.error = RuntimeError("database is locked")
    response = await submit(client)
    assert response.status_code == 503
    assert "We could not send a code right now" in response.text
    assert "database is locked" not in response.text
    assert "request_code failed" in caplog.text


async def test_core_messages_are_escaped(client, port):
    """Even the core's own message is escaped (it may quote what the user typed)."""
    port.result = RequestCodeResult(Outcome.INVALID_MOBILE, "'<b>98</b>' is not a number")
    response = await submit(client)
    assert "&#39;&lt;b&gt;98&lt;/b&gt;&#39; is not a number" in response.text


async def test_port_runs_inline_when_offload_is_off(make_app, port):
    """offload=False calls the port on the event loop and gives the same page."""
    async with client_for(make_app(offload=False)) as c:
        response = await submit(c)
    assert response.status_code == 200
    assert len(port.calls) == 1
