"""``twittcom fake-sms``: serve the Twilio-compatible SMS gateway fake on loopback with uvicorn."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from twittcom.prechecks import check_ports_free

__all__ = ["fake_sms"]


def _check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise click.BadParameter(
            f"{host} is not a loopback address; the fake only binds loopback", param_hint="--host"
        )


@click.command("fake-sms")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", default=8790, show_default=True, type=int, help="TCP port.")
@click.option(
    "--time-scale", default=1.0, show_default=True, type=float, help="Carrier seconds per wall second."
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for sids, latencies, outcomes.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML or JSON configuration (carrier model, accounts, senders, retention; see fake_sms/config.py).",
)
@click.option(
    "--smpp-port", type=click.IntRange(0, 65535), default=None,
    help="Also serve the SMSC over SMPP 3.4 on this loopback port (systems: the config's [smpp] table; "
    "default system_id twittcom, password secret).",
)  # fmt: skip
@click.option("--log-level", default="warning", show_default=True, help="uvicorn log level.")
def fake_sms(
    host: str,
    port: int,
    time_scale: float,
    seed: int,
    config_path: Path | None,
    smpp_port: int | None,
    log_level: str,
) -> None:
    """Serve the Twilio Messages API fake with its carrier model and /_fake/ control API."""
    import uvicorn

    from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioError, create_app
    from fake_sms.config import load_config_file

    _check_loopback(host)
    if time_scale <= 0:
        raise click.BadParameter("must be positive", param_hint="--time-scale")
    check_ports_free({"--port": port} | ({"--smpp-port": smpp_port} if smpp_port else {}), host)
    try:
        config = load_config_file(config_path) if config_path else {}
        smpp = config.pop("smpp", None)
        app = create_app(
            time_scale=time_scale, seed=seed, config=config, smpp_port=smpp_port, smpp_config=smpp
        )
    except (TwilioError, ValueError, TypeError) as exc:  # tomllib/json errors are ValueErrors
        raise click.ClickException(f"bad configuration {config_path}: {exc}") from exc
    click.echo(
        f"fake-sms on http://{host}:{port}  account {DEFAULT_ACCOUNT_SID} token {DEFAULT_AUTH_TOKEN}"
        f"  time scale {time_scale}  seed {seed}"
        + (f"  SMSC smpp://127.0.0.1:{smpp_port}" if smpp_port is not None else "")
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, lifespan="on", access_log=False)
