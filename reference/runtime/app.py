"""The HTTP surface of the processor service (Starlette): health, metrics, webhooks, callbacks, admin, page.

======  ==============================  ====================================================
GET     /healthz                        the process answers
GET     /readyz                         store reachable, migrations applied, clients configured;
                                        a warning (still ready) while the outbox backlog ages
GET     /metrics                        Prometheus text exposition
GET     /webhooks/x?crc_token=...       X's CRC challenge
POST    /webhooks/x                     Account Activity events (``x-twitter-webhooks-signature``)
POST    /callbacks/twilio/status        SMS status callbacks (``X-Twilio-Signature``)
GET     /admin/subscribers/{mobile}     directory entry (bearer ``admin_token``)
GET     /admin/handles/{handle}         binding and subscriber of a handle
GET     /admin/handles/{handle}/timeline  the customer timeline
GET     /admin/catalog                  packs (``?circle=``)
GET     /admin/quarantine               inbound events refused as unstorable (ASCII JSON)
GET     /admin/stats                    queue depths, outbox by status, store totals
GET|POST|DELETE /admin/outage           outage mode: read / on ``{"text"}`` / off
GET     /admin/outbox                   outbox rows by status (``?status=failed,expired&limit=``)
POST    /admin/outbox/requeue           ``{"ids": [...]}`` or ``{"status": [...]}``: failed/expired rows
                                        back to pending, re-dated (code SMS are not: ask anew)
GET|POST /register                      the registration page
======  ==============================  ====================================================

Every error is JSON ``{"error": code, "detail": text}`` with the matching status; bad input is
never a 500. Events are committed to the durable queue before the webhook answers 200.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from reference.clients.signatures import (
    TWILIO_SIGNATURE_HEADER,
    X_SIGNATURE_HEADER,
    verify_twilio_signature,
    verify_x_signature,
    x_crc_response,
)
from reference.domain.errors import InvalidPhoneNumber
from reference.domain.phone import normalise_mobile
from reference.runtime.errors import (
    BadPayload,
    BadSignature,
    NotFound,
    NotStarted,
    ServiceError,
    StoreUnavailable,
    Unauthorized,
)
from reference.runtime.ingest import events_from_webhook, split_storable
from reference.runtime.metrics import CONTENT_TYPE
from reference.runtime.page import ServicePage
from reference.runtime.request_parsing import (
    error_response,
    first_value,
    form_fields,
    handle_param,
    listed_statuses,
    read_body,
    redacted_entry,
)
from reference.runtime.surface import ServiceSurface

__all__ = ["ROUTES", "ServiceRoutes", "create_service_app"]


#: the service's routes: path, handler (a method of :class:`ServiceRoutes`), methods
ROUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("/healthz", "healthz", ("GET",)),
    ("/readyz", "readyz", ("GET",)),
    ("/metrics", "metrics", ("GET",)),
    ("/webhooks/x", "crc", ("GET",)),
    ("/webhooks/x", "webhook", ("POST",)),
    ("/callbacks/twilio/status", "twilio_status", ("POST",)),
    ("/admin/subscribers/{mobile}", "subscriber", ("GET",)),
    ("/admin/handles/{handle}", "handle_info", ("GET",)),
    ("/admin/handles/{handle}/timeline", "timeline", ("GET",)),
    ("/admin/catalog", "catalog", ("GET",)),
    ("/admin/stats", "stats", ("GET",)),
    ("/admin/quarantine", "quarantine", ("GET",)),
    ("/admin/outage", "outage", ("GET", "POST", "DELETE")),
    ("/admin/outbox", "outbox", ("GET",)),
    ("/admin/outbox/requeue", "requeue", ("POST",)),
)


class ServiceRoutes:
    """The handlers of :data:`ROUTES` over one service (the registration page is mounted at ``/``)."""

    def __init__(self, service: ServiceSurface) -> None:
        self.service = service
        self.config = service.config

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Start the service with the server and stop it with the server."""
        await self.service.start()
        try:
            yield
        finally:
            await self.service.stop()

    def _started(self) -> None:
        if not self.service.started:
            raise NotStarted("the service is not started")

    def _admin(self, request: Request) -> None:
        token = self.config.admin_token
        given = request.headers.get("authorization", "")
        if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("a valid admin bearer token is required")
        self._started()

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        checks: dict[str, Any] = {"started": self.service.started}
        try:
            version = await self.service.admin_connection().read(lambda c: c.queue.ping())
            checks["schema_version"] = version
            checks["migrations"] = version >= 2
        except Exception as exc:
            checks["store"] = f"unreachable: {exc}"
        problems = self.config.problems()
        checks["clients"] = "configured" if not problems else f"missing {', '.join(problems)}"
        ready = bool(checks.get("migrations")) and not problems
        health = self.service.webhook_health
        if health is not None:  # the service manages its webhook: not ready while X sends nothing
            checks["webhook"] = {**health.status.as_json(), "polling_fallback": not health.valid}
            ready = ready and health.valid
        warnings = await self._backlog_warnings() if ready else []
        body: dict[str, Any] = {"ready": ready, "checks": checks}
        if warnings:
            body["warnings"] = warnings
        return JSONResponse(body, status_code=200 if ready else 503)

    async def _backlog_warnings(self) -> list[str]:
        oldest = await self.service.admin_connection().read(lambda c: c.queue.oldest_pending())
        if oldest is None:
            return []
        age = (self.service.clock.now() - oldest).total_seconds()
        if age <= self.config.backlog_warn_s:
            return []
        return [
            f"outbox backlog: the oldest pending row is {age:.0f} s old "
            f"(warn above {self.config.backlog_warn_s:.0f} s)"
        ]

    async def outbox(self, request: Request) -> Response:
        self._admin(request)
        statuses = listed_statuses(request.query_params.get("status", "failed,expired"))
        raw_limit = request.query_params.get("limit", "100")
        if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= 1000:
            raise BadPayload("limit must be an integer within 1..1000")
        limit = int(raw_limit)
        rows = await self.service.admin_connection().read(lambda c: c.queue.outbox_rows(statuses, limit))
        return JSONResponse({"rows": rows})

    async def requeue(self, request: Request) -> Response:
        self._admin(request)
        try:
            data = orjson.loads(await read_body(request))
        except orjson.JSONDecodeError as exc:
            raise BadPayload('body must be JSON {"ids": [...]} or {"status": [...]}') from exc
        ids = data.get("ids") if isinstance(data, dict) else None
        wanted = data.get("status") if isinstance(data, dict) else None
        if isinstance(ids, list) and ids and all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            chosen = [int(i) for i in ids][:10_000]
        elif isinstance(wanted, list) and wanted and all(isinstance(s, str) for s in wanted):
            statuses = listed_statuses(",".join(wanted))
            rows = await self.service.admin_connection().read(lambda c: c.queue.outbox_rows(statuses, 10_000))
            chosen = [int(str(r["id"])) for r in rows]
        else:
            raise BadPayload('give "ids" (outbox row ids) or "status" (["failed"], ["expired"] or both)')
        now = self.service.clock.now()
        count = await self.service.admin_connection().call(lambda c: c.queue.requeue_outbox(chosen, now))
        self.service.outbox_changed()
        return JSONResponse({"requeued": count, "asked": len(chosen)})

    async def metrics(self, request: Request) -> Response:
        if self.service.started:
            await self.service.depths()
        self.service.metrics.write_budget_left.set(min(self.service.tweet_budget.left(), 1e9))
        return Response(self.service.metrics.exposition(), media_type=CONTENT_TYPE)

    async def crc(self, request: Request) -> Response:
        token = request.query_params.get("crc_token")
        if not token:
            raise BadPayload("crc_token is required")
        if not self.config.x_consumer_secret:
            raise ServiceError("no consumer secret configured")
        return JSONResponse(x_crc_response(token, self.config.x_consumer_secret))

    async def webhook(self, request: Request) -> Response:
        body = await read_body(request)
        secret = self.config.x_consumer_secret
        if not secret or not verify_x_signature(body, request.headers.get(X_SIGNATURE_HEADER), secret):
            raise BadSignature("x-twitter-webhooks-signature does not match the body")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadPayload(f"body is not JSON: {exc}") from exc
        received = events_from_webhook(payload, self.service.operator, self.service.clock.now())
        events, refused = split_storable(received)
        self._started()
        try:
            if refused:  # kept aside for the operator; never in a group commit with other events
                await self.service.quarantine(refused, "webhook")
            new = await self.service.enqueue(events, "webhook") if events else 0
        except Exception as exc:  # not acknowledged: X delivers it again
            raise StoreUnavailable(f"the event could not be stored: {exc}") from exc
        if refused:
            reasons = "; ".join(f"{e.channel} {e.message_id!r}: {why}" for e, why in refused)
            raise BadPayload(f"refused {len(refused)} event(s) ({reasons}); {new} other(s) queued")
        if not events:
            self.service.metrics.ingested.labels("webhook", "ignored").inc()
        return JSONResponse({"accepted": len(events), "new": new})

    async def twilio_status(self, request: Request) -> Response:
        body = await read_body(request)
        form = form_fields(body)
        url = self.config.sms_callback_url + (f"?{request.url.query}" if request.url.query else "")
        signature = request.headers.get(TWILIO_SIGNATURE_HEADER)
        token = self.config.twilio_auth_token
        if not token or not body or not verify_twilio_signature(url, form, signature, token):
            self.service.metrics.callbacks_rejected.inc()
            raise BadSignature("X-Twilio-Signature does not match")
        sid = first_value(form, "MessageSid") or first_value(form, "SmsSid")
        status = first_value(form, "MessageStatus") or first_value(form, "SmsStatus")
        if not sid or not status:
            raise BadPayload("MessageSid and MessageStatus are required")
        error_code = first_value(form, "ErrorCode") or None
        self._started()
        try:
            await self.service.record_sms_status(sid, status, error_code)
        except Exception as exc:  # Twilio retries a callback that failed
            raise StoreUnavailable(f"the status could not be stored: {exc}") from exc
        return Response(status_code=204)

    async def subscriber(self, request: Request) -> Response:
        self._admin(request)
        try:
            msisdn = normalise_mobile(request.path_params["mobile"])
        except InvalidPhoneNumber as exc:
            raise BadPayload(str(exc) or "not an Indian mobile number") from exc
        found = await self.service.admin_connection().read(lambda c: c.store.subscriber(msisdn))
        if found is None:
            raise NotFound(f"{msisdn} is not in the directory")
        return JSONResponse(asdict(found))

    async def handle_info(self, request: Request) -> Response:
        self._admin(request)
        handle = handle_param(request)
        binding = await self.service.admin_connection().read(lambda c: c.store.binding_of_handle(handle))
        if binding is None:
            raise NotFound(f"@{handle} is not registered")
        user_id, msisdn = binding
        found = await self.service.admin_connection().read(lambda c: c.store.subscriber(msisdn))
        return JSONResponse(
            {"handle": handle, "user_id": user_id, "msisdn": msisdn,
             "subscriber": asdict(found) if found is not None else None}
        )  # fmt: skip

    async def timeline(self, request: Request) -> Response:
        self._admin(request)
        handle = handle_param(request)
        entries = await self.service.admin_connection().read(lambda c: c.store.timeline(handle=handle))
        return JSONResponse({"handle": handle, "entries": [redacted_entry(e) for e in entries]})

    async def catalog(self, request: Request) -> Response:
        self._admin(request)
        circle = request.query_params.get("circle")
        packs = self.service.catalog.packs_in(circle.upper()) if circle else list(self.service.catalog)
        return JSONResponse({"packs": [asdict(p) for p in packs]})

    async def stats(self, request: Request) -> Response:
        self._admin(request)
        depths = await self.service.depths()
        counts = await self.service.admin_connection().read(lambda c: c.queue.outbox_counts())
        totals = await self.service.admin_connection().read(lambda c: c.store.totals())
        return JSONResponse({"queues": depths, "outbox": counts, "totals": totals,
                             "write_budget_left": min(self.service.tweet_budget.left(), 1e9)})  # fmt: skip

    async def quarantine(self, request: Request) -> Response:
        self._admin(request)
        entries = await self.service.quarantined()
        body = json.dumps({"events": entries}, ensure_ascii=True)  # texts may hold U+0000 or surrogates
        return Response(body, media_type="application/json")

    async def outage(self, request: Request) -> Response:
        self._admin(request)
        mode = self.service.outage
        if request.method == "GET":
            state = await self.service.admin_connection().read(lambda c: mode.current(c.queue))
        elif request.method == "DELETE":
            state = await self.service.admin_connection().call(lambda c: mode.turn_off(c.queue))
        else:
            try:
                data = orjson.loads(await read_body(request))
            except orjson.JSONDecodeError as exc:
                raise BadPayload('body must be JSON {"text": ...}') from exc
            text = data.get("text") if isinstance(data, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise BadPayload("text (the status to tweet) is required")
            state = await self.service.admin_connection().call(lambda c: mode.turn_on(c.queue, text))
            self.service.outbox_changed()
        return JSONResponse(asdict(state))


async def _on_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return error_response(exc)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "internal", "detail": type(exc).__name__}, status_code=500)


def create_service_app(service: ServiceSurface) -> Starlette:
    """The ASGI app of ``service`` (its lifespan starts and stops the service under uvicorn)."""
    handlers = ServiceRoutes(service)
    routes: list[BaseRoute] = [
        Route(path, getattr(handlers, name), methods=list(methods)) for path, name, methods in ROUTES
    ]
    routes.append(Mount("/", app=ServicePage(service)))
    return Starlette(
        routes=routes,
        lifespan=handlers.lifespan,
        exception_handlers={ServiceError: _on_service_error, Exception: _on_unexpected},
    )
