"""The registration page as the service mounts it (``/register``).

The page is built once the service has started, because what it needs comes from the store: the
CSRF secret when ``TWITTCOM_WEB_SECRET`` is not set (:func:`reference.runtime.shared_state.shared_secret`)
and the rate-limit counters every process shares (:class:`~reference.web.ratelimit.SharedWindowCounter`
over :class:`~reference.runtime.shared_state.StoreHitCounter`). Before that it answers 503.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from reference.runtime.errors import NotStarted
from reference.runtime.surface import ServiceSurface
from reference.web.app import DEFAULT_RATE_LIMITS, create_registration_app
from reference.web.ports import RequestCodeOutcome, RequestCodeResult
from reference.web.ratelimit import RateLimit, SharedWindowCounter

__all__ = ["ServicePage"]


class _ServiceCodeRequests:
    """The page's port before/after start: delegates to the service's adapter once it exists."""

    def __init__(self, service: ServiceSurface) -> None:
        self.service = service

    def request_code(self, handle: str, mobile: str, *, client_ip: str) -> RequestCodeResult:
        adapter = self.service.code_requests
        if adapter is None:
            return RequestCodeResult(RequestCodeOutcome.UNAVAILABLE, retry_after_s=30.0)
        return adapter.request_code(handle, mobile, client_ip=client_ip)


class ServicePage:
    """The registration page, built once the service has started: its CSRF secret may come from the
    store (:func:`reference.runtime.shared_state.shared_secret`) and its rate limits count in the
    store, shared by every process (:class:`~reference.web.ratelimit.SharedWindowCounter`)."""

    def __init__(self, service: ServiceSurface) -> None:
        self.service = service
        self._app: Any = None
        self._counter: object = None

    def _build(self) -> Any:
        service = self.service
        counter = service.hit_counter
        assert service.web_secret is not None
        limiters = None
        if counter is not None:
            hit = counter

            def limiters(scope: str, limit: RateLimit) -> SharedWindowCounter:
                return SharedWindowCounter(limit, scope, hit=hit, clock=service.epoch)

        return create_registration_app(
            _ServiceCodeRequests(service),
            operator_handle=service.config.operator_handle,
            secret_key=service.web_secret,
            rate_limit=DEFAULT_RATE_LIMITS if service.config.web_rate_limit else None,
            limiters=limiters,
            clock=service.epoch,
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        service = self.service
        if not service.started or service.web_secret is None:
            await JSONResponse(
                {"error": NotStarted.code, "detail": "the service is not started"},
                status_code=NotStarted.status,
            )(scope, receive, send)
            return
        if self._app is None or self._counter is not service.hit_counter:  # first use, or restarted
            self._app, self._counter = self._build(), service.hit_counter
        await self._app(scope, receive, send)
