"""The SMS port the outbox dispatcher, the gateway lookups and the reconciler send through.

Two adapters implement it: :class:`~reference.clients.twilio_sms.TwilioSmsClient` (Twilio's REST
API) and :class:`~reference.clients.smpp_sms.SmppSmsClient` (SMPP 3.4 to an operator's SMSC).
"""

from __future__ import annotations

from typing import Protocol

from reference.clients.twilio_sms import SentSms

__all__ = ["SmsGateway"]


class SmsGateway(Protocol):
    """Send an SMS, read one back by its gateway id, find the ones a send of unknown outcome made."""

    async def send_sms(self, to: str, body: str, *, validity_period: int | None = None) -> SentSms:
        """Hand one message to the gateway; its id there is ``sid``."""
        ...

    async def fetch_message(self, sid: str) -> SentSms:
        """The message's current status (Twilio's words) and error code."""
        ...

    async def find_messages(self, to: str, body: str) -> list[SentSms]:
        """Messages to ``to`` with text ``body`` the gateway has, newest first."""
        ...

