"""The processor and its settings: what :func:`build_processor` needs to put a :class:`Processor` together.

Pure assembly (domain and service objects only, no adapters): the composition root
(:mod:`reference.bootstrap`) chooses the store and hands it here; the runtime builds one processor
per worker connection through the same function.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from reference.domain.catalog import Catalog, default_catalog_path, load_catalog
from reference.domain.errors import ConfigError
from reference.domain.otp import CodeHasher, OtpPolicy, OtpSource, SystemOtpSource
from reference.domain.parser import CommandParser
from reference.service.events import Events
from reference.service.handlers import HandlerDeps
from reference.service.ports import Clock, SystemClock, UnitOfWork
from reference.service.processor import Processor

__all__ = ["OTP_KEY_ENV", "Settings", "build_processor", "otp_key_from_env"]

OTP_KEY_ENV = "TWITTCOM_OTP_KEY"


def otp_key_from_env() -> bytes:
    """The OTP HMAC key from ``TWITTCOM_OTP_KEY`` (hex), or a fresh random key for this process."""
    value = os.environ.get(OTP_KEY_ENV)
    if not value:
        return secrets.token_bytes(32)
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise ConfigError(f"{OTP_KEY_ENV} must be hex") from exc


@dataclass(frozen=True)
class Settings:
    """Processor configuration."""

    operator_handle: str = "tatadocomo"
    otp_key: bytes = field(default_factory=otp_key_from_env, repr=False)
    policy: OtpPolicy = field(default_factory=OtpPolicy)
    catalog_path: Path = field(default_factory=default_catalog_path)


def build_processor(
    store: UnitOfWork,
    settings: Settings | None = None,
    *,
    catalog: Catalog | None = None,
    clock: Clock | None = None,
    otp_source: OtpSource | None = None,
    events: Events | None = None,
) -> Processor:
    """A processor on ``store`` with the given (or production) collaborators."""
    settings = settings if settings is not None else Settings()
    deps = HandlerDeps(
        catalog=catalog if catalog is not None else load_catalog(settings.catalog_path),
        hasher=CodeHasher(settings.otp_key),
        policy=settings.policy,
        otp_source=otp_source if otp_source is not None else SystemOtpSource(),
    )
    return Processor(
        store,
        deps,
        clock=clock if clock is not None else SystemClock(),
        parser=CommandParser(settings.operator_handle),
        events=events,
    )
