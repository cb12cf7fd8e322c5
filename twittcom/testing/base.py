"""What :func:`~twittcom.testing.mock_x` and :func:`~twittcom.testing.mock_twilio` share: a fake
built fresh on entry, mounted on its real hosts in the interceptor, usable as a context manager
(``with`` / ``async with``) and as a decorator of sync and async functions (each call gets a fresh
fake, as with moto's ``@mock_aws``).
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from twittcom.testing.calllog import LOG, Call
from twittcom.testing.intercept import INTERCEPTOR, Mount, OtherHosts, serve
from twittcom.testing.loop import FakeLoop, shared_loop

__all__ = ["FakeControlError", "FakeMock", "active"]

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound="FakeMock")

_ACTIVE: dict[type[FakeMock], list[FakeMock]] = {}


class FakeControlError(RuntimeError):
    """A ``/_fake/`` control call the fake answered with an error status."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"the fake answered {status}: {body}")
        self.status = status
        self.body = body


def active(kind: type[M]) -> M:
    """The innermost active fake of ``kind`` (for decorated tests: ``active(FakeX)``)."""
    stack = _ACTIVE.get(kind)
    if not stack:
        raise LookupError(f"no {kind.__name__} is active")
    return cast(M, stack[-1])


class FakeMock:
    """Base of the fakes' handles; subclasses build and start their app."""

    #: name shown in the call log
    name = "fake"
    #: the real hosts this fake answers for
    hosts: tuple[str, ...] = ()
    #: the base URL control calls are addressed to
    control_base = ""

    def __init__(self, *, other_hosts: OtherHosts = "fail", **options: Any) -> None:
        if other_hosts not in ("fail", "pass"):
            raise ValueError("other_hosts must be 'fail' or 'pass'")
        self.other_hosts: OtherHosts = other_hosts
        self.options = options
        self._mounts: list[tuple[tuple[str, ...], Mount]] = []
        self._published: list[FakeMock] = []
        self._loop: FakeLoop | None = None
        self._mark = 0
        self.app: Any = None

    # to be provided by subclasses ----------------------------------------------------------------
    def _build(self) -> Any:
        raise NotImplementedError

    async def _start(self) -> None:
        """Start the app's background tasks (on the fakes' loop)."""

    async def _stop(self) -> None:
        """Stop them (on the fakes' loop)."""

    # lifecycle ----------------------------------------------------------------------------------
    @property
    def loop(self) -> FakeLoop:
        if self._loop is None:
            raise RuntimeError(f"{type(self).__name__} is not active (use it in a with block)")
        return self._loop

    def _activate(self) -> None:
        self._loop = shared_loop()
        self._mark = LOG.mark()
        self.app = self._build()

    def _mount_self(self) -> None:
        assert self._loop is not None
        INTERCEPTOR.activate(self, self.other_hosts)
        self.mount(self.hosts, self.app, name=self.name)
        self._publish(self)

    def _publish(self, fake: FakeMock) -> None:
        """Make ``fake`` what :func:`active` returns for its type until this handle exits."""
        _ACTIVE.setdefault(type(fake), []).append(fake)
        self._published.append(fake)

    def _unmount_all(self) -> None:
        for fake in self._published:
            stack = _ACTIVE.get(type(fake), [])
            if fake in stack:
                stack.remove(fake)
        self._published.clear()
        for hosts, mount in reversed(self._mounts):
            INTERCEPTOR.unmount(hosts, mount)
        self._mounts.clear()
        INTERCEPTOR.deactivate(self)

    def __enter__(self: M) -> M:
        self._activate()
        self.loop.run(self._start())
        self._mount_self()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._unmount_all()
        self.loop.run(self._stop())

    async def __aenter__(self: M) -> M:
        self._activate()
        await self.loop.arun(self._start())
        self._mount_self()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._unmount_all()
        await self.loop.arun(self._stop())

    def fresh(self: M) -> M:
        """A new, inactive handle with the same options."""
        return type(self)(other_hosts=self.other_hosts, **self.options)

    def __call__(self, func: F) -> F:
        """Decorate ``func`` (sync or async): each call runs inside a fresh fake."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with self.fresh():
                    return await func(*args, **kwargs)

            return cast(F, run_async)

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self.fresh():
                return func(*args, **kwargs)

        return cast(F, run)

    # what tests use --------------------------------------------------------------------------------
    def mount(self, hosts: str | Iterable[str], app: Any, *, name: str | None = None) -> None:
        """Serve ``hosts`` from the ASGI ``app`` (on the fakes' loop) until this fake exits: the
        test's clients and this fake's webhooks or callbacks reach it in-process."""
        host_list = (hosts,) if isinstance(hosts, str) else tuple(hosts)
        mount = Mount(name or host_list[0], app, self.loop)
        INTERCEPTOR.mount(host_list, mount)
        self._mounts.append((host_list, mount))

    def _control_app(self) -> Any:
        return self.app

    def control(
        self, method: str, path: str, json_body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        """Call the fake's ``/_fake/`` control API (or any route) in-process; the decoded JSON."""
        raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if json_body is not None:
            raw.append((b"content-type", b"application/json"))
        body = json.dumps(json_body).encode() if json_body is not None else b""
        mount = Mount(self.name, self._control_app(), self.loop)
        status, _, content = self.loop.run(serve(mount, method, self.control_base + path, raw, body))
        data = json.loads(content) if content else None
        if status >= 400:
            raise FakeControlError(status, data)
        return data

    def call_on_loop(self, func: Callable[[], Any]) -> Any:
        """Run ``func()`` on the fakes' loop thread (safe changes to ``backend`` between requests)."""

        async def call() -> Any:
            return func()

        return self.loop.run(call())

    @property
    def calls(self) -> list[Call]:
        """Every exchange with this fake's hosts (both directions) since it was entered."""
        hosts = set(self.hosts)
        names = {self.name}
        return [c for c in LOG.since(self._mark) if c.target in names or _url_host(c.url) in hosts]


def _url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
