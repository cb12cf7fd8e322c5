"""The registration page's :class:`~reference.web.ports.CodeRequests`, adapted to the core's processor.

A web request goes the same durable way as a tweet: the handle is resolved to X's user id
(``GET /2/users/by/username/:username``), then a ``web`` inbound message ``#reg <mobile>`` runs
through :meth:`Processor.process` in one transaction (the core's inbox records it, the code SMS
goes to the outbox, nothing is answered by tweet or DM). The page gets the outcome at once and
the dispatcher is woken to send the SMS.

``request_code`` is called from the page's worker threads; the processor's connection is used
under a lock.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from reference.clients.errors import XNotFound
from reference.domain.commands import Inbound
from reference.domain.errors import InvalidPhoneNumber
from reference.domain.outcomes import Outcome
from reference.domain.phone import mask, normalise_mobile
from reference.service.processor import Processor
from reference.web.ports import RequestCodeOutcome, RequestCodeResult

__all__ = ["ProcessorCodeRequests", "UserResolver"]

_log = logging.getLogger(__name__)

#: handle -> (X user id, current handle); raises XNotFound when X has no such user
UserResolver = Callable[[str], tuple[str, str]]

_OUTCOMES: dict[Outcome, RequestCodeOutcome] = {
    Outcome.CODE_SENT: RequestCodeOutcome.CODE_SENT,
    Outcome.INVALID_NUMBER: RequestCodeOutcome.INVALID_MOBILE,
    Outcome.NOT_ON_NETWORK: RequestCodeOutcome.NOT_ON_NETWORK,
    Outcome.NOT_PREPAID: RequestCodeOutcome.NOT_ON_NETWORK,
    Outcome.ALREADY_BOUND: RequestCodeOutcome.ALREADY_REGISTERED,
    Outcome.TOO_MANY_CODES: RequestCodeOutcome.TOO_MANY_CODES,
}
_MESSAGES: dict[Outcome, str] = {
    Outcome.INVALID_NUMBER: "That is not an Indian mobile number (10 digits starting 6-9).",
    Outcome.NOT_ON_NETWORK: "This number is not an active prepaid number on our network.",
    Outcome.NOT_PREPAID: "Only prepaid numbers can use Twittcom.",
    Outcome.ALREADY_BOUND: "This handle and this number are already linked.",
    Outcome.TOO_MANY_CODES: "Too many codes were sent to this number in the last 10 minutes.",
}


class ProcessorCodeRequests:
    """``CodeRequests`` over a processor on its own connection.

    Arguments:
        processor: the core's processor (its store is used by this adapter only).
        resolve_user: the handle -> X user id lookup.
        operator_handle: written into the synthetic message so the parser reads it as a command.
        clock: aware UTC now.
        sent: called after a code SMS was queued (wakes the dispatcher).
        retry_after_s: told to users refused for too many codes.
    """

    def __init__(
        self,
        processor: Processor,
        resolve_user: UserResolver,
        *,
        operator_handle: str,
        clock: Callable[[], datetime],
        sent: Callable[[], None] | None = None,
        retry_after_s: float = 600.0,
        id_prefix: str | None = None,
        guard: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        self.processor = processor
        self.resolve_user = resolve_user
        self.operator = operator_handle.lstrip("@")
        self.clock = clock
        self.sent = sent
        self.retry_after_s = retry_after_s
        self._lock = threading.Lock()
        self.guard = guard
        self._prefix = id_prefix if id_prefix is not None else f"web-{secrets.token_hex(6)}-"
        self._ids = itertools.count(1)

    def request_code(self, handle: str, mobile: str, *, client_ip: str) -> RequestCodeResult:
        try:
            user_id, username = self.resolve_user(handle)
        except XNotFound:
            return RequestCodeResult(RequestCodeOutcome.INVALID_HANDLE, f"X has no account @{handle}.")
        except Exception:
            _log.exception("cannot resolve @%s", handle)
            return RequestCodeResult(RequestCodeOutcome.UNAVAILABLE, retry_after_s=60.0)
        message = Inbound(
            "web", f"{self._prefix}{next(self._ids)}", user_id, username, f"@{self.operator} #reg {mobile}",
            self.clock(),
        )  # fmt: skip
        with self._lock, self.guard():
            result = self.processor.process(message)
        outcome = result.outcome
        mapped = _OUTCOMES.get(outcome)
        if mapped is None:
            return RequestCodeResult(RequestCodeOutcome.UNAVAILABLE, retry_after_s=60.0)
        try:
            masked: str | None = mask(normalise_mobile(mobile))
        except InvalidPhoneNumber:
            masked = None
        if mapped is RequestCodeOutcome.CODE_SENT and self.sent is not None:
            self.sent()
        retry = self.retry_after_s if mapped is RequestCodeOutcome.TOO_MANY_CODES else None
        return RequestCodeResult(mapped, _MESSAGES.get(outcome, ""), masked, retry)
