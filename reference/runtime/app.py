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
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from reference.clients.signatures import (
    TWILIO_SIGNATURE_HEADER,
    X_SIGNATURE_HEADER,
    verify_twilio_signature,
    verify_x_signature,
    x_crc_response,
)
from reference.domain.errors import InvalidPhoneNumber
from reference.domain.phone import normalise_mobile
from reference.domain.redaction import mask_msisdn, redact_text
from reference.runtime.errors import (
    BadPayload,
    BadSignature,
    NotFound,
    NotStarted,
    PayloadTooLarge,
    ServiceError,
    StoreUnavailable,
    Unauthorized,
)
from reference.runtime.ingest import events_from_webhook, split_storable
from reference.runtime.metrics import CONTENT_TYPE
from reference.runtime.page import ServicePage
from reference.runtime.surface import ServiceSurface

__all__ = ["create_service_app"]

_MAX_BODY = 1 << 20
_FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed"})


def _redacted_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A timeline entry as the admin API shows it: numbers and codes masked (also in texts stored
    before the inbox masked them)."""
    shown = dict(entry)
    if isinstance(shown.get("text"), str):
        shown["text"] = redact_text(shown["text"])
    if isinstance(shown.get("msisdn"), str):
        shown["msisdn"] = mask_msisdn(shown["msisdn"])
    return shown


def _error(exc: ServiceError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status)


async def _body(request: Request) -> bytes:
    """The request body, read chunk by chunk and refused (413) as soon as it passes ``_MAX_BODY``:
    a large (chunked) body is never held whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _MAX_BODY:
        raise PayloadTooLarge(f"the body is over {_MAX_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BODY:
            raise PayloadTooLarge(f"the body is over {_MAX_BODY} bytes")
    return bytes(body)


def _handle(request: Request) -> str:
    """The ``{handle}`` path parameter, refused (400) when it cannot be an X handle: control
    characters (U+0000 reaches PostgreSQL as an error), lone surrogates or over 50 characters."""
    handle = str(request.path_params["handle"]).lstrip("@")
    bad = (
        not handle
        or len(handle) > 50
        or any(ord(ch) < 0x20 or ord(ch) == 0x7F or 0xD800 <= ord(ch) <= 0xDFFF for ch in handle)
    )
    if bad:
        raise BadPayload(f"{handle!r} is not an X handle")
    return handle


def _form_fields(body: bytes) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body (what Twilio posts) as name -> values."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadPayload("the form is not UTF-8") from exc
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    return fields


def _first(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


_LISTED_STATUSES = ("pending", "sent", "failed", "skipped_budget", "expired")


def _statuses(raw: str) -> list[str]:
    statuses = [s.strip() for s in raw.split(",") if s.strip()]
    unknown = [s for s in statuses if s not in _LISTED_STATUSES]
    if not statuses or unknown:
        raise BadPayload(f"status must be a comma-separated list of {', '.join(_LISTED_STATUSES)}")
    return statuses


def create_service_app(service: ServiceSurface) -> Starlette:
    """The ASGI app of ``service`` (its lifespan starts and stops the service under uvicorn)."""
    config = service.config

    def started() -> None:
        if not service.started:
            raise NotStarted("the service is not started")

    def admin(request: Request) -> None:
        token = config.admin_token
        given = request.headers.get("authorization", "")
        if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("a valid admin bearer token is required")
        started()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks: dict[str, Any] = {"started": service.started}
        try:
            version = await service.admin_connection().read(lambda c: c.queue.ping())
            checks["schema_version"] = version
            checks["migrations"] = version >= 2
        except Exception as exc:
            checks["store"] = f"unreachable: {exc}"
        problems = config.problems()
        checks["clients"] = "configured" if not problems else f"missing {', '.join(problems)}"
        ready = bool(checks.get("migrations")) and not problems
        health = service.webhook_health
        if health is not None:  # the service manages its webhook: not ready while X sends nothing
            checks["webhook"] = {**health.status.as_json(), "polling_fallback": not health.valid}
            ready = ready and health.valid
        warnings = await _backlog_warnings() if ready else []
        body: dict[str, Any] = {"ready": ready, "checks": checks}
        if warnings:
            body["warnings"] = warnings
        return JSONResponse(body, status_code=200 if ready else 503)

    async def _backlog_warnings() -> list[str]:
        oldest = await service.admin_connection().read(lambda c: c.queue.oldest_pending())
        if oldest is None:
            return []
        age = (service.clock.now() - oldest).total_seconds()
        if age <= config.backlog_warn_s:
            return []
        return [
            f"outbox backlog: the oldest pending row is {age:.0f} s old "
            f"(warn above {config.backlog_warn_s:.0f} s)"
        ]

    async def outbox(request: Request) -> Response:
        admin(request)
        statuses = _statuses(request.query_params.get("status", "failed,expired"))
        raw_limit = request.query_params.get("limit", "100")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
            raise BadPayload("limit must be an integer within 1..1000")
        limit = int(raw_limit)
        rows = await service.admin_connection().read(lambda c: c.queue.outbox_rows(statuses, limit))
        return JSONResponse({"rows": rows})

    async def requeue(request: Request) -> Response:
        admin(request)
        try:
            data = orjson.loads(await _body(request))
        except orjson.JSONDecodeError as exc:
            raise BadPayload('body must be JSON {"ids": [...]} or {"status": [...]}') from exc
        ids = data.get("ids") if isinstance(data, dict) else None
        wanted = data.get("status") if isinstance(data, dict) else None
        if isinstance(ids, list) and ids and all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            chosen = [int(i) for i in ids][:10_000]
        elif isinstance(wanted, list) and wanted and all(isinstance(s, str) for s in wanted):
            statuses = _statuses(",".join(wanted))
            rows = await service.admin_connection().read(lambda c: c.queue.outbox_rows(statuses, 10_000))
            chosen = [int(str(r["id"])) for r in rows]
        else:
            raise BadPayload('give "ids" (outbox row ids) or "status" (["failed"], ["expired"] or both)')
        now = service.clock.now()
        count = await service.admin_connection().call(lambda c: c.queue.requeue_outbox(chosen, now))
        service.outbox_changed()
        return JSONResponse({"requeued": count, "asked": len(chosen)})

    async def metrics(request: Request) -> Response:
        if service.started:
            await service.depths()
        service.metrics.write_budget_left.set(min(service.tweet_budget.left(), 1e9))
        return Response(service.metrics.exposition(), media_type=CONTENT_TYPE)

    async def crc(request: Request) -> Response:
        token = request.query_params.get("crc_token")
        if not token:
            raise BadPayload("crc_token is required")
        if not config.x_consumer_secret:
            raise ServiceError("no consumer secret configured")
        return JSONResponse(x_crc_response(token, config.x_consumer_secret))

    async def webhook(request: Request) -> Response:
        body = await _body(request)
        secret = config.x_consumer_secret
        if not secret or not verify_x_signature(body, request.headers.get(X_SIGNATURE_HEADER), secret):
            raise BadSignature("x-twitter-webhooks-signature does not match the body")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadPayload(f"body is not JSON: {exc}") from exc
        events, refused = split_storable(events_from_webhook(payload, service.operator, service.clock.now()))
        started()
        try:
            if refused:  # kept aside for the operator; never in a group commit with other events
                await service.quarantine(refused, "webhook")
            new = await service.enqueue(events, "webhook") if events else 0
        except Exception as exc:  # not acknowledged: X delivers it again
            raise StoreUnavailable(f"the event could not be stored: {exc}") from exc
        if refused:
            reasons = "; ".join(f"{e.channel} {e.message_id!r}: {why}" for e, why in refused)
            raise BadPayload(f"refused {len(refused)} event(s) ({reasons}); {new} other(s) queued")
        if not events:
            service.metrics.ingested.labels("webhook", "ignored").inc()
        return JSONResponse({"accepted": len(events), "new": new})

    async def twilio_status(request: Request) -> Response:
        body = await _body(request)
        form = _form_fields(body)
        url = config.sms_callback_url + (f"?{request.url.query}" if request.url.query else "")
        signature = request.headers.get(TWILIO_SIGNATURE_HEADER)
        token = config.twilio_auth_token
        if not token or not body or not verify_twilio_signature(url, form, signature, token):
            service.metrics.callbacks_rejected.inc()
            raise BadSignature("X-Twilio-Signature does not match")
        sid = _first(form, "MessageSid") or _first(form, "SmsSid")
        status = _first(form, "MessageStatus") or _first(form, "SmsStatus")
        if not sid or not status:
            raise BadPayload("MessageSid and MessageStatus are required")
        error_code = _first(form, "ErrorCode") or None
        started()
        now = service.clock.now()
        try:
            delivery = await service.admin_connection().call(
                lambda c: c.queue.record_delivery(sid, status, error_code, now)
            )
        except Exception as exc:  # Twilio retries a callback that failed
            raise StoreUnavailable(f"the status could not be stored: {exc}") from exc
        service.metrics.callbacks.labels(status).inc()
        if delivery is not None and delivery.is_code and status == "delivered":
            service.metrics.code_delivery.observe(max(0.0, (now - delivery.created_at).total_seconds()))
        return Response(status_code=204)

    async def subscriber(request: Request) -> Response:
        admin(request)
        try:
            msisdn = normalise_mobile(request.path_params["mobile"])
        except InvalidPhoneNumber as exc:
            raise BadPayload(str(exc) or "not an Indian mobile number") from exc
        found = await service.admin_connection().read(lambda c: c.store.subscriber(msisdn))
        if found is None:
            raise NotFound(f"{msisdn} is not in the directory")
        return JSONResponse(asdict(found))

    async def handle_info(request: Request) -> Response:
        admin(request)
        handle = _handle(request)
        binding = await service.admin_connection().read(lambda c: c.store.binding_of_handle(handle))
        if binding is None:
            raise NotFound(f"@{handle} is not registered")
        user_id, msisdn = binding
        found = await service.admin_connection().read(lambda c: c.store.subscriber(msisdn))
        return JSONResponse(
            {"handle": handle, "user_id": user_id, "msisdn": msisdn,
             "subscriber": asdict(found) if found is not None else None}
        )  # fmt: skip

    async def timeline(request: Request) -> Response:
        admin(request)
        handle = _handle(request)
        entries = await service.admin_connection().read(lambda c: c.store.timeline(handle=handle))
        return JSONResponse({"handle": handle, "entries": [_redacted_entry(e) for e in entries]})

    async def catalog(request: Request) -> Response:
        admin(request)
        circle = request.query_params.get("circle")
        packs = service.catalog.packs_in(circle.upper()) if circle else list(service.catalog)
        return JSONResponse({"packs": [asdict(p) for p in packs]})

    async def stats(request: Request) -> Response:
        admin(request)
        depths = await service.depths()
        counts = await service.admin_connection().read(lambda c: c.queue.outbox_counts())
        totals = await service.admin_connection().read(lambda c: c.store.totals())
        return JSONResponse({"queues": depths, "outbox": counts, "totals": totals,
                             "write_budget_left": min(service.tweet_budget.left(), 1e9)})  # fmt: skip

    async def quarantine(request: Request) -> Response:
        admin(request)
        entries = await service.quarantined()
        body = json.dumps({"events": entries}, ensure_ascii=True)  # texts may hold U+0000 or surrogates
        return Response(body, media_type="application/json")

    async def outage(request: Request) -> Response:
        admin(request)
        mode = service.outage
        if request.method == "GET":
            state = await service.admin_connection().read(lambda c: mode.current(c.queue))
        elif request.method == "DELETE":
            state = await service.admin_connection().call(lambda c: mode.turn_off(c.queue))
        else:
            try:
                data = orjson.loads(await _body(request))
            except orjson.JSONDecodeError as exc:
                raise BadPayload('body must be JSON {"text": ...}') from exc
            text = data.get("text") if isinstance(data, dict) else None
            if not isinstance(text, str) or not text.strip():
                raise BadPayload("text (the status to tweet) is required")
            state = await service.admin_connection().call(lambda c: mode.turn_on(c.queue, text))
            service.outbox_changed()
        return JSONResponse(asdict(state))

    async def on_service_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceError)
        return _error(exc)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "internal", "detail": type(exc).__name__}, status_code=500)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    page = ServicePage(service)
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/webhooks/x", crc, methods=["GET"]),
        Route("/webhooks/x", webhook, methods=["POST"]),
        Route("/callbacks/twilio/status", twilio_status, methods=["POST"]),
        Route("/admin/subscribers/{mobile}", subscriber, methods=["GET"]),
        Route("/admin/handles/{handle}", handle_info, methods=["GET"]),
        Route("/admin/handles/{handle}/timeline", timeline, methods=["GET"]),
        Route("/admin/catalog", catalog, methods=["GET"]),
        Route("/admin/stats", stats, methods=["GET"]),
        Route("/admin/quarantine", quarantine, methods=["GET"]),
        Route("/admin/outage", outage, methods=["GET", "POST", "DELETE"]),
        Route("/admin/outbox", outbox, methods=["GET"]),
        Route("/admin/outbox/requeue", requeue, methods=["POST"]),
        Mount("/", app=page),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={ServiceError: on_service_error, Exception: on_unexpected},
    )
