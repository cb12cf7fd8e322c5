"""``SmppSmsClient``: sends SMS over SMPP 3.4 to an operator's SMSC, behind the same port as
:class:`~reference.clients.twilio_sms.TwilioSmsClient` (``send_sms``, ``fetch_message``,
``find_messages``), selected by a URL ``smpp://system_id:password@host:port``.

* ``binds`` transceiver sessions, each with a window of ``window`` unanswered submit_sm; sends go
  round robin over the bound ones. A session that drops is re-bound with exponential backoff
  (0.5 s doubling to 30 s, full jitter); while none is bound a send fails with
  :class:`~reference.clients.errors.SmppUnavailable` at once (nothing written: safe to retry).
* ``throughput`` (submit_sm per second over all binds, 0: no cap) paces sends on this side; the
  SMSC's own ESME_RTHROTTLED (0x58) and ESME_RMSGQFUL (0x14) raise
  :class:`~reference.clients.errors.SmppThrottled` with ``retry_after`` 1 s: the dispatcher
  tries again later, as for Twilio's 20429.
* Text in the GSM-7 default alphabet goes as data_coding 0, anything else as UCS-2 (8); a text
  longer than one segment goes whole in ``message_payload`` (one submit_sm, one message id).
  ``registered_delivery`` is 1: every final outcome comes back as a deliver_sm receipt, handed to
  ``on_status(message_id, status, error)`` with Twilio's status words (DELIVRD -> delivered,
  UNDELIV/EXPIRED/UNKNOWN -> undelivered, REJECTD/DELETED -> failed), then acknowledged.
* Unknown outcome: a submit_sm written whose submit_sm_resp never came (timeout, connection lost)
  raises :class:`~reference.clients.errors.SmppOutcomeUnknown`: the SMSC may have the message
  under an id the processor never learnt. SMPP has no message list to search, so the lookup
  before a resend (``find_messages``) uses the receipts: a receipt for an id this process was
  never told is kept (bounded) by recipient and the receipt's ``text:`` (the first 20
  characters), and a row whose recipient and text match adopts it. No receipt by the time of the
  lookup (``unknown_settle_s`` later) means the row is sent again: at least once to the gateway;
  a second copy reaches the customer only when the SMSC took the first and its receipt is later
  than the settle time (or the process restarted and the SMSC delivered the receipt elsewhere).
* ``fetch_message`` is query_sm (the reconciler's status read).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from reference.clients.errors import SmppError, SmppThrottled, SmppUnavailable
from reference.clients.smpp_session import SmppSession
from reference.clients.twilio_sms import SentSms

__all__ = ["SmppSmsClient", "SmppUrl", "parse_smpp_url", "receipt_status", "relative_time"]

_log = logging.getLogger(__name__)
_GSM7_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_CODES = {char: code for code, char in enumerate(_GSM7_TABLE) if char != "\x1b"}
_EXT_CODES = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E,
              "|": 0x40, "€": 0x65}  # fmt: skip
_STATUS = {"DELIVRD": "delivered", "UNDELIV": "undelivered", "EXPIRED": "undelivered",
           "UNKNOWN": "undelivered", "REJECTD": "failed", "DELETED": "failed", "ACCEPTD": "sent",
           "ENROUTE": "sent"}  # fmt: skip
_STATES = {1: "sent", 2: "delivered", 3: "undelivered", 4: "failed", 5: "undelivered", 6: "sent",
           7: "undelivered", 8: "failed"}  # fmt: skip
_FIELD = re.compile(r"(\w+(?: date)?):(\S*)")
_THROTTLING = (0x58, 0x14)
_MAX_ORPHANS = 10_000
_MAX_KNOWN = 100_000


class SmppUrl:
    """The parts of ``smpp://system_id:password@host:port``."""

    def __init__(self, host: str, port: int, system_id: str, password: str) -> None:
        self.host, self.port, self.system_id, self.password = host, port, system_id, password


def parse_smpp_url(url: str) -> SmppUrl:
    parts = urlsplit(url)
    if parts.scheme != "smpp" or not parts.hostname or not parts.port or not parts.username:
        raise ValueError(f"an SMPP URL is smpp://system_id:password@host:port, got {parts.scheme}://...")
    return SmppUrl(parts.hostname, parts.port, unquote(parts.username), unquote(parts.password or ""))


def receipt_status(text: str) -> tuple[str, str, str | None]:
    """(message id, Twilio status word, error or None) of a receipt's Appendix B text."""
    fields = dict(_FIELD.findall(text))
    status = _STATUS.get(fields.get("stat", "").upper(), "undelivered")
    err = fields.get("err", "000")
    return fields.get("id", ""), status, None if status == "delivered" or err in ("", "000") else err


def _encode_text(body: str) -> tuple[bytes, int]:
    """GSM-7 (one septet per octet, 0x1B before the extension table) when every character has a
    code there, else UCS-2."""
    if body.isascii() and body.isalnum():
        return body.encode("ascii"), 0  # letters and digits are the same codes in both
    out = bytearray()
    for char in body:
        code = _GSM7_CODES.get(char)
        if code is not None:
            out.append(code)
        elif char in _EXT_CODES:
            out += bytes((0x1B, _EXT_CODES[char]))
        else:
            return body.encode("utf-16-be"), 8
    return bytes(out), 0


class SmppSmsClient:
    """Async SMPP sender with the SMS port of the Twilio client.

    Arguments:
        url: ``smpp://system_id:password@host:port``.
        source: the source address (the sender; digits: international, else alphanumeric).
        binds, window, throughput: sessions, unanswered submit_sm per session, submit_sm/s cap.
        on_status: ``async (message_id, status, error) -> None`` storing a receipt's outcome (a
            raise makes the SMSC send the receipt again).
    """

    def __init__(
        self,
        url: str,
        *,
        source: str,
        binds: int = 1,
        window: int = 10,
        throughput: float = 0.0,
        on_status: Callable[[str, str, str | None], Awaitable[None]] | None = None,
        response_timeout: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        if binds < 1 or window < 1 or throughput < 0:
            raise ValueError("binds and window must be at least 1, throughput >= 0")
        self.target = parse_smpp_url(url)
        self.source = source.lstrip("+")
        self.binds, self.window, self.throughput = binds, window, throughput
        self.on_status = on_status
        self.response_timeout = response_timeout
        self.rng = rng or random.Random()
        self.sessions: list[SmppSession | None] = [None] * binds
        self._tasks: list[asyncio.Task[None]] = []
        self._turn = 0
        self._next_slot = 0.0
        self._pace = asyncio.Lock()
        self._known: OrderedDict[str, None] = OrderedDict()  # ids this process learnt from a submit_sm_resp
        self._orphans: OrderedDict[str, tuple[str, str]] = OrderedDict()  # id -> (to digits, text[:20])
        self.reconnects = 0
        self._ready = asyncio.Event()

    # ---- life cycle ---------------------------------------------------------------------------
    async def start(self, wait_s: float = 5.0) -> None:
        """Start the bind loops; wait up to ``wait_s`` for a first bind (sends fail fast till then)."""
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._keep_bound(i), name=f"smpp-bind-{i}")
                           for i in range(self.binds)]  # fmt: skip
        try:
            await asyncio.wait_for(self._ready.wait(), wait_s)
        except TimeoutError:
            _log.warning("no SMPP bind to %s:%d yet", self.target.host, self.target.port)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()
        for session in self.sessions:
            if session is not None:
                await session.close()
        self.sessions = [None] * self.binds

    @property
    def bound(self) -> int:
        return sum(1 for s in self.sessions if s is not None and s.bound)

    async def _keep_bound(self, index: int) -> None:
        failures = 0
        while True:
            target = self.target
            session = SmppSession(target.host, target.port, target.system_id, target.password,
                                  window=self.window, on_deliver=self._on_deliver,
                                  response_timeout=self.response_timeout)  # fmt: skip
            try:
                await session.open()
            except (OSError, TimeoutError, SmppError) as exc:
                failures += 1
                delay = self.rng.uniform(0, min(30.0, 0.5 * 2 ** min(failures, 10)))
                level = logging.WARNING if failures % 10 == 1 else logging.DEBUG  # not every retry
                _log.log(level, "SMPP bind %d to %s:%d failed %d times (%s); again in %.1f s",
                         index, target.host, target.port, failures, exc, delay)  # fmt: skip
                await session.close()
                await asyncio.sleep(delay)
                continue
            failures = 0
            self.sessions[index] = session
            self._ready.set()
            await session.closed.wait()
            self.sessions[index] = None
            self.reconnects += 1
            await asyncio.sleep(self.rng.uniform(0, 0.5))

    def _session(self) -> SmppSession:
        for _ in range(self.binds):
            self._turn = (self._turn + 1) % self.binds
            session = self.sessions[self._turn]
            if session is not None and session.bound:
                return session
        raise SmppUnavailable(0, f"no SMPP session bound to {self.target.host}:{self.target.port}")

    async def _paced(self) -> None:
        if self.throughput <= 0:
            return
        async with self._pace:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self.throughput
        if slot > now:
            await asyncio.sleep(slot - now)

    # ---- the SMS port -------------------------------------------------------------------------
    async def send_sms(self, to: str, body: str, *, validity_period: int | None = None, **_: Any) -> SentSms:
        """submit_sm with registered_delivery; returns the SMSC's message id as ``sid``."""
        await self._paced()
        session = self._session()
        data, coding = _encode_text(body)
        single = len(data) <= (140 if coding == 8 else 160)
        fields: dict[str, Any] = {
            "source_addr_ton": 1 if self.source.isdigit() and len(self.source) > 6 else 5,
            "source_addr_npi": 1 if self.source.isdigit() else 0,
            "source_addr": self.source,
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
            "destination_addr": to.lstrip("+"),
            "registered_delivery": 1,
            "data_coding": coding,
            "esm_class": 0,
        }
        if single:
            fields["short_message"] = data
        else:
            fields["message_payload"] = data
        if validity_period:
            fields["validity_period"] = relative_time(validity_period)
        resp = await session.request("submit_sm", **fields)
        status = int(resp.status)
        if status != 0:
            if status in _THROTTLING:
                raise SmppThrottled(status, "the SMSC throttled the submit_sm", retry_after=1.0)
            raise SmppError(status, "the SMSC refused the submit_sm")
        message_id = _str(resp.message_id)
        self._known[message_id] = None
        if len(self._known) > _MAX_KNOWN:
            self._known.popitem(last=False)
        segments = 1 if single else -(-len(data) // (134 if coding == 8 else 153))
        return SentSms(sid=message_id, status="sent", num_segments=segments, to=to, body=body)

    async def fetch_message(self, sid: str) -> SentSms:
        """query_sm: the message's state as a Twilio status word."""
        session = self._session()
        resp = await session.request("query_sm", message_id=sid, source_addr_ton=5, source_addr_npi=0,
                                     source_addr=self.source)  # fmt: skip
        if int(resp.status) != 0:
            raise SmppError(int(resp.status), f"query_sm for {sid} refused")
        state = int(resp.message_state or 0)
        error = int(resp.error_code or 0)
        status = _STATES.get(state, "sent")
        return SentSms(sid=sid, status=status, num_segments=1,
                       error_code=error or None if status != "delivered" else None)  # fmt: skip

    async def find_messages(self, to: str, body: str, **_: Any) -> list[SentSms]:
        """Message ids of receipts this process was never told the id of, for ``to`` and a text
        starting like ``body`` (newest first). See the module docstring."""
        key = (to.lstrip("+"), _ascii(body[:20]))
        return [SentSms(sid=sid, status="sent", num_segments=1, to=to, body=body)
                for sid, seen in reversed(self._orphans.items()) if seen == key]  # fmt: skip

    async def _on_deliver(self, pdu: Any) -> bool:
        if not int(pdu.esm_class or 0) & 0x04:
            return True  # a mobile-originated message: not this processor's business
        text = _str(pdu.short_message or pdu.message_payload or b"")
        message_id, status, error = receipt_status(text)
        message_id = _str(getattr(pdu, "receipted_message_id", None)) or message_id
        if message_id and message_id not in self._known:
            self._orphans[message_id] = (_str(pdu.source_addr), text.partition("text:")[2][:20])
            if len(self._orphans) > _MAX_ORPHANS:
                self._orphans.popitem(last=False)
        if self.on_status is not None and message_id:
            await self.on_status(message_id, status, error)
        return True


def relative_time(seconds: int) -> str:
    """SMPP relative time ``YYMMDDhhmmss000R`` of a number of seconds (at most 99 days)."""
    days, rest = divmod(min(seconds, 99 * 86_400), 86_400)
    return f"0000{days:02d}{rest // 3600:02d}{rest % 3600 // 60:02d}{rest % 60:02d}000R"


def _ascii(text: str) -> str:
    """What survives of ``text`` in a receipt (sent as ASCII, anything else as '?')."""
    return text.encode("ascii", "replace").decode("ascii")


def _str(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("latin-1") if isinstance(value, bytes) else value
