"""The SMS fake as an operator's SMSC over SMPP 3.4 (one carrier model, two protocols).

``Smsc`` (state, no sockets) sits on the same :class:`~fake_sms.models.SmsBackend` as the Twilio
API; ``SmppServer`` serves it on its own loopback port. See ``fake_sms/README.md``.
"""

from __future__ import annotations

from .server import SmppServer, SmppSession
from .smsc import Bind, SmppRefused, Smsc
from .systems import DEFAULT_PASSWORD, DEFAULT_SYSTEM_ID, SmppSystem

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_SYSTEM_ID",
    "Bind",
    "SmppRefused",
    "SmppServer",
    "SmppSession",
    "SmppSystem",
    "Smsc",
]
