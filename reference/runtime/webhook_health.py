"""Keeps the service's X webhook working: checks it, re-validates or re-registers it.

X marks a webhook ``invalid`` when its hourly CRC check fails (e.g. while the service is down) and
then delivers nothing to it until it is validated again; a registration of the same URL fails with
``DuplicateUrlFailed``. :meth:`WebhookHealth.check` (at start and then periodically) does:

1. ``GET /2/webhooks``: find the webhook registered at this service's URL;
2. none: ``POST /2/webhooks`` (a ``DuplicateUrlFailed`` answer means another process registered it
   meanwhile: list again and take that one);
3. found but ``valid: false``: ``PUT /2/webhooks/:id`` (X re-runs the CRC), then list again;
4. valid after not having been: subscribe the operator (``POST .../subscriptions/all``).

While the state is anything but ``valid`` the service polls mentions and DMs (no event is lost
meanwhile), and after a period without a valid webhook it polls once more to catch up with what X
dropped. The state is in ``/readyz`` and in the ``twittcom_webhook_*`` metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from reference.clients.errors import XBadRequest
from reference.clients.x_api import XApiClient
from reference.clients.x_models import Webhook
from reference.runtime.metrics import ServiceMetrics
from reference.runtime.poller import Poller

__all__ = ["WebhookHealth", "WebhookState", "WebhookStatus"]

_log = logging.getLogger(__name__)

WebhookState = Literal["unchecked", "valid", "invalid", "missing", "error"]


@dataclass(slots=True)
class WebhookStatus:
    """What the last check found (``error`` says why a check failed)."""

    state: WebhookState = "unchecked"
    webhook_id: str | None = None
    checked_at: datetime | None = None
    error: str | None = None
    #: events may have been dropped by X since the webhook was last known valid: poll to catch up
    missed: bool = False

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["checked_at"] = self.checked_at.isoformat() if self.checked_at else None
        return data


def _duplicate_url(exc: XBadRequest) -> bool:
    return "DuplicateUrlFailed" in str(exc.problem)


class WebhookHealth:
    """Checks and heals the webhook at ``url`` (see the module docstring)."""

    def __init__(
        self, x: XApiClient, url: str, *, metrics: ServiceMetrics, clock: Callable[[], datetime]
    ) -> None:
        self.x = x
        self.url = url
        self.metrics = metrics
        self.clock = clock
        self.status = WebhookStatus()

    @property
    def valid(self) -> bool:
        return self.status.state == "valid"

    async def check(self) -> WebhookStatus:
        """One check (and heal, when needed); never raises: a failure is the ``error`` state."""
        status = self.status
        was_valid = status.state == "valid"
        try:
            webhook = await self._find()
            if webhook is None:
                self._found("missing", None)
                if was_valid:
                    status.missed = True  # someone deleted it: X dropped what came meanwhile
                webhook = await self._register()
                how = "registered"
            else:
                how = "validated"
            if not webhook.valid:
                self._found("invalid", webhook.id)
                status.missed = True  # X drops every event while the webhook is invalid
                await self.x.validate_webhook(webhook.id)
                webhook = await self._find() or webhook
            if not webhook.valid:
                self._set("invalid", webhook.id, "X's CRC check of the webhook failed")
                return status
            if not was_valid:
                await self.x.subscribe(webhook.id)
                if status.missed:
                    self.metrics.webhook_heals.labels(how).inc()
                    _log.warning("webhook %s at %s is valid again (%s)", webhook.id, self.url, how)
            self._found("valid", webhook.id)
            self._set("valid", webhook.id, None)
        except Exception as exc:
            _log.exception("webhook registration at %s failed", self.url)
            self.metrics.webhook_checks.labels("error").inc()
            self._set("error", status.webhook_id, f"{type(exc).__name__}: {exc}")
        return status

    async def run(
        self,
        poller: Poller,
        *,
        stopped: asyncio.Event,
        check_every_s: float,
        poll_every_s: float,
        fallback: bool,
        catch_up: bool,
    ) -> None:
        """Until ``stopped``: check every ``check_every_s``; while the webhook is not valid, poll
        every ``poll_every_s`` instead (when ``fallback``: no poll loop runs anyway), and poll once
        more after a spell without it (or at start when ``catch_up``)."""
        while not stopped.is_set():
            status = await self.check()
            if fallback and (status.state != "valid" or status.missed or catch_up):
                try:
                    await poller.poll_once()
                    self.metrics.webhook_fallback_polls.inc()
                    if status.state == "valid":
                        status.missed = catch_up = False
                except Exception:
                    _log.exception("fallback polling failed")
            wait = check_every_s if self.valid else min(check_every_s, poll_every_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), wait)

    async def _find(self) -> Webhook | None:
        return next((w for w in await self.x.list_webhooks() if w.url == self.url), None)

    async def _register(self) -> Webhook:
        try:
            webhook = await self.x.create_webhook(self.url)
        except XBadRequest as exc:
            # DuplicateUrlFailed: another process (or app) registered the URL meanwhile. Whatever
            # the wording of X's message, a 400 while the URL is now listed means it is there.
            found = await self._find()
            if found is None:
                raise
            _log.info("webhook %s at %s adopted (%s)", found.id, self.url,
                      "DuplicateUrlFailed" if _duplicate_url(exc) else exc)  # fmt: skip
            return found
        _log.info("webhook %s registered at %s", webhook.id, webhook.url)
        return webhook

    def _found(self, state: WebhookState, webhook_id: str | None) -> None:
        self.metrics.webhook_checks.labels(state).inc()
        if state != "valid":
            self._set(state, webhook_id, None)

    def _set(self, state: WebhookState, webhook_id: str | None, error: str | None) -> None:
        status = self.status
        status.state, status.webhook_id, status.error = state, webhook_id, error
        status.checked_at = self.clock()
        self.metrics.webhook_valid.set(1 if state == "valid" else 0)
