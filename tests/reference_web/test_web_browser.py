"""End to end in headless Chromium on a phone-sized screen: register, see the failure pages, resist CSRF."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from reference.web import RequestCodeOutcome, RequestCodeResult, create_registration_app

from .browser import PHONE, LiveServer, phone_browser, png_size, require_chromium
from .support import SECRET, token_of

pytestmark = pytest.mark.browser


class ScriptedCore:
    """Answers like the core for the numbers tests type.

    6000... is bound elsewhere, 7000... is off the network, any other number gets a code.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def request_code(self, handle: str, mobile: str, *, client_ip: str) -> RequestCodeResult:
        with self._lock:
            self.calls.append((handle, mobile))
        digits = re.sub(r"\D", "", mobile)[-10:]
        if digits.startswith("6000"):
            return RequestCodeResult(
                RequestCodeOutcome.ALREADY_BOUND, "This number is linked to another handle."
            )
        if digits.startswith("7000"):
            return RequestCodeResult(
                RequestCodeOutcome.NOT_ON_NETWORK, f"{digits[:2]}XXXXXX{digits[-2:]} is not on our network."
            )
        return RequestCodeResult(
            RequestCodeOutcome.CODE_SENT, "Code sent.", f"{digits[:2]}XXXXXX{digits[-2:]}"
        )


@pytest.fixture(scope="module")
def core() -> ScriptedCore:
    return ScriptedCore()


@pytest.fixture(scope="module")
def site(core: ScriptedCore) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(create_registration_app(core, secret_key=SECRET)) as server:
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    require_chromium()
    with phone_browser(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


@pytest.fixture
def fresh_browser(browser: Any, core: ScriptedCore) -> Any:
    """The shared browser with no cookies left from a previous test, and a clean call log."""
    browser.delete_all_cookies()
    core.calls.clear()
    return browser


def click_and_wait(driver: Any, css: str) -> None:
    """Click what submits or navigates, then wait until a new document has fully loaded.

    The old document is tagged with a window property; the new one does not have it. Errors
    while the navigation is under way (stale nodes, "node does not belong to the document") are
    retried rather than raised.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    driver.execute_script("window.__twittcomOldPage = true;")
    driver.find_element(By.CSS_SELECTOR, css).click()
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return window.__twittcomOldPage === undefined && document.readyState === 'complete';"
        )
    )


def fill_and_submit(driver: Any, handle: str, mobile: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "handle").send_keys(handle)
    driver.find_element(By.ID, "mobile").send_keys(mobile)
    click_and_wait(driver, "button[type=submit]")


def save_png(driver: Any, path: Path) -> bytes:
    driver.save_screenshot(str(path))
    return path.read_bytes()


def test_register_on_a_phone_and_see_what_to_tweet(fresh_browser, site, core, tmp_path):
    """On a 390px phone: fill handle and number, submit, and read the tweet-the-code instruction."""
    from selenium.webdriver.common.by import By

    driver = fresh_browser
    driver.get(site.url("/register"))
    assert driver.execute_script("return window.innerWidth") == PHONE["width"]
    fill_and_submit(driver, "@priya_k", "98765 43210")

    assert driver.find_element(By.TAG_NAME, "h1").text == "Check your phone"
    body = driver.find_element(By.TAG_NAME, "main").text
    assert "We sent a 6-digit code to 98XXXXXX10." in body
    assert "@tatadocomo #code 123456" in body
    assert "Now tweet this from @priya_k to finish:" in body
    assert "9876543210" not in body
    tweet_it = driver.find_element(By.LINK_TEXT, "Tweet it")
    assert (
        tweet_it.get_attribute("href") == "https://twitter.com/intent/tweet?text=%40tatadocomo%20%23code%20"
    )
    assert core.calls == [("priya_k", "98765 43210")]

    shot = save_png(driver, tmp_path / "code-sent.png")
    assert png_size(shot) == (PHONE["width"] * 2, PHONE["height"] * 2)
    assert len(shot) > 5_000


def test_not_on_network_shows_the_form_again_with_the_reason(fresh_browser, site, tmp_path):
    """A number off the network comes back as an error on the mobile field, values kept."""
    from selenium.webdriver.common.by import By

    driver = fresh_browser
    driver.get(site.url("/register"))
    fill_and_submit(driver, "priya_k", "70000 00001")

    summary = driver.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert "Not a Tata DOCOMO prepaid number" in summary.text
    assert "70XXXXXX01 is not on our network." in driver.find_element(By.ID, "mobile-error").text
    mobile = driver.find_element(By.ID, "mobile")
    assert mobile.get_attribute("aria-invalid") == "true"
    assert mobile.get_attribute("value") == "70000 00001"
    assert driver.title.startswith("Error: ")
    shot = save_png(driver, tmp_path / "not-on-network.png")
    assert png_size(shot)[0] == PHONE["width"] * 2


def test_empty_form_gets_messages_and_the_layout_fits_a_phone(fresh_browser, site, core):
    """An empty post gets both field messages; nothing overflows sideways; the CSP lets the CSS apply."""
    from selenium.webdriver.common.by import By

    driver = fresh_browser
    driver.get(site.url("/register"))
    click_and_wait(driver, "button[type=submit]")
    assert "Enter your Twitter handle" in driver.find_element(By.ID, "handle-error").text
    assert driver.find_element(By.ID, "mobile-error").is_displayed()
    assert core.calls == []
    # the inline stylesheet was allowed by its CSP hash: the button got its colour and size
    button = driver.find_element(By.CSS_SELECTOR, "button[type=submit]")
    assert button.value_of_css_property("background-color") in {"rgba(0, 112, 60, 1)", "rgb(0, 112, 60)"}
    for element in driver.find_elements(By.CSS_SELECTOR, "input[type=text], input[type=tel], button"):
        assert element.size["height"] >= 44, "touch targets must be at least 44 CSS px tall"
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def _attacker_app(target: str, stolen_token: str) -> Starlette:
    """Another site whose button posts a registration to the real page with the attacker's own token."""

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(
            f'<form method="post" action="{target}">'
            f'<input type="hidden" name="csrf_token" value="{stolen_token}">'
            '<input type="hidden" name="handle" value="attacker"><input type="hidden" name="mobile" '
            'value="9876543210"><button id="go">Win a prize</button></form>'
        )

    return Starlette(routes=[Route("/", page)])


def test_post_from_another_site_is_refused(fresh_browser, site, core):
    """A form on another site posting to the page is refused (no cookie, cross-site) with a 403 page."""
    from selenium.webdriver.common.by import By

    driver = fresh_browser
    driver.get(site.url("/register"))  # the victim has a session cookie from the real page
    stolen_token = token_of(httpx.get(site.url("/register")).text)  # valid, for the attacker's session
    with LiveServer(_attacker_app(site.url("/register"), stolen_token)) as evil:
        driver.get(evil.url("/", host="localhost"))
        click_and_wait(driver, "#go")
        assert driver.find_element(By.TAG_NAME, "h1").text == "This form has expired"
    assert core.calls == []


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """Run axe-core (bundled with selenium-axe-python, no download) on the current page."""
    from selenium_axe_python import Axe

    axe = Axe(driver)
    axe.inject()
    results = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, arguments[0]).then(done, e => done({error: String(e)}));",
        {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    assert "error" not in results, results.get("error")
    assert results["passes"] or results["violations"] is not None
    return list(results["violations"])


@pytest.mark.parametrize(
    "handle, mobile, expected_h1",
    [
        (None, None, "Register for Twittcom"),
        ("", "", "Register for Twittcom"),
        ("priya_k", "98765 43210", "Check your phone"),
        ("priya_k", "70000 00001", "Register for Twittcom"),
        ("priya_k", "60000 00001", "Already linked elsewhere"),
    ],
    ids=["blank-form", "form-with-errors", "code-sent", "not-on-network", "already-bound"],
)
def test_pages_pass_axe_wcag_checks(fresh_browser, site, handle, mobile, expected_h1):
    """axe-core finds no WCAG 2.2 A/AA or best-practice violations on the form and outcome pages."""
    from selenium.webdriver.common.by import By
    from selenium_axe_python import Axe

    driver = fresh_browser
    driver.get(site.url("/register"))
    if handle is not None:
        fill_and_submit(driver, handle, mobile)
    assert driver.find_element(By.TAG_NAME, "h1").text == expected_h1
    violations = axe_violations(driver)
    assert violations == [], Axe.report(violations)


def test_axe_check_catches_an_unlabelled_input(fresh_browser):
    """The accessibility check is live: a page with an unlabelled input and no lang is reported."""

    async def bad_page(request: Request) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>bad</title><main><input type=text name=handle></main>")

    with LiveServer(Starlette(routes=[Route("/", bad_page)])) as bad:
        fresh_browser.get(bad.url("/"))
        rules = {violation["id"] for violation in axe_violations(fresh_browser)}
    assert {"label", "html-has-lang"} <= rules
