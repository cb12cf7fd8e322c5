"""The one port the registration page needs: asking the core to send a registration code.

The page never imports the core. The service wiring adapts the core's registration handler to
:class:`CodeRequests`; tests and benchmarks pass small in-memory implementations.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

__all__ = ["CodeRequests", "RequestCodeOutcome", "RequestCodeResult"]


class RequestCodeOutcome(StrEnum):
    """What the core did with a web registration request."""

    #: a 6-digit code went out by SMS; the user must now tweet it back
    CODE_SENT = "code_sent"
    #: the core could not read the mobile number (its message says why)
    INVALID_MOBILE = "invalid_mobile"
    #: the core rejected the handle
    INVALID_HANDLE = "invalid_handle"
    #: the number is not an active prepaid number on the operator's network
    NOT_ON_NETWORK = "not_on_network"
    #: the number is bound to another handle, or the handle to another number
    ALREADY_BOUND = "already_bound"
    #: this handle and this number are already registered together
    ALREADY_REGISTERED = "already_registered"
    #: the send limit for this number is used up (see ``retry_after_s``)
    TOO_MANY_CODES = "too_many_codes"
    #: the core or the SMS network cannot send right now
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class RequestCodeResult:
    """The core's answer to one request.

    ``masked_mobile`` is the number as it may be shown (``98XXXXXX10``), never the full number.
    ``message`` is the core's own human sentence, shown to the user beside the page's explanation.
    ``retry_after_s`` says when a refused request (too many codes, unavailable) may be retried.
    """

    outcome: RequestCodeOutcome
    message: str = ""
    masked_mobile: str | None = None
    retry_after_s: float | None = None


class CodeRequests(Protocol):
    """Asks the core to send a registration code to ``mobile`` for ``handle``.

    ``handle`` comes without the leading ``@``; ``mobile`` is what the user typed, stripped of
    surrounding blanks (the core does the real parsing). ``client_ip`` is for the core's audit trail.
    Called from a worker thread unless the page was built with ``offload=False``.
    """

    def request_code(self, handle: str, mobile: str, *, client_ip: str) -> RequestCodeResult: ...
