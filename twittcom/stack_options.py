"""How to build a stack: :class:`StackOptions` (re-exported by :mod:`twittcom.stack_base` and
:mod:`twittcom.stack`) and the ingestion modes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_SHORT_CODE
from fake_sms.smpp import DEFAULT_PASSWORD as SMPP_PASSWORD
from fake_sms.smpp import DEFAULT_SYSTEM_ID as SMPP_SYSTEM_ID
from reference.clients.transport import TransportChoice

__all__ = ["Ingestion", "StackOptions"]

Ingestion = Literal["webhook", "poll", "both"]


@dataclass(frozen=True)
class StackOptions:
    """How to build a stack.

    ``x_rate_limits`` is fake X's preset (``real``: X's documented table; ``off``) and
    ``tweet_budget`` the processor's own X write budget (X's 100/15 min and 10,000/24 h, or off);
    ``sms_time_scale`` makes carrier seconds pass that many times faster than wall seconds;
    ``circles`` limits the population to those circles (all 22 when empty);
    ``sms_callback_statuses`` are the transitions the SMS gateway reports (Twilio's usual ones; the
    fake can also report queued and sending).

    What a scenario configures (:mod:`twittcom.live_scenario`): ``circle_weights`` (one per entry of
    ``circles``) weight the directory's circles; ``catalog_all_circles`` sells every sample pack in
    all 22 circles; ``sms_config`` is merged over fake SMS's configuration (senders, carrier) and the
    processor sends from ``sms_from`` or the messaging service ``sms_service_sid`` with
    ``sms_validity_s`` (0: Twilio's default); ``x_limits`` is fake X's rate-limit table (route key ->
    limits, set over its control API); ``tweet_limits`` (user limit, window, app limit, window)
    replaces the processor's write budget (and turns the DM budget off); ``dm_poll_interval_s``
    polls DMs on their own period (0: with the mentions), ``page_size`` is the mentions page and
    ``otp_ttl_s`` the codes' lifetime; ``webhook_latency`` (fake X's fault latency, ms) delays each
    webhook delivery, with as many deliveries in flight as needed (a delay, not a bottleneck).
    ``sms_protocol="smpp"`` serves fake SMS's SMSC on a loopback port and has the processor send
    over SMPP (``smpp_binds`` binds, ``smpp_window``, ``smpp_throughput`` submit_sm/s; the SMSC's
    caps ``smpp_bind_tps``, ``smpp_system_tps`` and its response time ``smpp_latency_ms``).
    """

    dsn: str = "memory://"
    seed: int = 0
    population: int = 200
    operator_handle: str = "tatadocomo"
    sms_time_scale: float = 600.0
    x_rate_limits: str = "real"
    tweet_budget: bool = True
    ingestion: Ingestion = "webhook"
    poll_interval_s: float = 15.0
    workers: int = 1
    admin_token: str = ""
    web_rate_limit: bool = True
    x_transport: TransportChoice = "aiohttp"
    circles: tuple[str, ...] = ()
    sms_callback_statuses: tuple[str, ...] = ("sent", "delivered", "undelivered", "failed")
    circle_weights: tuple[float, ...] = ()
    catalog_all_circles: bool = False
    sms_config: dict[str, Any] | None = None
    sms_from: str = DEFAULT_SHORT_CODE
    sms_service_sid: str = ""
    sms_validity_s: int = 0
    x_limits: dict[str, Any] | None = None
    tweet_limits: tuple[int, float, int, float] | None = None
    dm_poll_interval_s: float = 0.0
    page_size: int = 100
    otp_ttl_s: float = 600.0
    webhook_latency: dict[str, Any] | None = None
    sms_protocol: Literal["twilio", "smpp"] = "twilio"
    smpp_binds: int = 1
    smpp_window: int = 10
    smpp_throughput: float = 0.0
    smpp_bind_tps: float = 0.0
    smpp_system_tps: float = 0.0
    smpp_latency_ms: float = 0.0

    def smsc_config(self) -> dict[str, Any] | None:
        """The fake SMSC's one system (None: SMS over Twilio's API, no SMSC served)."""
        if self.sms_protocol != "smpp":
            return None
        system = {
            "system_id": SMPP_SYSTEM_ID, "password": SMPP_PASSWORD, "account_sid": DEFAULT_ACCOUNT_SID,
            "source": self.sms_service_sid or self.sms_from, "max_binds": max(8, self.smpp_binds),
            "window": self.smpp_window, "bind_tps": self.smpp_bind_tps, "system_tps": self.smpp_system_tps,
            "submit_latency_ms": self.smpp_latency_ms,
        }  # fmt: skip
        return {"systems": [system]}
