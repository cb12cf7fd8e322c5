"""Secrets shared or refused: one process keeps generated secrets in the store (a restart keeps codes
and forms valid), several processes need TWITTCOM_OTP_KEY and TWITTCOM_WEB_SECRET, the web page's
rate limits are counted in the store, and the store's password is never printed."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from rt_stack import ASHA_NO, PUBLIC, Stack, directory

from reference.bootstrap import build_service
from reference.domain.otp import SeededOtpSource
from reference.runtime import Service
from reference.runtime.config import redact_dsn
from twittcom.cli import main

_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def _service_without_secrets(live: Stack, **extra: Any) -> Service:
    """As ``twittcom serve`` builds it: no Settings, no OTP key or web secret in the config."""
    return build_service(
        live.config(web_secret="", **extra),
        x_http=live.x,
        sms_http=live.sms,
        otp_source=SeededOtpSource(5),
        subscribers=directory(),
    )


async def _start(live: Stack, service: Service) -> httpx.AsyncClient:
    live.service = service
    live.to_service.target = service.app
    await service.start()
    live.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url=PUBLIC)
    return live.client


async def test_a_restart_keeps_outstanding_codes_and_forms_valid(tmp_path: Path, monkeypatch) -> None:
    """The issue's case: a code sent before a graceful restart was refused ("does not match") and
    forms rendered before it had "expired". Now the generated secrets live in the store."""
    monkeypatch.delenv("TWITTCOM_OTP_KEY", raising=False)
    monkeypatch.delenv("TWITTCOM_WEB_SECRET", raising=False)
    live = Stack(str(tmp_path / "secrets.db"))
    await live.sms_app.start()
    live.operator = await live.user("tatadocomo")
    try:
        client = await _start(live, _service_without_secrets(live))
        assert live.service is not None and live.service.x is not None
        hook = await live.service.x.create_webhook(live.service.config.webhook_url)
        assert await live.service.x.subscribe(hook.id)
        asha = await live.user("asha")
        await live.tweet(asha, "@tatadocomo #reg 9812345678")
        await live.settle()
        code = await live.code_for(ASHA_NO)
        form = await client.get("/register")
        token = _TOKEN.search(form.text)
        assert token is not None
        cookies = dict(client.cookies)

        await live.service.stop()
        await client.aclose()
        client = await _start(live, _service_without_secrets(live))
        await live.tweet(asha, f"@tatadocomo #code {code}")
        await live.settle()
        info = (await live.admin_get("/admin/handles/asha")).json()
        assert info["msisdn"] == ASHA_NO, info  # the code hashed before the restart still matches

        client.cookies.update(cookies)
        posted = await client.post(
            "/register", data={"csrf_token": token.group(1), "handle": "@ravi", "mobile": "98765 43210"}
        )
        assert "This form has expired" not in posted.text
        assert posted.status_code != 403
    finally:
        await live.stop()


@pytest.mark.postgres
async def test_two_processes_share_the_web_rate_limit_through_the_store(pg_schema_factory) -> None:
    """Two services on one PostgreSQL store (as ``--processes 2``): a client IP gets the page's
    budget (20 posts per 10 min) once in all, not once per process."""
    dsn = pg_schema_factory()
    live = Stack(dsn, web_rate_limit=True)
    await live.sms_app.start()
    live.operator = await live.user("tatadocomo")
    services = [live.build_service(), live.build_service()]
    clients = []
    try:
        for service in services:
            await service.start()
            transport = httpx.ASGITransport(app=service.app, client=("203.0.113.9", 50_000))
            clients.append(httpx.AsyncClient(transport=transport, base_url=PUBLIC))
        statuses = []
        for i in range(30):  # no CSRF token: refused (403) but each post spends the IP's budget
            response = await clients[i % 2].post("/register", data={"handle": "x", "mobile": "1"})
            statuses.append(response.status_code)
        assert statuses.count(429) == 10 and statuses.count(403) == 20, statuses
        assert statuses[:20] == [403] * 20
    finally:
        for client in clients:
            await client.aclose()
        for service in services:
            await service.stop()
        await live.stop()


def test_serve_refuses_several_processes_without_shared_secrets(monkeypatch, tmp_path: Path) -> None:
    """``--processes 2`` without the secrets stops before starting anything and names the variables."""
    for name in ("TWITTCOM_OTP_KEY", "TWITTCOM_WEB_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWITTCOM_FREEZE_GC", "0")
    runner = CliRunner()
    dsn = str(tmp_path / "refused.db")
    result = runner.invoke(main, ["serve", "--processes", "2", "--dsn", dsn])
    assert result.exit_code != 0
    assert "TWITTCOM_OTP_KEY and TWITTCOM_WEB_SECRET" in result.output
    monkeypatch.setenv("TWITTCOM_OTP_KEY", "ab" * 32)
    result = runner.invoke(main, ["serve", "--processes", "2", "--dsn", dsn])
    assert result.exit_code != 0 and "set TWITTCOM_WEB_SECRET (" in result.output
    assert not Path(dsn).exists()  # refused before anything was created


def test_serve_never_prints_the_store_password(monkeypatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setenv("TWITTCOM_FREEZE_GC", "0")
    runner = CliRunner()
    # nothing listens on port 1: refused before the banner (issue 12), the password still hidden
    refused = runner.invoke(main, ["serve", "--port", "0", "--dsn", "postgresql://u:hunter2@127.0.0.1:1/db"])
    assert refused.exit_code == 2 and "127.0.0.1:1 does not answer" in refused.output
    bad = runner.invoke(main, ["serve", "--port", "0", "--dsn", "postgresql://u:hunter2@bad host/db"])
    assert bad.exit_code == 2 and "postgresql://u:***@bad host/db" in bad.output
    assert "hunter2" not in refused.output + bad.output
    # a reachable database (local PostgreSQL trusts the password): the banner redacts it
    pg = os.environ.get("TWITTCOM_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
    with_password = pg.replace("://postgres@", "://postgres:hunter2@", 1)
    result = runner.invoke(main, ["serve", "--port", "0", "--dsn", with_password])
    if result.exit_code == 2 and "does not answer" in result.output and not os.environ.get("CI"):
        pytest.skip("PostgreSQL is not running here")
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output and "postgres:***@" in result.output


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgres://u:p@ss@w@h/db", "postgres://u:***@h/db"),
        (
            "postgresql://u@h/db?password=sec&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        ("host=h dbname=d password='a b\\'c' user=u", "host=h dbname=d password=*** user=u"),
        ("host=h PASSWORD = x", "host=h PASSWORD = ***"),
        ("postgresql://h/db", "postgresql://h/db"),
        ("twittcom.db", "twittcom.db"),
    ],
)
def test_redact_dsn(dsn: str, shown: str) -> None:
    assert redact_dsn(dsn) == shown


def test_the_config_repr_holds_no_secret() -> None:
    from reference.runtime import ServiceConfig

    config = ServiceConfig(dsn="postgresql://u:hunter2@h/db", otp_key="ab" * 16, web_secret="s" * 16)
    assert "hunter2" not in repr(config) and "ab" * 16 not in repr(config) and "s" * 16 not in repr(config)
