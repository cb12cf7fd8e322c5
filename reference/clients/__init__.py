"""The processor's outbound clients (X API v2, Twilio, SMPP 3.4) and inbound request signatures.

Generic building blocks for the outbox dispatcher, the pollers and the webhook endpoints; they
import nothing else from ``reference``. See each module: ``transport`` (what runs under httpx),
``x_api`` / ``x_models``, ``twilio_sms``, ``smpp_sms`` / ``smpp_session`` (behind the
``sms_port``), ``retry``, ``signatures`` and ``errors``.
"""

from __future__ import annotations

from reference.clients.errors import (
    ClientError,
    SmppError,
    SmppOutcomeUnknown,
    SmppThrottled,
    SmppUnavailable,
    TwilioError,
    TwilioInvalidNumber,
    TwilioQueueFull,
    TwilioServiceUnavailable,
    TwilioThrottled,
    XApiError,
    XBadRequest,
    XDuplicateContent,
    XForbidden,
    XNotFound,
    XRateLimited,
    XServiceUnavailable,
    XUnauthorized,
    XUsageCapped,
)
from reference.clients.retry import (
    Retrier,
    RetryAttempt,
    RetryPolicy,
    retry_all_transport_errors,
    retry_safe_errors,
)
from reference.clients.signatures import (
    twilio_signature,
    verify_twilio_signature,
    verify_x_signature,
    x_crc_response,
    x_crc_response_token,
    x_signature,
)
from reference.clients.smpp_sms import SmppSmsClient
from reference.clients.sms_port import SmsGateway
from reference.clients.transport import AiohttpTransport, ApiAsyncClient, make_async_client, make_transport
from reference.clients.twilio_sms import SentSms, TwilioSmsClient
from reference.clients.x_api import XApiClient
from reference.clients.x_models import (
    CreatedTweet,
    DmEvent,
    DmEventsPage,
    MentionsPage,
    RateLimitState,
    SentDm,
    Tweet,
    User,
    Webhook,
)

__all__ = [
    "AiohttpTransport",
    "ApiAsyncClient",
    "ClientError",
    "CreatedTweet",
    "DmEvent",
    "DmEventsPage",
    "MentionsPage",
    "RateLimitState",
    "Retrier",
    "RetryAttempt",
    "RetryPolicy",
    "SentDm",
    "SentSms",
    "SmppError",
    "SmppOutcomeUnknown",
    "SmppSmsClient",
    "SmppThrottled",
    "SmppUnavailable",
    "SmsGateway",
    "Tweet",
    "TwilioError",
    "TwilioInvalidNumber",
    "TwilioQueueFull",
    "TwilioServiceUnavailable",
    "TwilioSmsClient",
    "TwilioThrottled",
    "User",
    "Webhook",
    "XApiClient",
    "XApiError",
    "XBadRequest",
    "XDuplicateContent",
    "XForbidden",
    "XNotFound",
    "XRateLimited",
    "XServiceUnavailable",
    "XUnauthorized",
    "XUsageCapped",
    "make_async_client",
    "make_transport",
    "retry_all_transport_errors",
    "retry_safe_errors",
    "twilio_signature",
    "verify_twilio_signature",
    "verify_x_signature",
    "x_crc_response",
    "x_crc_response_token",
    "x_signature",
]
