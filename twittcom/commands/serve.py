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

import dataclasses
import ipaddress
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reference.clients.transport import TRANSPORTS
from reference.runtime.config import ENV_PREFIX, ServiceConfig
from twittcom.commands.helptext import env_and_default, examples
from twittcom.prechecks import SetupError, check_ports_free, checked_dsn

__all__ = ["serve"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise click.BadParameter(f"{host} is not a loopback address; the service binds loopback only",
                                 param_hint="--host")  # fmt: skip


def _config_option(*decls: str, field: str, text: str, **kwargs: Any) -> Callable[[_F], _F]:
    """An option read by :meth:`ServiceConfig.from_env` when not given: its help names the variable
    and the dataclass default, in click's ``[env var: ...; default: ...]`` notation."""
    default = {f.name: f.default for f in dataclasses.fields(ServiceConfig)}[field]
    shown = None if field in _SECRETS or default in ("", None) else default
    return click.option(
        *decls, **kwargs, help=f"{text}  {env_and_default(ENV_PREFIX + field.upper(), shown)}"
    )


_SECRETS = (
    "admin_token", "x_user_token", "x_app_token", "x_consumer_secret", "twilio_auth_token", "smpp_url",
)  # fmt: skip

_EXAMPLES = examples(
    (
        "against twittcom up's fakes (see `twittcom up --json`), webhook ingestion",
        "twittcom serve --port 8090 "
        "--dsn sqlite:///proc.db --x-base-url http://127.0.0.1:8081 --twilio-base-url http://127.0.0.1:8082 "
        "--admin-token demo-token",
    ),
    (
        "polling instead of webhooks, four workers, PostgreSQL",
        "twittcom serve --dsn postgresql://postgres@127.0.0.1:5432/test --ingestion poll --workers 4",
    ),
    (
        "two processes (they share the secrets)",
        "TWITTCOM_OTP_KEY=$(openssl rand -hex 32) "
        "TWITTCOM_WEB_SECRET=$(openssl rand -hex 32) "
        "twittcom serve --dsn postgresql://postgres@127.0.0.1:5432/test --processes 2",
    ),
)


@click.command("serve", context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EXAMPLES)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="TCP port.")
@_config_option("--dsn", field="dsn", text="Store: SQLite path, postgresql://... or memory://.")
@_config_option("--operator-handle", field="operator_handle", text="The operator's X handle.")
@_config_option("--operator-user-id", field="operator_user_id", text="The operator's X user id.")
@_config_option("--x-user-token", field="x_user_token", text="OAuth 2.0 user token of the operator.")
@_config_option("--x-app-token", field="x_app_token", text="App-only bearer token; registers the webhook.")
@_config_option("--x-base-url", field="x_base_url", text="X API origin.")
@_config_option("--x-consumer-secret", field="x_consumer_secret", text="Signs CRCs and webhook bodies.")
@_config_option("--twilio-account-sid", field="twilio_account_sid", text="Twilio account SID.")
@_config_option("--twilio-auth-token", field="twilio_auth_token", text="Twilio auth token (basic auth).")
@_config_option("--twilio-base-url", field="twilio_base_url", text="Twilio API origin.")
@_config_option("--twilio-from", field="twilio_from", text="Sender number or short code.")
@_config_option(
    "--twilio-messaging-service-sid",
    field="twilio_messaging_service_sid",
    text="Messaging service instead of From.",
)
@_config_option("--smpp-url", field="smpp_url", text="smpp://system_id:password@host:port: SMS over SMPP.")
@_config_option("--smpp-source", field="smpp_source", text="SMPP source address (default: --twilio-from).")
@_config_option("--smpp-binds", field="smpp_binds", text="SMPP transceiver binds.", type=int)
@_config_option("--smpp-window", field="smpp_window", text="Unanswered submit_sm per bind.", type=int)
@_config_option("--smpp-throughput", field="smpp_throughput", text="submit_sm/s, 0: no cap.", type=float)
@_config_option(
    "--public-base-url",
    field="public_base_url",
    text="This service's public origin (callbacks, webhook URL).",
)
@_config_option(
    "--ingestion",
    field="ingestion",
    text="How events arrive: X's webhook, polling, both, or none.",
    type=click.Choice(["webhook", "poll", "both", "none"]),
)
@_config_option("--workers", field="workers", text="Inbound workers (connections).", type=int)
@_config_option("--batch-size", field="batch_size", text="Inbound rows per group commit.", type=int)
@_config_option(
    "--poll-interval",
    "poll_interval_s",
    field="poll_interval_s",
    text="Seconds between polling rounds.",
    type=float,
)
@_config_option(
    "--vacuum-interval",
    "vacuum_interval_s",
    field="vacuum_interval_s",
    text="PostgreSQL: seconds between VACUUMs of the queue tables (0: none).",
    type=float,
)
@_config_option("--admin-token", field="admin_token", text="Bearer token of the /admin/ API.")
@_config_option("--catalog", field="catalog", text="The pack catalog (TOML; default: the sample catalog).")
@_config_option(
    "--transport",
    field="transport",
    text="HTTP stack of the outbound clients.",
    type=click.Choice(list(TRANSPORTS)),
)
@_config_option(
    "--register-webhook/--no-register-webhook",
    field="register_webhook",
    text="Register and subscribe the webhook at start (needs --x-app-token).",
    default=None,
)
@_config_option(
    "--processes", field="processes", text="Service processes sharing the port and the database.", type=int
)
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
