"""The typed exceptions raised by the processor's outbound clients (X API v2 and Twilio).

::

    ClientError                       base; .retryable, .retry_at (epoch s) / .retry_after (s)
    ├── XApiError                     any X API failure; .status, .problem (RFC 7807 body)
    │   ├── XBadRequest               400 (invalid-request problem)
    │   ├── XUnauthorized             401
    │   ├── XForbidden                403
    │   │   └── XDuplicateContent     403 "duplicate content" on POST /2/tweets
    │   ├── XNotFound                 404
    │   ├── XRateLimited              429 rate limit; .reset_at from x-rate-limit-reset (retryable)
    │   ├── XUsageCapped              429/403 usage-capped problem (not retryable in the window)
    │   └── XServiceUnavailable       5xx (retryable)
    └── TwilioError                   .code, .message, .status, .more_info
        ├── TwilioThrottled           20429 / HTTP 429 (retryable)
        ├── TwilioQueueFull           21611
        ├── TwilioInvalidNumber       21211
        └── TwilioServiceUnavailable  5xx (retryable)
    SmppError                         a submit_sm refused by the SMSC; .command_status
        ├── SmppThrottled             0x58 ESME_RTHROTTLED, 0x14 ESME_RMSGQFUL (retryable, retry_after)
        ├── SmppUnavailable           no bound session: nothing was sent (retryable)
        └── SmppOutcomeUnknown        submit_sm written, no submit_sm_resp: the message id is unknown

Transport failures stay httpx's own (:class:`httpx.TransportError`); the retry policy treats
them as retryable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "ClientError",
    "SmppError",
    "SmppOutcomeUnknown",
    "SmppThrottled",
    "SmppUnavailable",
    "TwilioError",
    "TwilioInvalidNumber",
    "TwilioQueueFull",
    "TwilioServiceUnavailable",
    "TwilioThrottled",
    "XApiError",
    "XBadRequest",
    "XDuplicateContent",
    "XForbidden",
    "XNotFound",
    "XRateLimited",
    "XServiceUnavailable",
    "XUnauthorized",
    "XUsageCapped",
]


class ClientError(Exception):
    """Base of every error an outbound client raises for a response it understood.

    ``retryable`` says whether the same request may succeed later; ``retry_at`` (absolute Unix
    time) or ``retry_after`` (seconds) carry the server's own instruction when it gave one.
    """

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, retry_at: float | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.retry_at = retry_at
        self.retry_after = retry_after


class XApiError(ClientError):
    """An error response from the X API v2; ``problem`` is its RFC 7807 body as a dict."""

    def __init__(
        self,
        status: int,
        problem: Mapping[str, Any],
        *,
        retry_at: float | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.problem: dict[str, Any] = dict(problem)
        super().__init__(self._describe(), retry_at=retry_at, retry_after=retry_after)

    @property
    def title(self) -> str:
        return str(self.problem.get("title", ""))

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail", ""))

    @property
    def type(self) -> str:
        return str(self.problem.get("type", "about:blank"))

    def _describe(self) -> str:
        text = self.detail or self.title or "error"
        return f"X API {self.status}: {text}"


class XBadRequest(XApiError):
    """400: the request was malformed (``problem['errors']`` lists the parameters at fault)."""


class XUnauthorized(XApiError):
    """401: the token is missing, expired or revoked."""


class XForbidden(XApiError):
    """403: the token may not do this (or the content is refused)."""


class XDuplicateContent(XForbidden):
    """403: X refuses a tweet whose text duplicates a recent one by the same account."""


class XNotFound(XApiError):
    """404: the resource (user, tweet, webhook) does not exist."""


class XRateLimited(XApiError):
    """429: the endpoint's rate-limit window is spent; ``reset_at`` is when it refills (epoch s)."""

    retryable = True

    @property
    def reset_at(self) -> float | None:
        return self.retry_at


class XUsageCapped(XApiError):
    """The app's or account's usage cap (``period``: Daily/Monthly) is spent; retrying won't help."""

    @property
    def period(self) -> str | None:
        value = self.problem.get("period")
        return str(value) if value is not None else None

    @property
    def scope(self) -> str | None:
        value = self.problem.get("scope")
        return str(value) if value is not None else None


class XServiceUnavailable(XApiError):
    """5xx: X is overloaded or down; the request may be retried."""

    retryable = True


class TwilioError(ClientError):
    """An error response from Twilio's REST API (``{"code", "message", "more_info", "status"}``)."""

    def __init__(
        self,
        code: int | None,
        message: str,
        status: int,
        *,
        more_info: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.more_info = more_info
        super().__init__(f"Twilio {status} (code {code}): {message}", retry_after=retry_after)


class TwilioThrottled(TwilioError):
    """20429 / HTTP 429: too many concurrent requests; not processed, safe to retry with backoff."""

    retryable = True


class TwilioQueueFull(TwilioError):
    """21611: the sender's queue already holds more than its validity period of messages."""


class TwilioInvalidNumber(TwilioError):
    """21211: the ``To`` number is not a valid phone number."""


class TwilioServiceUnavailable(TwilioError):
    """5xx: Twilio failed to handle the request; it may be retried."""

    retryable = True


class SmppError(ClientError):
    """A submit_sm or query_sm the SMSC answered with a non-zero ``command_status``."""

    def __init__(self, command_status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"SMPP 0x{command_status:02x}: {message}", retry_after=retry_after)
        self.command_status = command_status


class SmppThrottled(SmppError):
    """ESME_RTHROTTLED (0x58) or ESME_RMSGQFUL (0x14): not taken; the same submit later may be."""

    retryable = True


class SmppUnavailable(SmppError):
    """No bound session (the SMSC is down, refuses the bind, or every session is reconnecting):
    nothing was written, so a retry cannot duplicate."""

    retryable = True


class SmppOutcomeUnknown(SmppError):
    """The submit_sm was written but no submit_sm_resp came (timeout, connection lost): the SMSC
    may hold the message under an id the processor never learnt. Retryable after a lookup."""

    retryable = True
