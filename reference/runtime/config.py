"""``ServiceConfig``: everything the processor service needs, loadable from ``TWITTCOM_*`` variables.

Each field maps to ``TWITTCOM_<FIELD NAME UPPER CASE>`` (e.g. ``TWITTCOM_DSN``,
``TWITTCOM_X_BASE_URL``); :meth:`ServiceConfig.from_env` reads them, ``twittcom serve`` also takes
them as options. Secrets are excluded from ``repr``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from reference.clients.transport import DEFAULT_TIMEOUT, TRANSPORTS, TransportChoice
from reference.domain.catalog import default_catalog_path
from reference.domain.errors import ConfigError
from reference.service.database import DbCallsMode
from reference.storage.dsn import redact_dsn

__all__ = ["ENV_PREFIX", "IngestionMode", "ServiceConfig", "redact_dsn"]

ENV_PREFIX = "TWITTCOM_"
IngestionMode = Literal["webhook", "poll", "both", "none"]
_MODES = ("webhook", "poll", "both", "none")
_DB_CALLS = ("auto", "inline", "threads")
_READ_TIMEOUT_S = float(DEFAULT_TIMEOUT.read or 10.0)


@dataclass(frozen=True)
class ServiceConfig:
    """Configuration of one ``twittcom serve`` process.

    Limits: ``x_user_tweet_limit`` tweets per ``x_user_tweet_window_s`` for the operator's account and
    ``x_app_tweet_limit`` per ``x_app_tweet_window_s`` for the app (X's documented 100/15 min and
    10,000/24 h); 0 switches a limit off. DMs: ``x_dm_limit`` per ``x_dm_window_s``.
    Polling reads mentions every ``poll_interval_s`` (pages of ``mentions_page_size``) and DMs every
    ``dm_poll_interval_s`` (0: with the mentions). ``twilio_validity_period`` is the ValidityPeriod
    of every SMS (0: Twilio's default).
    ``processes`` service processes share the limits: each one keeps to its share.
    Secrets: ``otp_key`` (hex, ``TWITTCOM_OTP_KEY``) keys the hashes of one-time codes and
    ``web_secret`` (``TWITTCOM_WEB_SECRET``) the registration form's CSRF tokens; every process and
    host must use the same ones. Unset, a single process keeps generated ones in the store
    (:mod:`reference.runtime.shared_state`) and ``twittcom serve --processes N`` refuses to start
    (:meth:`missing_shared_secrets`).
    ``db_calls`` says where database work runs (:class:`~reference.service.database.DatabaseCalls`):
    ``auto`` runs it inline on the event loop for SQLite and memory, in threads for PostgreSQL.
    ``freeze_gc``: once started, move everything allocated so far out of the cyclic collector's
    reach (:func:`gc.freeze`), so a full collection scans only what the service allocates while
    it runs: the longest collection pause under load fell from 33-38 ms to 2-3 ms. It acts on the
    whole process, so ``twittcom serve`` turns it on and in-process stacks leave it off.
    ``x_user_token`` is the operator's OAuth 2.0 user token (tweets, DMs, mentions, subscribing);
    ``x_app_token`` the app-only bearer token, which ``register_webhook`` needs: X's spec lets
    ``POST /2/webhooks`` take the app-only token or OAuth 1.0a, never an OAuth 2.0 user token.
    With ``register_webhook`` the service also checks the webhook at start and every
    ``webhook_check_interval_s`` (re-validating or re-registering it) and polls while it is not
    valid (:mod:`reference.runtime.webhook_health`).
    Outbox sends are retried with backoff capped at ``retry_max_delay_s`` for as long as they are
    valid (code SMS: the code's lifetime; anything else: ``send_horizon_s``), then end ``expired``;
    a send whose outcome is unknown is looked up at the gateway no sooner than ``unknown_settle_s``
    later (at least the clients' 10 s read timeout, so a request a slow gateway still holds lands
    first). ``lease_s`` should be at least twice that read timeout (the default 30 s is): a send
    starts only in the first half of its lease, so it ends before another process can take the row.
    Every ``reconcile_interval_s`` SMS statuses whose callback never came are fetched from
    Twilio. On PostgreSQL the queue tables are VACUUMed every ``vacuum_interval_s`` (0: never;
    :mod:`reference.runtime.vacuum`). With ``smpp_url`` (``smpp://system_id:password@host:port``)
    SMS go over SMPP 3.4 instead (:class:`~reference.clients.smpp_sms.SmppSmsClient`: ``smpp_binds``
    transceiver binds, ``smpp_window`` unanswered submit_sm each, ``smpp_throughput`` submit_sm/s,
    0: no cap; source ``smpp_source`` or ``twilio_from``); receipts are recorded as status callbacks are.
    ``/readyz`` warns when the oldest pending outbox row is older than ``backlog_warn_s``.
    ``catalog`` is the path of the operator's pack catalog (TOML, :mod:`reference.domain.catalog`);
    empty: the sample catalog shipped with the package.
    """

    dsn: str = field(default="twittcom.db", repr=False)  # may hold a password: see redact_dsn
    operator_handle: str = "tatadocomo"
    operator_user_id: str = ""
    x_user_token: str = field(default="", repr=False)
    x_app_token: str = field(default="", repr=False)
    x_base_url: str = "https://api.x.com"
    x_consumer_secret: str = field(default="", repr=False)
    twilio_account_sid: str = ""
    twilio_auth_token: str = field(default="", repr=False)
    twilio_base_url: str = "https://api.twilio.com"
    twilio_from: str = ""
    twilio_messaging_service_sid: str = ""
    public_base_url: str = "http://127.0.0.1:8080"
    ingestion: IngestionMode = "webhook"
    workers: int = 1
    batch_size: int = 64
    poll_interval_s: float = 15.0
    dm_poll_interval_s: float = 0.0
    mentions_page_size: int = 100
    twilio_validity_period: int = 0
    smpp_url: str = field(default="", repr=False)  # smpp://system_id:password@host:port: SMS over SMPP
    smpp_source: str = ""
    smpp_binds: int = 1
    smpp_window: int = 10
    smpp_throughput: float = 0.0
    admin_token: str = field(default="", repr=False)
    web_secret: str = field(default="", repr=False)
    otp_key: str = field(default="", repr=False)
    transport: TransportChoice = "aiohttp"
    db_calls: DbCallsMode = "auto"
    dispatch_batch: int = 64
    dispatch_concurrency: int = 32
    dispatch_loops: int = 1
    send_horizon_s: float = 6 * 3600.0
    unknown_settle_s: float = 30.0
    retry_max_delay_s: float = 60.0
    reconcile_interval_s: float = 60.0
    vacuum_interval_s: float = 5.0
    backlog_warn_s: float = 300.0
    lease_s: float = 30.0
    idle_wait_s: float = 0.05
    x_user_tweet_limit: int = 100
    x_user_tweet_window_s: float = 900.0
    x_app_tweet_limit: int = 10_000
    x_app_tweet_window_s: float = 86_400.0
    x_dm_limit: int = 1_440
    x_dm_window_s: float = 86_400.0
    web_rate_limit: bool = True
    register_webhook: bool = False
    webhook_check_interval_s: float = 300.0
    processes: int = 1
    freeze_gc: bool = False
    catalog: str = ""

    def __post_init__(self) -> None:
        if self.ingestion not in _MODES:
            raise ConfigError(f"ingestion must be one of {', '.join(_MODES)}, got {self.ingestion!r}")
        if self.transport not in TRANSPORTS:
            raise ConfigError(f"transport must be one of {', '.join(TRANSPORTS)}, got {self.transport!r}")
        if self.db_calls not in _DB_CALLS:
            raise ConfigError(f"db_calls must be one of {', '.join(_DB_CALLS)}, got {self.db_calls!r}")
        if (
            self.workers < 1
            or self.batch_size < 1
            or self.dispatch_batch < 1
            or self.dispatch_concurrency < 1
            or self.processes < 1
            or self.dispatch_loops < 1
        ):
            raise ConfigError("workers, batch sizes and concurrency must be at least 1")
        if self.lease_s <= 0 or self.poll_interval_s <= 0:
            raise ConfigError("lease_s and poll_interval_s must be positive")
        if self.unknown_settle_s < _READ_TIMEOUT_S:
            raise ConfigError(
                f"unknown_settle_s must be at least the clients' read timeout ({_READ_TIMEOUT_S:.0f} s): "
                "a lookup sooner may miss a request the gateway still holds"
            )
        if min(self.send_horizon_s, self.unknown_settle_s, self.retry_max_delay_s, self.reconcile_interval_s,
               self.backlog_warn_s) <= 0:  # fmt: skip
            raise ConfigError(
                "send_horizon_s, unknown_settle_s, retry_max_delay_s, reconcile_interval_s and "
                "backlog_warn_s must be positive"
            )
        if self.dm_poll_interval_s < 0 or not 5 <= self.mentions_page_size <= 100:
            raise ConfigError("dm_poll_interval_s must be >= 0 and mentions_page_size within 5..100")
        if not 0 <= self.twilio_validity_period <= 36_000:
            raise ConfigError("twilio_validity_period must be within 0..36000 s (0: Twilio's default)")
        if self.otp_key:
            try:
                key = bytes.fromhex(self.otp_key)
            except ValueError:
                raise ConfigError("otp_key (TWITTCOM_OTP_KEY) must be hex") from None
            if len(key) < 16:
                raise ConfigError("otp_key (TWITTCOM_OTP_KEY) must be at least 16 bytes (32 hex digits)")
        if self.web_secret and len(self.web_secret.encode()) < 16:
            raise ConfigError("web_secret (TWITTCOM_WEB_SECRET) must be at least 16 bytes")
        if self.smpp_url and not self.smpp_url.startswith("smpp://"):
            raise ConfigError("smpp_url must be smpp://system_id:password@host:port")
        if self.smpp_binds < 1 or self.smpp_window < 1 or self.smpp_throughput < 0:
            raise ConfigError("smpp_binds and smpp_window must be at least 1, smpp_throughput >= 0")
        if self.vacuum_interval_s < 0:
            raise ConfigError("vacuum_interval_s must be >= 0 (0: no VACUUM of the queue tables)")
        if self.webhook_check_interval_s <= 0:
            raise ConfigError("webhook_check_interval_s must be positive")
        if self.catalog and not Path(self.catalog).is_file():
            raise ConfigError(f"catalog (TWITTCOM_CATALOG): no such file: {self.catalog}")

    def catalog_path(self) -> Path:
        """The pack catalog to sell: ``catalog``, else the sample shipped with the package."""
        return Path(self.catalog) if self.catalog else default_catalog_path()

    @property
    def webhook_url(self) -> str:
        """Where X should POST Account Activity events."""
        return self.public_base_url.rstrip("/") + "/webhooks/x"

    @property
    def sms_callback_url(self) -> str:
        """The ``StatusCallback`` given to Twilio with every SMS."""
        return self.public_base_url.rstrip("/") + "/callbacks/twilio/status"

    def share(self, limit: int) -> int:
        """This process's share of a write limit (0 stays "no limit")."""
        return 0 if limit == 0 else max(1, limit // self.processes)

    def to_env(self) -> dict[str, str]:
        """The ``TWITTCOM_*`` variables that :meth:`from_env` reads back into this config."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            env[ENV_PREFIX + f.name.upper()] = (
                ("1" if value else "0") if isinstance(value, bool) else str(value)
            )
        return env

    def problems(self) -> list[str]:
        """What is missing for a fully working service (readiness reports these)."""
        missing = []
        if not self.operator_user_id:
            missing.append("operator_user_id")
        if not self.x_user_token:
            missing.append("x_user_token")
        if self.ingestion in ("webhook", "both") and not self.x_consumer_secret:
            missing.append("x_consumer_secret")
        if self.register_webhook and not self.x_app_token:
            missing.append("x_app_token (webhook registration)")
        if self.smpp_url:
            pass  # SMS over SMPP: the URL holds the bind's credentials
        elif not self.twilio_account_sid or not self.twilio_auth_token:
            missing.append("twilio credentials")
        if not self.smpp_url and not self.twilio_from and not self.twilio_messaging_service_sid:
            missing.append("twilio_from or twilio_messaging_service_sid")
        if not self.admin_token:
            missing.append("admin_token")
        return missing

    def missing_shared_secrets(self) -> list[str]:
        """The secret variables every process must share that are not set."""
        return [ENV_PREFIX + name.upper() for name in ("otp_key", "web_secret") if not getattr(self, name)]

    def with_overrides(self, **values: Any) -> ServiceConfig:
        """A copy with the given fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceConfig:
        """Read ``TWITTCOM_*`` variables (then apply ``overrides``)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _convert(f.name, str(f.type), raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _convert(name: str, type_name: str, raw: str) -> Any:
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name == "bool":
            lowered = raw.strip().lower()
            if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return lowered in ("1", "true", "yes", "on")
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}: cannot read {raw!r} as {type_name}") from exc
    return raw
