"""Exceptions of the registration web page.

::

    WebError
     ├── WebConfigError      bad arguments to the app factory (short secret, bad limits)
     ├── CsrfError           a form post without a valid anti-forgery token (-> 403 page)
     ├── RateLimited         a client IP or handle over its budget (-> 429 page + Retry-After)
     └── BadFormPost         a post the page cannot read: size, type or encoding (-> 400/413/415)
"""

from __future__ import annotations

__all__ = ["BadFormPost", "CsrfError", "RateLimited", "WebConfigError", "WebError"]


class WebError(Exception):
    """Base of every error the registration page raises."""


class WebConfigError(WebError, ValueError):
    """The app factory was given arguments it cannot work with."""


class CsrfError(WebError):
    """The anti-forgery check failed; ``reason`` is for logs, never shown verbatim to attackers."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimited(WebError):
    """A budget is used up; ``scope`` is ``"ip"`` or ``"handle"``."""

    def __init__(self, scope: str, retry_after_s: float) -> None:
        super().__init__(f"rate limited per {scope}; retry after {retry_after_s:.1f}s")
        self.scope = scope
        self.retry_after_s = retry_after_s


class BadFormPost(WebError):
    """The request body is not a small url-encoded form; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
