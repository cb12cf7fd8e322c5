"""``twittcom serve``: the processor service (webhooks or polling, workers, outbox dispatcher) on loopback.

``--processes N`` runs N service processes on one port (uvicorn workers), sharing the database
(with PostgreSQL the queue and outbox are shared through ``SKIP LOCKED``; with SQLite through its
write lock); each keeps to its share of the X write limits and serves its own ``/metrics``.
Every option falls back to its ``TWITTCOM_*`` environment variable (see
:class:`reference.runtime.config.ServiceConfig`). ``TWITTCOM_OTP_KEY`` (hex) and
``TWITTCOM_WEB_SECRET`` are the secrets every process must share: ``--processes N`` refuses to start
without them; one process keeps generated ones in the store. The store's password is never printed.
uvicorn runs the app with its lifespan, which
starts and stops the background tasks; SIGTERM and SIGINT stop it gracefully (the workers finish
the batch they hold, leases of anything unfinished run out and another process takes over).
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

import click

from twittcom.prechecks import SetupError, check_ports_free, checked_dsn

__all__ = ["serve"]


def _check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise click.BadParameter(f"{host} is not a loopback address; the service binds loopback only",
                                 param_hint="--host")  # fmt: skip


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="TCP port.")
@click.option("--dsn", help="Store: SQLite path, postgresql://... or memory:// [TWITTCOM_DSN].")
@click.option("--operator-handle", help="The operator's X handle [TWITTCOM_OPERATOR_HANDLE].")
@click.option("--operator-user-id", help="The operator's X user id [TWITTCOM_OPERATOR_USER_ID].")
@click.option("--x-user-token", help="OAuth 2.0 user token of the operator [TWITTCOM_X_USER_TOKEN].")
@click.option("--x-app-token", help="App-only bearer token; registers the webhook [TWITTCOM_X_APP_TOKEN].")
@click.option("--x-base-url", help="X API origin [TWITTCOM_X_BASE_URL].")
@click.option("--x-consumer-secret", help="Signs CRCs and webhook bodies [TWITTCOM_X_CONSUMER_SECRET].")
@click.option("--twilio-account-sid", help="[TWITTCOM_TWILIO_ACCOUNT_SID]")
@click.option("--twilio-auth-token", help="[TWITTCOM_TWILIO_AUTH_TOKEN]")
@click.option("--twilio-base-url", help="Twilio API origin [TWITTCOM_TWILIO_BASE_URL].")
@click.option("--twilio-from", help="Sender number or short code [TWITTCOM_TWILIO_FROM].")
@click.option("--twilio-messaging-service-sid", help="[TWITTCOM_TWILIO_MESSAGING_SERVICE_SID]")
@click.option("--smpp-url", help="smpp://system_id:password@host:port: SMS over SMPP [TWITTCOM_SMPP_URL].")
@click.option("--smpp-source", help="SMPP source address (default: --twilio-from) [TWITTCOM_SMPP_SOURCE].")
@click.option("--smpp-binds", type=int, help="SMPP transceiver binds [TWITTCOM_SMPP_BINDS].")
@click.option("--smpp-window", type=int, help="Unanswered submit_sm per bind [TWITTCOM_SMPP_WINDOW].")
@click.option("--smpp-throughput", type=float, help="submit_sm/s, 0: no cap [TWITTCOM_SMPP_THROUGHPUT].")
@click.option("--public-base-url", help="This service's public origin (callbacks, webhook URL).")
@click.option(
    "--ingestion", type=click.Choice(["webhook", "poll", "both", "none"]), help="How events arrive."
)
@click.option("--workers", type=int, help="Inbound workers (connections).")
@click.option("--batch-size", type=int, help="Inbound rows per group commit.")
@click.option("--poll-interval", "poll_interval_s", type=float, help="Seconds between polling rounds.")
@click.option("--admin-token", help="Bearer token of the /admin/ API [TWITTCOM_ADMIN_TOKEN].")
@click.option("--transport", help="HTTP stack of the clients: aiohttp (default) or another of TRANSPORTS.")
@click.option(
    "--register-webhook/--no-register-webhook", default=None, help="Register and subscribe at start."
)
@click.option("--processes", type=int, help="Service processes sharing the port and the database.")
@click.option("--log-level", default="warning", show_default=True, help="uvicorn log level.")
def serve(host: str, port: int, log_level: str, **options: Any) -> None:
    """Run the Twittcom processor service."""
    import logging

    import uvicorn

    from reference.bootstrap import build_service
    from reference.domain.errors import TwittcomError
    from reference.runtime import ServiceConfig
    from reference.runtime.config import redact_dsn

    _check_loopback(host)
    os.environ.setdefault("TWITTCOM_FREEZE_GC", "1")  # this process is the service's alone
    try:
        config = ServiceConfig.from_env(**options)
    except TwittcomError as exc:
        raise SetupError(str(exc)) from exc
    unshared = config.missing_shared_secrets()
    if config.processes > 1 and unshared:
        raise SetupError(
            f"--processes {config.processes} needs secrets every process shares: "
            f"set {' and '.join(unshared)} (e.g. export TWITTCOM_OTP_KEY=$(openssl rand -hex 32) "
            "TWITTCOM_WEB_SECRET=$(openssl rand -hex 32)); without them each process would refuse "
            "the codes and forms of the others"
        )
    checked_dsn(config.dsn, "--dsn")
    check_ports_free({"--port": port}, host)
    try:
        service = build_service(config)
    except TwittcomError as exc:
        raise SetupError(str(exc)) from exc
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    missing = config.problems()
    store = redact_dsn(config.dsn)
    click.echo(
        f"twittcom serve on http://{host}:{port}  store {store}  ingestion {config.ingestion}"
        f"  workers {config.workers}" + (f"  (not ready: missing {', '.join(missing)})" if missing else "")
    )
    common: dict[str, Any] = dict(host=host, port=port, log_level=log_level, lifespan="on", access_log=False,
                                  timeout_graceful_shutdown=10)  # fmt: skip
    if config.processes == 1:
        uvicorn.run(service.app, **common)
        return
    # Several processes: each builds its own Service from the environment (uvicorn spawns them).
    os.environ.update(config.to_env())
    uvicorn.run(
        "reference.bootstrap:create_app_from_env", factory=True, workers=config.processes, **common
    )
