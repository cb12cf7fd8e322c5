"""Form reading and checking: handle and mobile rules, body limits, re-rendering, escaping."""

from __future__ import annotations

import pytest

from reference.web.errors import BadFormPost
from reference.web.forms import MAX_BODY_BYTES, parse_form_body, read_registration_form

from .support import submit, token_of

FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize("handle", ["priya", "@priya", "a", "A_1", "@" + "x" * 15, " @priya_k "])
def test_valid_handles(handle):
    """Handles of 1-15 letters, digits or underscores, with or without @, are accepted."""
    form = read_registration_form({"handle": handle, "mobile": "9876543210"})
    assert "handle" not in form.errors
    assert form.handle == handle.strip().removeprefix("@")


@pytest.mark.parametrize(
    "handle",
    ["", "@", "x" * 16, "priya k", "priya-k", "@@priya", "प्रिया", "<script>", "pri\nya", "priya\u200b"],
)
def test_invalid_handles(handle):
    """Anything outside ^@?[A-Za-z0-9_]{1,15}$ gets a handle error."""
    form = read_registration_form({"handle": handle, "mobile": "9876543210"})
    assert "handle" in form.errors


@pytest.mark.parametrize(
    "mobile",
    [
        "9876543210",
        "98765 43210",
        "+91 98765 43210",
        "+91-98765-43210",
        "09876543210",
        "919876543210",
        "(0) 98765-43210",
        "９８７６５４３２１０",
    ],
)
def test_mobiles_as_indians_write_them_pass_the_page(mobile):
    """The page lets through the ways Indians write numbers (the core does the real parsing)."""
    form = read_registration_form({"handle": "priya", "mobile": mobile})
    assert form.errors == {}


@pytest.mark.parametrize("mobile", ["", "98765", "98765abcde", "+91 98765 43210 99", "9876543210; drop"])
def test_mobiles_the_page_rejects(mobile):
    """Too few or too many digits, or letters, get a mobile error before the core is asked."""
    form = read_registration_form({"handle": "priya", "mobile": mobile})
    assert "mobile" in form.errors


def test_missing_fields_get_their_own_messages():
    """An empty form says what to enter in each field."""
    form = read_registration_form({})
    assert form.errors["handle"].startswith("Enter your Twitter handle")
    assert form.errors["mobile"].startswith("Enter your Tata DOCOMO mobile number")


@pytest.mark.parametrize(
    "body, content_type, status",
    [
        (b"handle=a", "application/json", 415),
        (b"handle=a", None, 415),
        (b"x=" + b"a" * MAX_BODY_BYTES, FORM, 413),
        (b"handle=\xff", FORM, 400),
        (b"handle=%ff", FORM, 400),
        (b"&".join(b"f%d=1" % i for i in range(20)), FORM, 400),
    ],
)
def test_unreadable_bodies(body, content_type, status):
    """Wrong type, oversize, bad encoding or too many fields are refused with a precise status."""
    with pytest.raises(BadFormPost) as caught:
        parse_form_body(body, content_type)
    assert caught.value.status == status


def test_form_body_with_charset_parameter_is_read():
    """A content type with a charset parameter is still the url-encoded form."""
    fields = parse_form_body(b"handle=%40priya&mobile=98765+43210", f"{FORM}; charset=UTF-8")
    assert fields == {"handle": "@priya", "mobile": "98765 43210"}


async def test_invalid_form_is_rerendered_with_values_and_422(client, port):
    """An invalid post shows the form again, with the typed values, the errors and a fresh token."""
    response = await submit(client, handle="priya k", mobile="98765")
    assert response.status_code == 422
    assert 'value="priya k"' in response.text
    assert 'value="98765"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "There is a problem" in response.text
    assert response.text.count('href="#') == 2
    assert token_of(response.text)
    assert port.calls == []


async def test_rerendered_form_can_be_resubmitted(client, port):
    """The token in a re-rendered form is good for the corrected post."""
    bad = await submit(client, mobile="12")
    fixed = await client.post(
        "/register", data={"csrf_token": token_of(bad.text), "handle": "priya", "mobile": "9876543210"}
    )
    assert fixed.status_code == 200
    assert len(port.calls) == 1


async def test_handle_xss_attempt_is_escaped(client):
    """Markup typed into the handle comes back as inert text, never as markup."""
    attack = '"><script>alert(1)</script>'
    response = await submit(client, handle=attack)
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


async def test_mobile_xss_attempt_is_escaped(client):
    """Markup typed into the mobile field is escaped too."""
    response = await submit(client, mobile="<img src=x onerror=alert(1)>")
    assert "<img src=x" not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text


async def test_oversize_post_gets_413_page(client, port):
    """A huge body is refused with 413 before anything else is done with it."""
    await client.get("/register")
    response = await client.post("/register", content=b"x" * 10_000, headers={"Content-Type": FORM})
    assert response.status_code == 413
    assert "too large" in response.text
    assert port.calls == []


async def test_json_post_gets_415_page(client, port):
    """A JSON body is refused with 415, not a 500."""
    await client.get("/register")
    response = await client.post("/register", json={"handle": "priya", "mobile": "9876543210"})
    assert response.status_code == 415
    assert port.calls == []


async def test_values_go_to_the_core_cleaned(client, port):
    """The core gets the handle without @ and the number as typed minus surrounding blanks."""
    await submit(client, handle=" @Priya_K ", mobile="  +91 98765-43210 ")
    call = port.calls[0]
    assert (call.handle, call.mobile, call.client_ip) == ("Priya_K", "+91 98765-43210", "203.0.113.7")
