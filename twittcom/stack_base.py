"""The parts of a stack both variants share: the :class:`Stack` base class (fakes, population, set-up
over the fakes' control APIs, the processor service, ``/_stack/``); :class:`StackOptions` (how to
build one) lives in :mod:`twittcom.stack_options` and is re-exported here.

Use the variants through :mod:`twittcom.stack`.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any

import httpx

from fake_sms import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeSmsApp, ScaledClock, SmsBackend
from fake_sms.smpp import DEFAULT_PASSWORD as SMPP_PASSWORD
from fake_sms.smpp import DEFAULT_SYSTEM_ID as SMPP_SYSTEM_ID
from fake_twitter import TwitterBackend
from fake_twitter.app import FakeTwitterApp
from reference.bootstrap import Settings, build_service
from reference.domain.otp import OtpPolicy
from reference.domain.subscribers import Subscriber
from reference.population import Directory, build_population
from reference.runtime import Service, ServiceConfig
from twittcom.catalog_everywhere import catalog_in_all_circles
from twittcom.qa.client import Endpoints, StackClient, StackNotReady, XUser
from twittcom.stack_control import FollowingClock, StackControlApp
from twittcom.stack_options import Ingestion, StackOptions

__all__ = ["Forward", "Ingestion", "Stack", "StackOptions", "WEBHOOK_DELAY_CONCURRENCY"]

#: webhook deliveries in flight at once when they carry a delay (each holds a slot while it waits)
WEBHOOK_DELAY_CONCURRENCY = 4096

_log = logging.getLogger(__name__)


class Forward:
    """An ASGI app forwarding to ``target`` once it exists (breaks the fakes <-> processor cycle)."""

    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.target is None:
            raise RuntimeError("the processor is not wired yet")
        await self.target(scope, receive, send)


class Stack:
    """What both variants share: the fakes, the population, the set-up and the processor service.

    After ``await stack.start()`` (or ``async with``): :attr:`endpoints` (URLs, admin token, and
    in-process transports), :attr:`service`, :attr:`operator`, :attr:`population`.
    """

    mode = "abstract"

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options = options if options is not None else StackOptions()
        self.admin_token = options.admin_token or secrets.token_urlsafe(18)
        if options.circles and options.circle_weights:
            population = build_population(
                options.population, seed=options.seed, circles=options.circles, weights=options.circle_weights
            )
        elif options.circles:
            population = build_population(options.population, seed=options.seed, circles=options.circles)
        else:
            population = build_population(options.population, seed=options.seed)
        self.population: Directory = population
        self.x_backend = TwitterBackend(seed=options.seed, rate_limits=options.x_rate_limits)
        self.sms_backend = SmsBackend(
            clock=ScaledClock(options.sms_time_scale),
            seed=options.seed,
            config={**(options.sms_config or {}), "callback_statuses": list(options.sms_callback_statuses)},
        )
        self.clock = FollowingClock(self.x_backend.clock.time)
        self.to_processor = Forward()
        self.x_app: FakeTwitterApp | None = None
        self.sms_app: FakeSmsApp | None = None
        self.service: Service | None = None
        self.processor_app: StackControlApp | None = None
        self.operator: XUser | None = None
        self.consumer_secret = ""
        self.app_token = ""  # fake X's app-only bearer token: the processor registers its webhook with it
        self.webhook_id = ""
        self._endpoints: Endpoints | None = None
        self._extra_subscribers: list[Subscriber] = []

    # to be provided by the variants ---------------------------------------------------------------
    async def _start_fakes(self) -> tuple[str, str]:
        """Start both fakes; return their base URLs."""
        raise NotImplementedError

    async def _start_processor(self, service: Service) -> str:
        """Start the service (behind :attr:`processor_app`); return its base URL."""
        raise NotImplementedError

    async def _stop_all(self) -> None:
        raise NotImplementedError

    def _transports(self) -> dict[str, httpx.AsyncBaseTransport]:
        return {}

    def _public_base_url(self) -> str:
        raise NotImplementedError

    def _service_clients(self) -> tuple[httpx.AsyncClient | None, httpx.AsyncClient | None]:
        return None, None

    # the shared set-up ------------------------------------------------------------------------------
    @property
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            raise RuntimeError("the stack is not started")
        return self._endpoints

    async def start(self) -> Stack:
        opts = self.options
        x_url, sms_url = await self._start_fakes()
        fakes = Endpoints(
            x_url,
            sms_url,
            "http://unused.invalid",
            self.admin_token,
            opts.operator_handle,
            transports=self._transports(),
        )
        async with StackClient(fakes) as client:
            self.operator = await client.create_user(opts.operator_handle)
            self.consumer_secret = await client.consumer_secret()
            self.app_token = await client.app_token()
            await client.register_handsets({c.msisdn: c.circle for c in self.population.customers})
            if opts.webhook_latency is not None:
                rule = {"route": "webhooks", "latency": opts.webhook_latency}
                answer = await client.x.post("/_fake/faults", json=rule)
                if answer.status_code != 200:
                    raise StackNotReady(f"fake X refused the webhook delay: {answer.text[:200]}")
            if opts.x_limits is not None:
                answer = await client.x.post("/_fake/rate-limits", json={"limits": opts.x_limits})
                if answer.status_code != 200:
                    raise StackNotReady(f"fake X refused the rate limits: {answer.text[:200]}")
        self.service = self._build_service()
        self.processor_app = StackControlApp(
            self.service.app,
            admin_token=self.admin_token,
            info=self.info,
            sample=self.sample,
            add_subscribers=self.add_subscribers,
        )
        self.to_processor.target = self.processor_app
        processor_url = await self._start_processor(self.service)
        self._endpoints = Endpoints(
            x_url,
            sms_url,
            processor_url,
            self.admin_token,
            opts.operator_handle,
            transports=self._transports(),
        )
        await self._register_webhook()
        _log.info("stack up (%s): X %s, SMS %s, processor %s", self.mode, x_url, sms_url, processor_url)
        return self

    def _build_service(self) -> Service:
        opts = self.options
        assert self.operator is not None
        limit_user, limit_app = (100, 10_000) if opts.tweet_budget else (0, 0)
        window_user, window_app, dm_limit = 900.0, 86_400.0, 1_440
        if opts.tweet_limits is not None:
            limit_user, window_user, limit_app, window_app = opts.tweet_limits
            dm_limit = 0
        x_base = self._endpoints_x()
        config = ServiceConfig(
            dsn=opts.dsn,
            operator_handle=opts.operator_handle,
            operator_user_id=self.operator.id,
            x_user_token=self.operator.token,
            x_app_token=self.app_token,
            x_base_url=x_base[0],
            x_consumer_secret=self.consumer_secret,
            twilio_account_sid=DEFAULT_ACCOUNT_SID,
            twilio_auth_token=DEFAULT_AUTH_TOKEN,
            twilio_base_url=x_base[1],
            twilio_from="" if opts.sms_service_sid else opts.sms_from,
            twilio_messaging_service_sid=opts.sms_service_sid,
            twilio_validity_period=opts.sms_validity_s,
            smpp_url=self.smpp_url(),
            smpp_source=opts.sms_from,
            smpp_binds=opts.smpp_binds,
            smpp_window=opts.smpp_window,
            smpp_throughput=opts.smpp_throughput,
            dm_poll_interval_s=opts.dm_poll_interval_s,
            mentions_page_size=opts.page_size,
            public_base_url=self._public_base_url(),
            ingestion=opts.ingestion,
            poll_interval_s=opts.poll_interval_s,
            workers=opts.workers,
            admin_token=self.admin_token,
            web_secret=secrets.token_hex(16),
            transport=opts.x_transport,
            idle_wait_s=0.02,
            x_user_tweet_limit=limit_user,
            x_user_tweet_window_s=window_user,
            x_app_tweet_limit=limit_app,
            x_app_tweet_window_s=window_app,
            x_dm_limit=dm_limit,
            web_rate_limit=opts.web_rate_limit,
        )
        x_http, sms_http = self._service_clients()
        return build_service(
            config,
            x_http=x_http,
            sms_http=sms_http,
            clock=self.clock,
            epoch=self.x_backend.clock.time,
            settings=Settings(
                operator_handle=opts.operator_handle,
                policy=OtpPolicy(ttl=timedelta(seconds=opts.otp_ttl_s)),
            ),
            subscribers=self.population.subscribers,
            catalog=catalog_in_all_circles() if opts.catalog_all_circles else None,
        )

    def _endpoints_x(self) -> tuple[str, str]:
        raise NotImplementedError

    def smpp_url(self) -> str:
        """``smpp://...`` of the fake's SMSC when the stack sends over SMPP, else empty."""
        smpp = self.sms_app.smpp if self.sms_app is not None else None
        if smpp is None:
            return ""
        return f"smpp://{SMPP_SYSTEM_ID}:{SMPP_PASSWORD}@127.0.0.1:{smpp.port}"

    @property
    def delivery_concurrency(self) -> int:
        """Fake X's webhook deliveries in flight at once (its default unless they carry a delay)."""
        return 16 if self.options.webhook_latency is None else WEBHOOK_DELAY_CONCURRENCY

    async def _register_webhook(self) -> None:
        assert self.service is not None and self.service.x is not None
        if self.options.ingestion == "poll":
            return
        hook = await self.service.x.create_webhook(self.service.config.webhook_url)
        if not hook.valid:
            raise StackNotReady(f"fake X's CRC check of {hook.url} failed")
        if not await self.service.x.subscribe(hook.id):
            raise StackNotReady("fake X did not subscribe the operator to the webhook")
        self.webhook_id = hook.id

    async def _quiesce(self) -> None:
        """Before stopping: let fake X deliver what it holds. The stop order is then fake SMS (its
        status callbacks flushed to a running processor), the processor, fake X: no webhook or
        callback reaches the processor while it closes its connections."""
        if self.x_app is not None:
            with contextlib.suppress(Exception):
                await self.x_app.dispatcher.drain(5.0)

    async def stop(self) -> None:
        await self._stop_all()
        self._endpoints = None

    async def __aenter__(self) -> Stack:
        try:
            return await self.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await self._stop_all()
            raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # the /_stack/ routes ----------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        opts = self.options
        return {
            "mode": self.mode,
            "ingestion": opts.ingestion,
            "poll_interval_s": opts.poll_interval_s,
            "clock": "processor follows fake X",
            "operator": {
                "handle": opts.operator_handle,
                "user_id": self.operator.id if self.operator else None,
            },
            "webhook_id": self.webhook_id,
            "sms_time_scale": opts.sms_time_scale,
            "x_rate_limits": opts.x_rate_limits,
            "tweet_budget": opts.tweet_budget,
            "population": len(self.population.subscribers),
            "dsn": opts.dsn if "@" not in opts.dsn else opts.dsn.split("@")[-1],
        }

    def sample(self, circle: str | None, limit: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for s in self.population.subscribers:
            if len(found) >= limit:
                break
            if circle is None or s.circle == circle:
                found.append(
                    {
                        "msisdn": s.msisdn,
                        "circle": s.circle,
                        "balance_paise": s.balance_paise,
                        "active": s.active,
                        "prepaid": s.prepaid,
                        "name": s.name,
                    }
                )
        return found

    async def add_subscribers(self, subscribers: Sequence[Subscriber]) -> None:
        assert self.service is not None and self.service.admin is not None
        entries = list(subscribers)
        await self.service.admin.call(lambda c: c.store.add_subscribers(entries))
        self.sms_backend.register_handsets({s.msisdn: s.circle for s in entries})
        self._extra_subscribers.extend(entries)
