"""SMPP 3.4 PDUs on the wire, through :mod:`smpplib`'s PDU classes (a maintained codec from PyPI).

:func:`encode` builds one PDU, :func:`decode` parses one frame and checks what smpplib leaves
unchecked (it parses a truncated body into ``None`` fields): a frame that is not a well-formed
PDU raises :class:`MalformedPdu` carrying the ``generic_nack`` status to answer it with.
:func:`message_text` turns ``short_message`` / ``message_payload`` into text for data_coding 0
(the GSM 03.38 default alphabet, one septet per octet, as SMPP carries it), 3 (Latin-1) and 8
(UCS-2), splitting off a user data header (UDH) when ``esm_class`` has UDHI set.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from smpplib import command_codes, smpp
from smpplib.gsm import GSM_CHARACTER_TABLE

__all__ = [
    "ESME_RBINDFAIL",
    "ESME_RINVBNDSTS",
    "ESME_RINVCMDID",
    "ESME_RINVCMDLEN",
    "ESME_RINVDSTADR",
    "ESME_RINVMSGID",
    "ESME_RINVMSGLEN",
    "ESME_RALYBND",
    "ESME_RMSGQFUL",
    "ESME_ROK",
    "ESME_RSUBMITFAIL",
    "ESME_RSYSERR",
    "ESME_RTHROTTLED",
    "ESME_RX_T_APPN",
    "MAX_PDU_BYTES",
    "Concat",
    "MalformedPdu",
    "decode",
    "encode",
    "message_text",
]

ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RINVMSGID = 0x0C
ESME_RBINDFAIL = 0x0D
ESME_RMSGQFUL = 0x14
ESME_RSUBMITFAIL = 0x45
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
MAX_PDU_BYTES = 65_536
UDHI = 0x40

#: mandatory fields smpplib leaves ``None`` when the body is cut short, per command
_REQUIRED: dict[str, tuple[str, ...]] = {
    "bind_transmitter": ("system_id", "password", "interface_version"),
    "bind_receiver": ("system_id", "password", "interface_version"),
    "bind_transceiver": ("system_id", "password", "interface_version"),
    "submit_sm": ("destination_addr", "esm_class", "registered_delivery", "data_coding", "short_message"),
    "query_sm": ("message_id", "source_addr"),
}


class MalformedPdu(Exception):
    """A frame that is not a valid PDU; ``status`` is the generic_nack's command_status."""

    def __init__(self, status: int, sequence: int, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.sequence = sequence


class _NoSequence:
    """smpplib's PDUs ask their client for sequence numbers; the session sets its own."""

    sequence = 0

    def next_sequence(self) -> int:
        return 0


_CLIENT = _NoSequence()


def encode(command: str, sequence: int, status: int = ESME_ROK, **fields: Any) -> bytes:
    """One PDU as bytes (``fields`` by their SMPP 3.4 names; strings as ``str``)."""
    pdu = smpp.make_pdu(command, client=_CLIENT, **fields)
    pdu.sequence = sequence
    pdu.status = status
    data: bytes = pdu.generate()
    return data


def decode(frame: bytes) -> Any:
    """Parse one whole frame (header included) into smpplib's PDU object, or raise MalformedPdu."""
    if len(frame) < 16:
        raise MalformedPdu(ESME_RINVCMDLEN, 0, "a PDU is at least 16 octets")
    length, command_id, _, sequence = struct.unpack(">LLLL", frame[:16])
    if length != len(frame):
        raise MalformedPdu(ESME_RINVCMDLEN, sequence, "command_length does not match the frame")
    try:
        name = command_codes.get_command_name(command_id)
    except Exception:
        raise MalformedPdu(ESME_RINVCMDID, sequence, f"unknown command_id 0x{command_id:08x}") from None
    try:
        pdu = smpp.parse_pdu(frame, client=_CLIENT, allow_unknown_opt_params=True)
    except Exception as exc:  # smpplib raises struct, index and its own errors on bad bodies
        status = ESME_RINVCMDID if "command" in str(exc).lower() else ESME_RINVCMDLEN
        raise MalformedPdu(status, sequence, f"{name}: {exc}") from None
    for field in _REQUIRED.get(name, ()):
        if getattr(pdu, field, None) is None:
            raise MalformedPdu(ESME_RINVCMDLEN, sequence, f"{name}: the body ends before {field}")
    if name == "submit_sm" and len(pdu.short_message) != (pdu.sm_length or 0):
        raise MalformedPdu(ESME_RINVCMDLEN, sequence, "submit_sm: sm_length does not match short_message")
    return pdu


@dataclass(frozen=True, slots=True)
class Concat:
    """One part of a concatenated message (from the UDH's IE 0x00 or 0x08)."""

    ref: int
    total: int
    seq: int


def _split_udh(data: bytes) -> tuple[Concat | None, bytes]:
    """(concatenation info, user data) of a short_message that starts with a UDH."""
    if not data:
        raise ValueError("UDHI set on an empty short_message")
    udh_len = data[0]
    if udh_len + 1 > len(data):
        raise ValueError("the UDH is longer than the short_message")
    udh, rest = data[1 : udh_len + 1], data[udh_len + 1 :]
    concat, pos = None, 0
    while pos + 2 <= len(udh):
        iei, ie_len = udh[pos], udh[pos + 1]
        value = udh[pos + 2 : pos + 2 + ie_len]
        if iei == 0x00 and ie_len == 3:
            concat = Concat(value[0], value[1], value[2])
        elif iei == 0x08 and ie_len == 4:
            concat = Concat((value[0] << 8) | value[1], value[2], value[3])
        pos += 2 + ie_len
    return concat, rest


def gsm_decode(data: bytes) -> str:
    """The GSM 03.38 default alphabet, one septet per octet, 0x1B escaping the extension table."""
    out, escape = [], False
    for octet in data:
        if octet > 0x7F:
            raise ValueError("an unpacked GSM-7 octet is at most 0x7f")
        if escape:
            char = GSM_CHARACTER_TABLE[0x80 + octet]
            out.append(" " if char == "`" else char)
            escape = False
        elif octet == 0x1B:
            escape = True
        else:
            out.append(GSM_CHARACTER_TABLE[octet])
    return "".join(out)


def decode_text(data: bytes, data_coding: int) -> str:
    """User data bytes -> text; ValueError for a coding this SMSC does not take."""
    if data_coding in (0, 1):
        return gsm_decode(data)
    if data_coding == 3:
        return data.decode("latin-1")
    if data_coding == 8:
        if len(data) % 2:
            raise ValueError("UCS-2 user data has an odd number of octets")
        return data.decode("utf-16-be")
    raise ValueError(f"data_coding {data_coding} is not supported (0, 1, 3 and 8 are)")


def message_text(pdu: Any) -> tuple[bytes, Concat | None]:
    """(user data bytes, concatenation part) of a submit_sm: message_payload when present
    (short_message must then be empty), else short_message with its UDH split off."""
    payload = getattr(pdu, "message_payload", None)
    short = pdu.short_message or b""
    if payload:
        if short:
            raise ValueError("message_payload and short_message are both set")
        data = bytes(payload)
    else:
        data = bytes(short)
    concat = None
    if pdu.esm_class & UDHI:
        concat, data = _split_udh(data)
    sar_total = getattr(pdu, "sar_total_segments", None)
    if concat is None and sar_total:  # the SAR TLVs carry the same information without a UDH
        concat = Concat(int(pdu.sar_msg_ref_num or 0), int(sar_total), int(pdu.sar_segment_seqnum or 0))
    if concat is not None and not 1 <= concat.seq <= concat.total:
        raise ValueError("concatenation part number out of range")
    return data, concat
