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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

__all__ = ["PageRenderer", "format_wait"]

_TEMPLATES = Path(__file__).resolve().parent / "templates"


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
        )
        self._css = _load_css()
        self._shared = {"operator": operator_handle, "css": self._css.text}

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
