"""The typed exception hierarchy of the reference processor.

::

    TwittcomError
    ├── InvalidPhoneNumber      a mobile number that is not an Indian mobile number
    ├── CatalogError            a pack catalog that fails validation (message names the entry)
    ├── ConfigError             settings that cannot work (empty HMAC key, zero limits, ...)
    └── StorageError            a storage adapter failure the caller may act on
        ├── MigrationError      the database schema is newer than this code or a migration failed
        └── TransientConflict   a retryable conflict (lock timeout, deadlock, serialization failure)
"""

from __future__ import annotations

__all__ = [
    "CatalogError",
    "ConfigError",
    "InvalidPhoneNumber",
    "MigrationError",
    "StorageError",
    "TransientConflict",
    "TwittcomError",
]


class TwittcomError(Exception):
    """Base class of every error raised on purpose by :mod:`reference`."""


class InvalidPhoneNumber(TwittcomError, ValueError):
    """The text is not an Indian mobile number (10 digits starting 6-9, optional +91/91/0 prefix)."""


class CatalogError(TwittcomError, ValueError):
    """The pack catalog is malformed; the message says which entry and why."""


class ConfigError(TwittcomError, ValueError):
    """Settings that cannot work."""


class StorageError(TwittcomError):
    """A storage adapter failure."""


class MigrationError(StorageError):
    """The schema cannot be brought to the version this code needs."""


class TransientConflict(StorageError):
    """A conflict worth retrying: lock timeout, deadlock or serialization failure."""
