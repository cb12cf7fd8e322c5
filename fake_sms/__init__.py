"""A Twilio-compatible SMS gateway fake with a deterministic carrier model (see README.md)."""

from __future__ import annotations

from .app import FakeSmsApp, create_app
from .callbacks import CallbackDispatcher, sign
from .carrier import CarrierProfile, CircleMap, LatencyModel, Outage
from .clock import Clock, ManualClock, ScaledClock
from .exceptions import TwilioError
from .models import SmsBackend
from .segments import num_segments, segment
from .senders import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_LONG_CODE,
    DEFAULT_SERVICE_SID,
    DEFAULT_SHORT_CODE,
)

__all__ = [
    "CallbackDispatcher",
    "CarrierProfile",
    "CircleMap",
    "Clock",
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_LONG_CODE",
    "DEFAULT_SERVICE_SID",
    "DEFAULT_SHORT_CODE",
    "FakeSmsApp",
    "LatencyModel",
    "ManualClock",
    "Outage",
    "ScaledClock",
    "SmsBackend",
    "TwilioError",
    "create_app",
    "num_segments",
    "segment",
    "sign",
]
