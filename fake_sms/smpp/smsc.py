"""The SMSC's state and behaviour, with no sockets: binds, submit_sm, query_sm and receipts.

:class:`Smsc` sits on the SMS fake's :class:`~fake_sms.models.SmsBackend` (one carrier model, two
protocols): a submit_sm becomes the same :class:`~fake_sms.messages.Message` a Twilio create makes
(``create_message`` with the system's sender), so it shares the sender's throughput and queue
window, the circle's latency, failures and outages, and lands on the same handset. Parts of a
concatenated message (UDH or SAR TLVs) are held until the last one arrives, then the whole text is
one message of that many segments. Each submit_sm gets its own SMSC message id (10 digits, the
customary receipt form); each part gets its own receipt. When a message reaches a final status, a
receipt (deliver_sm, ``esm_class`` 0x04) is queued for the system if ``registered_delivery`` asks
for one; the server hands queued receipts to the system's receiver binds.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import BodyTooLongError, InvalidToError, QueueFullError, TwilioError
from ..messages import Message
from ..models import SmsBackend
from .codec import (
    ESME_RBINDFAIL,
    ESME_RINVBNDSTS,
    ESME_RINVDSTADR,
    ESME_RINVMSGID,
    ESME_RINVMSGLEN,
    ESME_RMSGQFUL,
    ESME_RSUBMITFAIL,
    ESME_RSYSERR,
    ESME_RTHROTTLED,
    Concat,
    decode_text,
    message_text,
)
from .receipts import Receipt, final_state, receipt_for
from .systems import SmppSystem, TokenBucket, systems_from_json

__all__ = ["Bind", "Smsc", "SmppRefused", "Submitted"]

_MAX_PENDING_PARTS = 10_000
_MAX_RECEIPTS = 100_000
# message_state of query_sm for a message not final yet
_ENROUTE, _ACCEPTED = 1, 6


class SmppRefused(Exception):
    """A request the SMSC answers with a non-zero command_status."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status


@dataclass(slots=True, eq=False)
class Bind:
    """One bound session: its system, mode, throughput bucket and unanswered submit_sm."""

    id: int
    system: SmppSystem
    mode: str  # "transmitter", "receiver" or "transceiver"
    bucket: TokenBucket
    outstanding: int = 0

    @property
    def transmits(self) -> bool:
        return self.mode != "receiver"

    @property
    def receives(self) -> bool:
        return self.mode != "transmitter"


@dataclass(slots=True)
class Submitted:
    """One submit_sm the SMSC accepted (a whole message or one part of it)."""

    message_id: str
    system_id: str
    source: str
    destination: str
    registered: int
    submit_us: int
    validity_s: int = 0  # from validity_period (0: the sender's default)
    sid: str | None = None  # the carrier model's message, once every part is in


@dataclass(slots=True)
class _Assembly:
    parts: dict[int, bytes] = field(default_factory=dict)
    ids: dict[int, Submitted] = field(default_factory=dict)


class Smsc:
    """The SMPP side of the SMS fake.

    Arguments:
        backend: the carrier model shared with the Twilio API.
        config: the ``smpp`` table (see :mod:`fake_sms.smpp.systems`).
        monotonic: wall seconds for the throughput caps (injected in tests).
    """

    def __init__(
        self,
        backend: SmsBackend,
        config: dict[str, Any] | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self.monotonic = monotonic
        self.systems = systems_from_json(config)
        self.binds: dict[int, Bind] = {}
        self._bind_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._by_id: OrderedDict[str, Submitted] = OrderedDict()
        self._by_sid: dict[str, list[Submitted]] = {}
        self._assemblies: OrderedDict[tuple[str, str, str, int], _Assembly] = OrderedDict()
        self.receipts: dict[str, deque[Receipt]] = {sid: deque(maxlen=_MAX_RECEIPTS) for sid in self.systems}
        self.counters: dict[str, int] = {}
        self.on_receipt: Callable[[str], None] = lambda system_id: None
        backend.final_listeners.append(self._final)

    def count(self, name: str) -> None:
        self.counters[name] = self.counters.get(name, 0) + 1

    # ---- binds --------------------------------------------------------------------------------
    def bind(self, system_id: str, password: str, mode: str) -> Bind:
        """Authenticate a bind; wrong credentials or too many binds: ESME_RBINDFAIL."""
        system = self.systems.get(system_id)
        if system is None or system.password != password:
            self.count("bind_refused")
            raise SmppRefused(ESME_RBINDFAIL, "unknown system_id or wrong password")
        if sum(1 for b in self.binds.values() if b.system is system) >= system.max_binds:
            self.count("bind_refused")
            raise SmppRefused(ESME_RBINDFAIL, f"{system_id} already has {system.max_binds} binds")
        bind = Bind(next(self._bind_ids), system, mode, TokenBucket(system.bind_tps))
        self.binds[bind.id] = bind
        self.count(f"bind_{mode}")
        return bind

    def unbind(self, bind: Bind) -> None:
        self.binds.pop(bind.id, None)

    def receivers(self, system_id: str) -> list[Bind]:
        return [b for b in self.binds.values() if b.receives and b.system.system_id == system_id]

    # ---- submit_sm ----------------------------------------------------------------------------
    def admit(self, bind: Bind) -> None:
        """Whether a submit_sm may be taken now: bind state, window, then the throughput caps."""
        if not bind.transmits:
            raise SmppRefused(ESME_RINVBNDSTS, "a receiver bind cannot submit")
        system = bind.system
        if bind.outstanding >= system.window:
            self.count("window_full")
            raise SmppRefused(ESME_RMSGQFUL, f"more than {system.window} submit_sm unanswered on this bind")
        now = self.monotonic()
        if not bind.bucket.take(now) or not system.bucket.take(now):
            self.count("throttled")
            raise SmppRefused(ESME_RTHROTTLED, "throughput cap reached")

    def submit(self, bind: Bind, pdu: Any) -> str:
        """Accept one submit_sm (already admitted); returns its message id."""
        system = bind.system
        try:
            data, concat = message_text(pdu)
            text = decode_text(data, int(pdu.data_coding))  # a part must decode on its own too
        except ValueError as exc:
            raise SmppRefused(ESME_RSUBMITFAIL, str(exc)) from None
        destination = _e164(pdu.destination_addr)
        source = _text(pdu.source_addr) or system.source
        record = Submitted(
            f"{next(self._message_ids):010d}",
            system.system_id,
            source,
            destination,
            int(pdu.registered_delivery or 0) & 0x03,
            self.backend.clock.now_us(),
            _validity_s(pdu.validity_period),
        )
        if concat is None or concat.total == 1:
            self._create(system, [record], text)
        else:
            self._add_part(system, record, concat, data, int(pdu.data_coding))
        self._remember(record)
        self.count("submitted")
        return record.message_id

    def _add_part(
        self, system: SmppSystem, record: Submitted, concat: Concat, data: bytes, coding: int
    ) -> None:
        key = (system.system_id, record.source, record.destination, concat.ref)
        assembly = self._assemblies.get(key)
        if assembly is None:
            assembly = self._assemblies[key] = _Assembly()
            while len(self._assemblies) > _MAX_PENDING_PARTS:  # parts whose rest never came
                self._assemblies.popitem(last=False)
                self.count("assemblies_dropped")
        assembly.parts[concat.seq] = data
        assembly.ids[concat.seq] = record
        if len(assembly.parts) < concat.total:
            return
        del self._assemblies[key]
        whole = b"".join(assembly.parts[n] for n in sorted(assembly.parts))
        try:
            text = decode_text(whole, coding)
        except ValueError as exc:
            raise SmppRefused(ESME_RSUBMITFAIL, str(exc)) from None
        self._create(system, [assembly.ids[n] for n in sorted(assembly.ids)], text)

    def _create(self, system: SmppSystem, records: list[Submitted], text: str) -> None:
        backend = self.backend
        account = backend.accounts.get(system.account_sid)
        if account is None:
            raise SmppRefused(ESME_RSYSERR, f"account {system.account_sid} of {system.system_id} is gone")
        params = {"To": records[0].destination, "Body": text}
        params["MessagingServiceSid" if system.source.startswith("MG") else "From"] = system.source
        if records[0].validity_s:
            params["ValidityPeriod"] = str(records[0].validity_s)
        try:
            message = backend.create_message(account, params)
        except QueueFullError:
            self.count("queue_full")
            raise SmppRefused(ESME_RMSGQFUL, "the sender's queue is full") from None
        except InvalidToError:
            raise SmppRefused(ESME_RINVDSTADR, f"{records[0].destination} is not a valid number") from None
        except BodyTooLongError:
            raise SmppRefused(ESME_RINVMSGLEN, "the message is longer than 1600 characters") from None
        except TwilioError as exc:
            raise SmppRefused(ESME_RSUBMITFAIL, exc.message) from None
        for record in records:
            record.sid = message.sid
        self._by_sid[message.sid] = records

    def _remember(self, record: Submitted) -> None:
        self._by_id[record.message_id] = record
        while len(self._by_id) > self.backend.max_messages:
            old = self._by_id.popitem(last=False)[1]
            if old.sid is not None:
                self._by_sid.pop(old.sid, None)

    # ---- query_sm and receipts ----------------------------------------------------------------
    def query(self, message_id: str) -> tuple[str, int, int]:
        """(final_date, message_state, error_code) of a message id (query_sm)."""
        record = self._by_id.get(message_id)
        if record is None:
            raise SmppRefused(ESME_RINVMSGID, f"no message {message_id}")
        if record.sid is None:
            return "", _ACCEPTED, 0
        self.backend.run_due()
        message = self.backend.messages.get(record.sid)
        if message is None or not message.final:
            return "", _ENROUTE, 0
        state, _, error = final_state(message)
        return _smpp_time(self.backend, message.done_us or message.updated_us), state, error

    def _final(self, message: Message) -> None:
        records = self._by_sid.pop(message.sid, None)
        if not records:
            return
        for record in records:
            receipt = receipt_for(self.backend, record.message_id, record.source, record.destination,
                                  record.registered, record.submit_us, message)  # fmt: skip
            if receipt is not None:
                self.receipts[record.system_id].append(receipt)
                self.count("receipts_queued")
        self.on_receipt(records[0].system_id)

    def describe(self) -> dict[str, Any]:
        return {
            "systems": [system.to_json() for system in self.systems.values()],
            "binds": [{"id": b.id, "system_id": b.system.system_id, "mode": b.mode,
                       "outstanding": b.outstanding} for b in self.binds.values()],  # fmt: skip
            "pending_receipts": {name: len(queue) for name, queue in self.receipts.items()},
            "counters": dict(sorted(self.counters.items())),
        }


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _e164(address: bytes | str | None) -> str:
    digits = _text(address).lstrip("+")
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise SmppRefused(ESME_RINVDSTADR, f"destination_addr {digits!r} is not an international number")
    return "+" + digits


def _validity_s(value: bytes | str | None) -> int:
    """Seconds of an SMPP relative time ``YYMMDDhhmmss000R`` within 1..36000 (0: absent, absolute
    or unreadable, so the sender's default applies)."""
    text = _text(value)
    if len(text) != 16 or not text.endswith("R") or not text[:12].isdigit():
        return 0
    yy, mo, dd, hh, mi, ss = (int(text[i : i + 2]) for i in range(0, 12, 2))
    seconds = ((yy * 365 + mo * 30 + dd) * 24 + hh) * 3600 + mi * 60 + ss
    return max(1, min(36_000, seconds)) if seconds else 0


def _smpp_time(backend: SmsBackend, t_us: int) -> str:
    """SMPP absolute time ``YYMMDDhhmmss000+`` (UTC) of carrier microseconds."""
    return backend.dates.datetime(t_us).strftime("%y%m%d%H%M%S") + "000+"
