"""The one DSN parser: which engine a DSN names, and whether it is well formed.

DSNs are one of:

* ``postgresql://[user[:password]@]host[:port]/dbname[?param=value...]`` (``postgres://`` too);
* ``sqlite:///path/to/file.db`` or a plain path;
* ``memory://`` (an in-memory store; gone when the process ends).

:func:`parse_dsn` with ``strict=True`` (what every ``twittcom`` command checks before it starts)
also refuses what is almost certainly a typo: a libpq keyword string, an unknown scheme, a bad
port or database name, and a plain path that does not end in ``.db``, ``.sqlite`` or ``.sqlite3``
unless the file exists already (so ``host=x dbname=y`` never becomes a new SQLite file), or whose
folder is missing. ``strict=False`` (the store factories) only tells the engine apart and opens
any path as SQLite, as the stores always have (``:memory:``, temporary files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from reference.domain.errors import ConfigError

__all__ = ["SQLITE_SUFFIXES", "Dsn", "DsnError", "parse_dsn", "redact_dsn"]

#: file endings a plain path needs (in strict mode) to be taken as a SQLite database
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_LIBPQ_KEYWORDS = re.compile(r"(^|\s)(host|hostaddr|port|dbname|user|password|sslmode)\s*=", re.IGNORECASE)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_DBNAME = re.compile(r"^[A-Za-z0-9_$-]{1,63}$")
_URL_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:?#]*):[^/?#]*@")
_KEY_PASSWORD = re.compile(r"(?P<key>\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&;]*)", re.IGNORECASE)


class DsnError(ConfigError):
    """A DSN this harness cannot open (the message names the option and the fault, never a password)."""


def redact_dsn(dsn: str) -> str:
    """``dsn`` fit to print: the password of ``scheme://user:password@host`` and any
    ``password=...`` (libpq key/value or query parameter) replaced by ``***``."""
    redacted = _URL_PASSWORD.sub(r"\g<head>:***@", dsn)
    return _KEY_PASSWORD.sub(r"\g<key>***", redacted)


def _shown(text: str) -> str:
    return repr(redact_dsn(text))


@dataclass(frozen=True)
class Dsn:
    """A parsed DSN: ``kind`` is postgresql, sqlite or memory; ``text`` is what the store opens;
    ``path`` the SQLite file (``sqlite:///`` removed)."""

    kind: str
    text: str
    host: str = ""
    port: int = 0
    path: str = ""

    def describe(self) -> str:
        """What it names, for messages: ``PostgreSQL at 127.0.0.1:5432`` or ``SQLite file x.db``."""
        if self.kind == "postgresql":
            return f"PostgreSQL at {self.host}:{self.port}"
        return f"SQLite file {self.path}" if self.kind == "sqlite" else "an in-memory store"


def _postgres(text: str, parts: SplitResult, option: str) -> Dsn:
    def bad(why: str) -> DsnError:
        return DsnError(f"{option} {_shown(text)}: {why} (expected postgresql://user@host:port/dbname)")

    if any(c.isspace() for c in text):
        raise bad("a DSN URL has no spaces")
    try:
        port = parts.port or 5432
    except ValueError:
        raise bad("the port is not a number between 0 and 65535") from None
    host = parts.hostname or ""
    if not host:
        raise bad("no host")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise bad("no database name")
    if not _DBNAME.match(dbname):
        raise bad(f"{dbname!r} is not a database name")
    if parts.fragment:
        raise bad("a DSN has no #fragment")
    return Dsn("postgresql", text, host=host, port=port)


def _lenient(text: str) -> Dsn:
    if text.startswith(("postgresql://", "postgres://")):
        return Dsn("postgresql", text)
    if text == "memory://":
        return Dsn("memory", text)
    path = text.removeprefix("sqlite:///") if text.startswith("sqlite:///") else text
    return Dsn("sqlite", text, path=path)


def parse_dsn(text: str, option: str = "--db", *, strict: bool = True) -> Dsn:
    """The engine ``text`` names; strict: also check its syntax and scheme (no I/O but a stat),
    raising :class:`DsnError` with ``option`` in the message."""
    if not strict:
        return _lenient(text)
    stripped = text.strip()
    if not stripped:
        raise DsnError(f"{option} is empty")
    if _LIBPQ_KEYWORDS.search(stripped) and "://" not in stripped:
        raise DsnError(
            f"{option} {_shown(text)} is a libpq keyword string; write it as a URL, "
            "postgresql://user@host:port/dbname"
        )
    scheme = _SCHEME.match(stripped)
    if scheme is not None:
        name = scheme[1].lower()
        if name in ("postgresql", "postgres"):
            return _postgres(stripped, urlsplit(stripped), option)
        if name == "memory":
            if stripped != "memory://":
                raise DsnError(f"{option} {_shown(text)}: the in-memory store is written memory://")
            return Dsn("memory", "memory://")
        if name != "sqlite":
            raise DsnError(
                f"{option} {_shown(text)}: unsupported scheme {name!r} (postgresql://, sqlite:///path.db or memory://)"
            )
        path = Path(stripped.removeprefix("sqlite:///") if stripped.startswith("sqlite:///") else "")
        if not str(path) or str(path) == ".":
            raise DsnError(f"{option} {_shown(text)}: expected sqlite:///path/to/file.db")
    else:
        path = Path(stripped)
        if path.suffix.lower() not in SQLITE_SUFFIXES and not path.is_file():
            raise DsnError(
                f"{option} {_shown(text)} is neither a URL nor a SQLite file name ending in "
                f"{', '.join(SQLITE_SUFFIXES)} (postgresql://user@host:port/dbname, sqlite:///x.db, memory://)"
            )
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise DsnError(f"{option} {_shown(text)} is a folder, not a SQLite file")
    if not folder.is_dir():
        raise DsnError(f"{option} {_shown(text)}: folder {folder} does not exist")
    return Dsn("sqlite", str(path), path=str(path))
