"""The registration web page (seed 000): a phone-friendly form that asks the core for a code.

Public surface: :func:`create_registration_app` and the port it needs (:class:`CodeRequests`,
:class:`RequestCodeResult`, :class:`RequestCodeOutcome`), plus the rate-limit settings.
"""

from __future__ import annotations

from reference.web.app import DEFAULT_RATE_LIMITS, TWEET_INTENT_URL, create_registration_app
from reference.web.errors import BadFormPost, CsrfError, RateLimited, WebConfigError, WebError
from reference.web.ports import CodeRequests, RequestCodeOutcome, RequestCodeResult
from reference.web.ratelimit import RateLimit, RegistrationRateLimits

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "TWEET_INTENT_URL",
    "BadFormPost",
    "CodeRequests",
    "CsrfError",
    "RateLimit",
    "RateLimited",
    "RegistrationRateLimits",
    "RequestCodeOutcome",
    "RequestCodeResult",
    "WebConfigError",
    "WebError",
    "create_registration_app",
]
