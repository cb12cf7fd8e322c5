"""``twittcom fake-twitter``: serve the X API v2 fake with uvicorn on loopback."""

from __future__ import annotations

import ipaddress

import click

from twittcom.commands.helptext import examples
from twittcom.prechecks import check_ports_free

__all__ = ["fake_twitter"]


def _check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise click.BadParameter(
            f"{host} is not a loopback address; the fake only binds loopback", param_hint="--host"
        )


@click.command(
    "fake-twitter",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        ("the fake on 127.0.0.1:8081 with X's documented rate limits", "twittcom fake-twitter"),
        (
            "two users created at start (tokens printed), no rate limits",
            "twittcom fake-twitter --port 9081 --user asha --user ravi --rate-limits off",
        ),
        (
            "reproducible ids and tokens, clock moved only by the control API",
            "twittcom fake-twitter --seed 1 --manual-clock",
        ),
    ),
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", default=8081, show_default=True, type=int, help="TCP port.")
@click.option(
    "--rate-limits",
    default="real",
    show_default=True,
    help="real (documented X limits), off, or a JSON/TOML file of per-route limits.",
)
@click.option("--seed", type=int, default=None, help="Seed for tokens, ids' worker bits and fault draws.")
@click.option(
    "--consumer-secret",
    default=None,
    help="App consumer secret that signs CRCs and webhook bodies (default: the documented local one).",
)
@click.option(
    "--retention-tweets", default=200_000, show_default=True, type=int, help="Keep at most N tweets/DMs."
)
@click.option(
    "--retention-age", default=7 * 86_400.0, show_default=True, type=float, help="Evict after S seconds."
)
@click.option(
    "--max-pending-webhooks",
    default=20_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Webhook events waiting for delivery beyond this drop oldest first (webhook_dropped).",
)
@click.option(
    "--problem-host",
    type=click.Choice(["api.x.com", "api.twitter.com"]),
    default="api.x.com",
    show_default=True,
    help="Host of problem type URIs: api.x.com as X answers today (spec 2.167), or spec 2.159's.",
)
@click.option(
    "--user", "users", multiple=True, help="Create this user at start (repeatable); tokens are printed."
)
@click.option(
    "--manual-clock",
    is_flag=True,
    help="Freeze the fake's clock at start; it moves only by POST /_fake/clock/advance (with --seed: "
    "identical ids and tokens on every run).",
)
@click.option("--log-level", default="warning", show_default=True, help="uvicorn log level.")
def fake_twitter(
    host: str,
    port: int,
    rate_limits: str,
    seed: int | None,
    consumer_secret: str | None,
    retention_tweets: int,
    retention_age: float,
    max_pending_webhooks: int,
    problem_host: str,
    users: tuple[str, ...],
    manual_clock: bool,
    log_level: str,
) -> None:
    """Serve the X API v2 fake (routes under /2/, control API under /_fake/)."""
    import json

    import uvicorn

    from fake_twitter import DEFAULT_CONSUMER_SECRET, ManualClock, TwitterBackend, create_app

    _check_loopback(host)
    check_ports_free({"--port": port}, host)
    backend = TwitterBackend(
        ManualClock() if manual_clock else None,
        seed=seed,
        rate_limits=rate_limits,
        consumer_secret=consumer_secret or DEFAULT_CONSUMER_SECRET,
        retention_max_tweets=retention_tweets,
        retention_max_age=retention_age,
        max_pending_webhook_events=max_pending_webhooks,
    )
    for username in users:
        user = backend.create_user(username)
        click.echo(json.dumps({"id": str(user.id), "username": username, "bearer_token": user.bearer_token}))
    app = backend.app
    click.echo(json.dumps({"app_bearer_token": app.bearer_token, "consumer_key": app.consumer_key}))
    click.echo(f"fake X API v2 on http://{host}:{port} (control API: /_fake/)")
    app_ = create_app(backend, problem_host=problem_host)
    uvicorn.run(app_, host=host, port=port, log_level=log_level, access_log=False)
