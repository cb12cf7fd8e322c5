"""``twittcom outbox list|requeue`` against a recording stand-in of the admin routes."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from rt_procs import serve_in_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from twittcom.cli import main

ROW = {"id": 7, "kind": "sms", "handle": "asha", "status": "expired", "attempts": 12,
       "last_error": "expired: not sent within its validity", "created_at": "2026-03-01T09:00:00+00:00",
       "provider_ref": None, "delivery_status": None}  # fmt: skip


def _admin_stub(seen: list[tuple[str, Any]]) -> Starlette:
    async def listing(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != "Bearer tok":
            return JSONResponse(
                {"error": "unauthorized", "detail": "a valid admin bearer token"}, status_code=401
            )
        seen.append(("list", dict(request.query_params)))
        return JSONResponse({"rows": [ROW] if "expired" in request.query_params["status"] else []})

    async def requeue(request: Request) -> JSONResponse:
        seen.append(("requeue", await request.json()))
        return JSONResponse({"requeued": 1, "asked": 2})

    return Starlette(routes=[Route("/admin/outbox", listing), Route("/admin/outbox/requeue", requeue,
                                                                    methods=["POST"])])  # fmt: skip


def test_list_and_requeue_speak_the_admin_routes() -> None:
    """list asks for failed+expired by default and prints the reason; requeue sends ids or statuses."""
    seen: list[tuple[str, Any]] = []
    runner = CliRunner()
    with serve_in_thread(_admin_stub(seen)) as url:
        common = ["--url", url, "--admin-token", "tok"]
        listed = runner.invoke(main, ["outbox", "list", *common])
        assert listed.exit_code == 0 and "expired: not sent within its validity" in listed.output
        as_json = runner.invoke(main, ["outbox", "list", *common, "--status", "failed", "--json"])
        assert as_json.exit_code == 0 and json.loads(as_json.output) == []
        by_id = runner.invoke(main, ["outbox", "requeue", *common, "7", "8"])
        assert by_id.exit_code == 0 and "requeued 1 of 2 rows" in by_id.output
        by_status = runner.invoke(main, ["outbox", "requeue", *common, "--status", "expired"])
        assert by_status.exit_code == 0
        refused = runner.invoke(main, ["outbox", "list", "--url", url, "--admin-token", "wrong"])
        assert refused.exit_code == 1 and "401" in refused.output and "Traceback" not in refused.output
    assert seen == [
        ("list", {"status": "failed,expired", "limit": "100"}),
        ("list", {"status": "failed", "limit": "100"}),
        ("requeue", {"ids": [7, 8]}),
        ("requeue", {"status": ["expired"]}),
    ]


def test_bad_invocations_are_clear_errors() -> None:
    """No token, ids with --status, a status that cannot be requeued, no service: messages, no traces."""
    runner = CliRunner()
    no_token = runner.invoke(
        main, ["outbox", "list", "--url", "http://127.0.0.1:9"], env={"TWITTCOM_ADMIN_TOKEN": ""}
    )
    assert no_token.exit_code == 1 and "admin token" in no_token.output
    both = runner.invoke(main, ["outbox", "requeue", "--admin-token", "t", "--status", "failed", "3"])
    assert both.exit_code == 2 and "not both" in both.output
    sent = runner.invoke(main, ["outbox", "requeue", "--admin-token", "t", "--status", "sent"])
    assert sent.exit_code == 2 and "only failed and expired" in sent.output
    down = runner.invoke(main, ["outbox", "list", "--url", "http://127.0.0.1:9", "--admin-token", "t"])
    assert down.exit_code == 1 and "cannot reach the service" in down.output
