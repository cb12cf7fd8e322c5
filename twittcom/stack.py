"""The whole stack wired together: fake X, fake SMS gateway and the processor service.

Two variants (subclasses, not flags):

* :class:`InProcessStack`: every hop is ``httpx.ASGITransport`` in both directions (processor ->
  fakes through its clients; fake X webhook deliveries and fake SMS status callbacks -> processor),
  no sockets. Used by ``twittcom demo`` and the tests.
* :class:`LoopbackStack`: each app served by uvicorn on a free ``127.0.0.1`` port in this process
  (real HTTP between them). Used by ``twittcom up`` and ``twittcom scenarios``.

Both run the same set-up, over the fakes' control APIs where one exists: create the operator's
account on fake X (user id, token, consumer secret), seed a faker population in the processor's
store (:mod:`reference.population`) and the handsets' circles at fake SMS, start the service,
register its webhook (the CRC is checked) and subscribe the operator. The processor's clock follows
fake X's clock (:class:`~twittcom.stack_control.FollowingClock`). Example::

    async with InProcessStack(StackOptions(population=50)) as stack:
        async with StackClient(stack.endpoints) as client:
            user = await client.create_user("asha")
            await client.tweet(user, "@tatadocomo #reg " + stack.population.subscribers[0].msisdn)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import httpx
import uvicorn

from fake_sms import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_SHORT_CODE,
    FakeSmsApp,
    ScaledClock,
    SmsBackend,
)
from fake_sms import create_app as create_sms_app
from fake_twitter import TwitterBackend
from fake_twitter import create_app as create_x_app
from fake_twitter.app import FakeTwitterApp
from reference.bootstrap import Settings
from reference.clients.transport import make_async_client
from reference.domain.subscribers import Subscriber
from reference.population import Population, build_population
from reference.runtime import Service, ServiceConfig
from twittcom.qa.client import Endpoints, StackClient, StackNotReady, XUser
from twittcom.stack_control import FollowingClock, StackControlApp

__all__ = ["InProcessStack", "LoopbackStack", "Stack", "StackOptions"]

_log = logging.getLogger(__name__)
Ingestion = Literal["webhook", "poll", "both"]


@dataclass(frozen=True)
class StackOptions:
    """How to build a stack.

    ``x_rate_limits`` is fake X's preset (``real``: X's documented table; ``off``) and
    ``tweet_budget`` the processor's own X write budget (X's 100/15 min and 10,000/24 h, or off);
    ``sms_time_scale`` makes carrier seconds pass that many times faster than wall seconds;
    ``circles`` limits the population to those circles (all 22 when empty).
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
    x_transport: Literal["aiohttp", "httpx-aiohttp", "httpx"] = "aiohttp"
    circles: tuple[str, ...] = ()


class _Forward:
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
        if options.circles:
            population = build_population(options.population, seed=options.seed, circles=options.circles)
        else:
            population = build_population(options.population, seed=options.seed)
        self.population: Population = population
        self.x_backend = TwitterBackend(seed=options.seed, rate_limits=options.x_rate_limits)
        self.sms_backend = SmsBackend(clock=ScaledClock(options.sms_time_scale), seed=options.seed)
        self.clock = FollowingClock(self.x_backend.clock.time)
        self.to_processor = _Forward()
        self.x_app: FakeTwitterApp | None = None
        self.sms_app: FakeSmsApp | None = None
        self.service: Service | None = None
        self.processor_app: StackControlApp | None = None
        self.operator: XUser | None = None
        self.consumer_secret = ""
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
            await client.register_handsets({c.msisdn: c.circle for c in self.population.customers})
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
        x_base = self._endpoints_x()
        config = ServiceConfig(
            dsn=opts.dsn,
            operator_handle=opts.operator_handle,
            operator_user_id=self.operator.id,
            x_user_token=self.operator.token,
            x_base_url=x_base[0],
            x_consumer_secret=self.consumer_secret,
            twilio_account_sid=DEFAULT_ACCOUNT_SID,
            twilio_auth_token=DEFAULT_AUTH_TOKEN,
            twilio_base_url=x_base[1],
            twilio_from=DEFAULT_SHORT_CODE,
            public_base_url=self._public_base_url(),
            ingestion=opts.ingestion,
            poll_interval_s=opts.poll_interval_s,
            workers=opts.workers,
            admin_token=self.admin_token,
            web_secret=secrets.token_hex(16),
            transport=opts.x_transport,
            idle_wait_s=0.02,
            x_user_tweet_limit=limit_user,
            x_app_tweet_limit=limit_app,
            web_rate_limit=opts.web_rate_limit,
        )
        x_http, sms_http = self._service_clients()
        return Service(
            config,
            x_http=x_http,
            sms_http=sms_http,
            clock=self.clock,
            epoch=self.x_backend.clock.time,
            settings=Settings(operator_handle=opts.operator_handle),
            subscribers=self.population.subscribers,
        )

    def _endpoints_x(self) -> tuple[str, str]:
        raise NotImplementedError

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


class InProcessStack(Stack):
    """Everything in this event loop, every hop through ``httpx.ASGITransport`` (no sockets)."""

    mode = "in-process"
    X_URL = "https://api.x.com"
    SMS_URL = "https://api.twilio.com"
    PROCESSOR_URL = "http://processor.stack"

    def __init__(self, options: StackOptions | None = None) -> None:
        super().__init__(options)
        self._clients: list[httpx.AsyncClient] = []

    def _client(self, app: Any, base: str) -> httpx.AsyncClient:
        client = make_async_client(base, transport=httpx.ASGITransport(app=app))
        self._clients.append(client)
        return client

    def _transports(self) -> dict[str, httpx.AsyncBaseTransport]:
        out: dict[str, httpx.AsyncBaseTransport] = {}
        if self.x_app is not None:
            out["x"] = httpx.ASGITransport(app=self.x_app)
        if self.sms_app is not None:
            out["sms"] = httpx.ASGITransport(app=self.sms_app)
        if self.processor_app is not None:
            out["processor"] = httpx.ASGITransport(app=self.processor_app)
        return out

    def _endpoints_x(self) -> tuple[str, str]:
        return self.X_URL, self.SMS_URL

    def _public_base_url(self) -> str:
        return self.PROCESSOR_URL

    def _service_clients(self) -> tuple[httpx.AsyncClient | None, httpx.AsyncClient | None]:
        return self._client(self.x_app, self.X_URL), self._client(self.sms_app, self.SMS_URL)

    async def _start_fakes(self) -> tuple[str, str]:
        to_processor = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.to_processor), timeout=30.0)
        callbacks = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.to_processor), timeout=30.0)
        self._clients.extend([to_processor, callbacks])
        self.x_app = create_x_app(self.x_backend, webhook_client=to_processor, retry_delays=(0.2, 0.5, 1.0))
        self.sms_app = create_sms_app(self.sms_backend, callback_client=callbacks)
        self.x_app.dispatcher.ensure_started()
        await self.sms_app.start()
        return self.X_URL, self.SMS_URL

    async def _start_processor(self, service: Service) -> str:
        await service.start()
        return self.PROCESSOR_URL

    async def _stop_all(self) -> None:
        await self._quiesce()
        if self.sms_app is not None:
            await self.sms_app.stop()
        if self.service is not None:
            await self.service.stop()
        if self.x_app is not None:
            await self.x_app.dispatcher.aclose()
        for client in self._clients:
            await client.aclose()
        self._clients.clear()


def _loopback_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to its owner (several run in one loop; ``twittcom up``
    stops them all on Ctrl-C)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _Served:
    """One ASGI app under uvicorn on an already bound loopback socket, as a task of this loop."""

    def __init__(self, name: str, app: Any, sock: socket.socket) -> None:
        self.name = name
        self.sock = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            app, lifespan="on", log_level="warning", access_log=False, timeout_graceful_shutdown=5
        )
        self.server = _Server(config)
        self.task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]), name=f"uvicorn-{self.name}")
        while not self.server.started:
            if self.task.done():
                self.task.result()
                raise StackNotReady(f"{self.name} stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self.task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 15)
        self.task = None
        self.sock.close()


class LoopbackStack(Stack):
    """Each app served by uvicorn on ``127.0.0.1`` (free ports unless given), all in this process.

    ``ports`` = (fake X, fake SMS, processor); 0 picks a free port.
    """

    mode = "loopback"

    def __init__(
        self, options: StackOptions | None = None, *, ports: tuple[int, int, int] = (0, 0, 0)
    ) -> None:
        super().__init__(options)
        self._sockets = [_loopback_socket(port) for port in ports]
        self._served: list[_Served] = []

    def _url(self, index: int) -> str:
        return f"http://127.0.0.1:{self._sockets[index].getsockname()[1]}"

    def _endpoints_x(self) -> tuple[str, str]:
        return self._url(0), self._url(1)

    def _public_base_url(self) -> str:
        return self._url(2)

    async def _start_fakes(self) -> tuple[str, str]:
        self.x_app = create_x_app(self.x_backend)
        self.sms_app = create_sms_app(self.sms_backend)
        for name, app, sock in (
            ("fake-x", self.x_app, self._sockets[0]),
            ("fake-sms", self.sms_app, self._sockets[1]),
        ):
            served = _Served(name, app, sock)
            await served.start()
            self._served.append(served)
        return self._url(0), self._url(1)

    async def _start_processor(self, service: Service) -> str:
        assert self.processor_app is not None
        served = _Served("processor", self.processor_app, self._sockets[2])
        await served.start()
        self._served.append(served)
        return served.url

    async def _stop_all(self) -> None:
        await self._quiesce()
        by_name = {served.name: served for served in self._served}
        for name in ("fake-sms", "processor", "fake-x"):  # see Stack._quiesce
            if name in by_name:
                await by_name.pop(name).stop()
        for served in by_name.values():
            await served.stop()
        self._served.clear()
        for sock in self._sockets:
            sock.close()
