"""Rendering the registration pages: Jinja2 templates with autoescaping, one inline stylesheet.

Jinja2 escapes every ``{{ value }}`` in the HTML templates by default, so a handle like
``<script>`` typed into the form comes back as text; hand-written ``html.escape`` calls would have to
be remembered at each of the ~20 places a value reaches the page. The stylesheet is inlined (no
external assets, one round trip on a slow phone link) and allowed by its SHA-256 in the CSP, so the
policy needs no ``'unsafe-inline'``.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = ["PageRenderer", "format_wait"]

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_TOKEN_MARKER = "CSRF-TOKEN-MARKER-7f3a9c"
_TOKEN_SAFE = re.compile(r"[A-Za-z0-9._-]*")


def format_wait(seconds: float) -> str:
    """A wait in words for a person: ``"1 minute"``, ``"12 minutes"``, ``"30 seconds"``."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True, slots=True)
class _Css:
    text: str
    csp_source: str


def _load_css() -> _Css:
    text = (_TEMPLATES / "page.css").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return _Css(text, f"'sha256-{digest}'")


class PageRenderer:
    """Renders the page templates with the values every page shares (operator handle, CSS)."""

    def __init__(self, *, operator_handle: str) -> None:
        self._env = Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # templates ship with the package; no stat() per render
        )
        self._css = _load_css()
        self._shared = {"operator": operator_handle, "css": self._css.text}
        self._empty_form_parts: tuple[str, str] | None = None

    @property
    def content_security_policy(self) -> str:
        """The CSP matching these pages: same-origin only, the inline stylesheet by hash, no scripts."""
        return (
            "default-src 'self'; "
            f"style-src {self._css.csp_source}; "
            "script-src 'none'; img-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'"
        )

    def render(self, template: str, **values: Any) -> str:
        """Render ``template`` with ``values`` (all escaped unless a template says otherwise)."""
        return self._env.get_template(template).render(**self._shared, **values)

    def empty_form(self, csrf_token: str) -> str:
        """The blank form (the page most requests get), rendered once and completed with the token.

        The token alphabet (digits, ``.``, url-safe base64) needs no escaping, which the check
        below enforces, so splicing it in equals rendering the template with it.
        """
        if not _TOKEN_SAFE.fullmatch(csrf_token):
            return self._render_empty_form(csrf_token)
        if self._empty_form_parts is None:
            before, marker, after = self._render_empty_form(_TOKEN_MARKER).partition(_TOKEN_MARKER)
            if not marker:
                raise RuntimeError("form.html no longer renders the csrf_token value")
            self._empty_form_parts = (before, after)
        before, after = self._empty_form_parts
        return before + csrf_token + after

    def _render_empty_form(self, csrf_token: str) -> str:
        return self.render(
            "form.html",
            csrf_token=csrf_token,
            handle="",
            mobile="",
            errors={},
            problem_title="",
            problem_text="",
        )
