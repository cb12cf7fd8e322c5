"""``mock_stack()``: the whole stack (fake X, fake SMS, the processor service) in-process on the
fakes' loop, answering for api.x.com, api.twitter.com, api.twilio.com and the processor's URL.

The test talks to it with any client and no sockets: tweepy/xdk/httpx at X's real hosts (what a
subscriber tweets reaches the processor through fake X's signed webhook), twilio at Twilio's, and
httpx or requests at :attr:`StackHandle.url` with :attr:`StackHandle.admin_token` for the
processor's admin API. ``stack.x`` and ``stack.sms`` are the fakes' handles (users, clock,
handsets, faults), ``stack.stack`` the :class:`~twittcom.stack.InProcessStack` itself.
"""

from __future__ import annotations

import contextlib
from typing import Any

from twittcom.stack import InProcessStack, StackOptions
from twittcom.testing.base import FakeMock
from twittcom.testing.fake_sms import TWILIO_HOSTS, FakeSms
from twittcom.testing.fake_x import X_HOSTS, FakeX
from twittcom.testing.intercept import INTERCEPTOR, OtherHosts

__all__ = ["PROCESSOR_HOST", "StackHandle", "mock_stack"]

PROCESSOR_HOST = "processor.stack"
#: a smaller population than the CLI's 200 keeps a fresh stack per test cheap
DEFAULT_POPULATION = 30


def _attach(fake: FakeX | FakeSms, handle: StackHandle, app: Any, backend: Any) -> None:
    """Give a fake's handle the app of a running stack (its control calls, clock and call log)."""
    fake._loop, fake.app, fake._mark = handle.loop, app, handle._mark
    fake.backend = backend


class StackHandle(FakeMock):
    """A fresh in-process stack for a ``with`` block, an ``async with`` block or a decorated call.

    Options are :class:`~twittcom.stack.StackOptions` fields (``population`` defaults to 30 here).
    """

    name = "processor"
    hosts = (PROCESSOR_HOST,)
    control_base = f"http://{PROCESSOR_HOST}"

    def __init__(self, *, other_hosts: OtherHosts = "fail", **options: Any) -> None:
        options.setdefault("population", DEFAULT_POPULATION)
        StackOptions(**options)  # unknown or ill-typed options fail here, before anything starts
        super().__init__(other_hosts=other_hosts, **options)
        self.stack: InProcessStack | None = None
        self.x: FakeX | None = None
        self.sms: FakeSms | None = None

    def _build(self) -> InProcessStack:
        self.stack = InProcessStack(StackOptions(**self.options))
        return self.stack

    async def _start(self) -> None:
        assert self.stack is not None
        try:
            await self.stack.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await self.stack.stop()
            raise

    async def _stop(self) -> None:
        assert self.stack is not None
        await self.stack.stop()

    def _mount_self(self) -> None:
        stack = self.stack
        assert stack is not None and stack.processor_app is not None
        INTERCEPTOR.activate(self, self.other_hosts)
        self.mount(X_HOSTS, stack.x_app, name=FakeX.name)
        self.mount(TWILIO_HOSTS, stack.sms_app, name=FakeSms.name)
        self.mount(self.hosts, stack.processor_app, name=self.name)
        self.x = FakeX(seed=stack.options.seed)
        _attach(self.x, self, stack.x_app, stack.x_backend)
        self.sms = FakeSms(seed=stack.options.seed)
        _attach(self.sms, self, stack.sms_app, stack.sms_backend)
        for fake in (self, self.x, self.sms):
            self._publish(fake)

    @property
    def url(self) -> str:
        """The processor's base URL (reachable in-process only, while the stack runs)."""
        return self.control_base

    @property
    def admin_token(self) -> str:
        """The bearer token of the processor's ``/admin/`` API."""
        assert self.stack is not None
        return self.stack.admin_token

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    @property
    def operator(self) -> dict[str, str]:
        """The operator's X account (``id``, ``username``, ``bearer_token``)."""
        assert self.stack is not None and self.stack.operator is not None
        op = self.stack.operator
        return {"id": op.id, "username": op.username, "bearer_token": op.token}

    def admin(self, path: str) -> Any:
        """``GET`` an admin route of the processor (e.g. ``/admin/handles/asha``), decoded."""
        return self.control("GET", path, headers=self.admin_headers)

    def _control_app(self) -> Any:
        assert self.stack is not None
        return self.stack.processor_app


def mock_stack(**options: Any) -> StackHandle:
    """A fresh whole stack in-process: ``with mock_stack(population=10) as stack:``, ``async with``,
    or ``@mock_stack()``. Other hosts are refused (``other_hosts="pass"`` lets them through)."""
    return StackHandle(**options)
