"""Checks every command runs before it starts work: exit codes, the one DSN parser, ports.

A setup mistake (a DSN with an unknown scheme or bad syntax, a database that does not answer, a
port already taken) stops the command at once with one line naming the fault and exit code
:data:`EXIT_SETUP`, never a traceback and never after a "serving on" banner.

Exit codes of every ``twittcom`` command (README "Exit codes"):

* :data:`EXIT_PASS` 0: done, verdict passed;
* :data:`EXIT_FAILED` 1: ran, but the verdict failed (thresholds, failed stories, regressions);
* :data:`EXIT_SETUP` 2: usage or setup error, nothing was run (click's usage errors use 2 too);
* :data:`EXIT_INTERRUPTED` 130: stopped with Ctrl-C.

DSNs (``--db`` of demo/up/crm, ``--dsn`` of serve) are one of:

* ``postgresql://[user[:password]@]host[:port]/dbname[?param=value...]`` (``postgres://`` too);
* ``sqlite:///path/to/file.db`` or a plain path whose folder exists, ending in ``.db``,
  ``.sqlite`` or ``.sqlite3`` unless the file exists already (so a mistyped DSN such as
  ``host=x dbname=y`` never becomes a new SQLite file named after it);
* ``memory://`` (an in-memory store; gone when the process ends).
"""

from __future__ import annotations

import errno
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

import click

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_PASS",
    "EXIT_SETUP",
    "Dsn",
    "SetupError",
    "check_dsn",
    "checked_dsn",
    "check_ports_free",
    "parse_dsn",
]

EXIT_PASS = 0
EXIT_FAILED = 1
EXIT_SETUP = 2
EXIT_INTERRUPTED = 130

#: file endings a plain path needs to be taken as a SQLite database
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_LIBPQ_KEYWORDS = re.compile(r"(^|\s)(host|hostaddr|port|dbname|user|password|sslmode)\s*=", re.IGNORECASE)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_DBNAME = re.compile(r"^[A-Za-z0-9_$-]{1,63}$")


def _shown(text: str) -> str:
    """``text`` fit for a message: a DSN's password replaced by ``***`` (imported only on error)."""
    from reference.runtime.config import redact_dsn

    return repr(redact_dsn(text))


class SetupError(click.ClickException):
    """A setup mistake found before any work: one line, exit code :data:`EXIT_SETUP`."""

    exit_code = EXIT_SETUP


@dataclass(frozen=True)
class Dsn:
    """A checked DSN: ``kind`` is postgresql, sqlite or memory; ``text`` is what the store opens."""

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
    def bad(why: str) -> SetupError:
        return SetupError(f"{option} {_shown(text)}: {why} (expected postgresql://user@host:port/dbname)")

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


def parse_dsn(text: str, option: str = "--db") -> Dsn:
    """Check ``text`` is a DSN this harness can open (syntax and scheme only; no I/O but a stat)."""
    stripped = text.strip()
    if not stripped:
        raise SetupError(f"{option} is empty")
    if _LIBPQ_KEYWORDS.search(stripped) and "://" not in stripped:
        raise SetupError(
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
                raise SetupError(f"{option} {_shown(text)}: the in-memory store is written memory://")
            return Dsn("memory", "memory://")
        if name != "sqlite":
            raise SetupError(
                f"{option} {_shown(text)}: unsupported scheme {name!r} (postgresql://, sqlite:///path.db or memory://)"
            )
        path = Path(stripped.removeprefix("sqlite:///") if stripped.startswith("sqlite:///") else "")
        if not str(path) or str(path) == ".":
            raise SetupError(f"{option} {_shown(text)}: expected sqlite:///path/to/file.db")
    else:
        path = Path(stripped)
        if path.suffix.lower() not in SQLITE_SUFFIXES and not path.is_file():
            raise SetupError(
                f"{option} {_shown(text)} is neither a URL nor a SQLite file name ending in "
                f"{', '.join(SQLITE_SUFFIXES)} (postgresql://user@host:port/dbname, sqlite:///x.db, memory://)"
            )
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise SetupError(f"{option} {_shown(text)} is a folder, not a SQLite file")
    if not folder.is_dir():
        raise SetupError(f"{option} {_shown(text)}: folder {folder} does not exist")
    return Dsn("sqlite", str(path), path=str(path))


def check_dsn(dsn: Dsn, *, timeout_s: float = 3.0, must_exist: bool = False) -> None:
    """Reachability: PostgreSQL answers and lets us in; a SQLite file exists (when ``must_exist``)."""
    if dsn.kind == "sqlite":
        if must_exist and not Path(dsn.path).is_file():
            raise SetupError(f"no database at {dsn.path} (give the --db the processor or demo used)")
        return
    if dsn.kind != "postgresql":
        return
    try:
        with socket.create_connection((dsn.host, dsn.port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise SetupError(f"{dsn.describe()} does not answer: {exc.strerror or exc}") from None
    import psycopg

    try:
        with psycopg.connect(dsn.text, connect_timeout=max(1, int(timeout_s))):
            pass
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SetupError(f"{dsn.describe()} refused the connection: {first}") from None


def checked_dsn(text: str, option: str = "--db", *, must_exist: bool = False) -> str:
    """:func:`parse_dsn` then :func:`check_dsn`; the text the store opens (a :class:`SetupError` else)."""
    dsn = parse_dsn(text, option)
    check_dsn(dsn, must_exist=must_exist)
    return dsn.text


def check_ports_free(ports: dict[str, int], host: str = "127.0.0.1") -> None:
    """Each named port (0: any, skipped) can be bound on ``host``; else one line naming it."""
    seen: dict[int, str] = {}
    for name, port in ports.items():
        if port == 0:
            continue
        if port in seen:
            raise SetupError(f"{name} and {seen[port]} both ask for port {port}")
        seen[port] = name
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                why = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
                raise SetupError(f"port {port} ({name}) on {host}: {why}") from None
