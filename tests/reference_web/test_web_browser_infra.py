"""The browser-test infrastructure itself: missing Chromium fails in CI, skips locally; PNG reading."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import browser


def test_missing_chromium_fails_in_ci(monkeypatch):
    """With CI set, a machine without chromium must fail the browser tests, not skip them."""
    monkeypatch.setattr(browser, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium chromium-driver"):
        browser.require_chromium()


def test_missing_chromedriver_skips_locally(monkeypatch):
    """Without CI, a missing chromedriver skips with a reason that says how to install it."""
    monkeypatch.setattr(browser, "CHROMEDRIVER", Path("/nonexistent/chromedriver"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromedriver"):
        browser.require_chromium()


def test_png_size_reads_the_header():
    """png_size reads width and height from IHDR and refuses non-PNG bytes."""
    header = (
        browser.PNG_MAGIC + b"\x00\x00\x00\x0dIHDR" + (780).to_bytes(4, "big") + (1688).to_bytes(4, "big")
    )
    assert browser.png_size(header) == (780, 1688)
    with pytest.raises(ValueError):
        browser.png_size(b"GIF89a" + b"\x00" * 30)
