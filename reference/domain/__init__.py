"""The pure domain core: commands, parser, OTP rules, catalog, circles, replies. No I/O."""

from __future__ import annotations

from reference.domain.catalog import Catalog, Pack, load_catalog
from reference.domain.commands import Buy, Inbound, Noise, Register, Verify
from reference.domain.errors import CatalogError, InvalidPhoneNumber, TwittcomError
from reference.domain.outcomes import Outcome, ReplyTweet, SendDm, SendSms
from reference.domain.parser import CommandParser
from reference.domain.phone import mask, normalise_mobile

__all__ = [
    "Buy",
    "Catalog",
    "CatalogError",
    "CommandParser",
    "Inbound",
    "InvalidPhoneNumber",
    "Noise",
    "Outcome",
    "Pack",
    "Register",
    "ReplyTweet",
    "SendDm",
    "SendSms",
    "TwittcomError",
    "Verify",
    "load_catalog",
    "mask",
    "normalise_mobile",
]
