"""Shared constants for the outbound-client tests (base URLs and Twilio credentials)."""

from __future__ import annotations

X_BASE = "https://api.x.test"
TWILIO_BASE = "https://api.twilio.test"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "twilio-secret-token"
