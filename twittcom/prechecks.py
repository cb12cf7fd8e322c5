"""Checks every command runs before it starts work: exit codes, the one DSN parser, ports.

A setup mistake (a DSN with an unknown scheme or bad syntax, a database that does not answer, a
port already taken) stops the command at once with one line naming the fault and exit code
:data:`EXIT_SETUP`, never a traceback and never after a "serving on" banner.

Exit codes of every ``twittcom`` command (README "Exit codes"):

* :data:`EXIT_PASS` 0: done, verdict passed;
* :data:`EXIT_FAILED` 1: ran, but the verdict failed (thresholds, failed stories, regressions);
* :data:`EXIT_SETUP` 2: usage or setup error, nothing was run (click's usage errors use 2 too);
* :data:`EXIT_UNJUDGED` 3: ran, but too few samples to judge the verdict either way (neither pass
  nor fail: a longer run, or more model seeds, would tell);
* :data:`EXIT_INTERRUPTED` 130: stopped with Ctrl-C.

DSNs (``--db`` of demo/up/crm, ``--dsn`` of serve) are checked by the one DSN parser,
:func:`reference.storage.dsn.parse_dsn` (strict), which the stores use too.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import click

from reference.storage.dsn import SQLITE_SUFFIXES, Dsn, DsnError
from reference.storage.dsn import parse_dsn as _parse_dsn

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_PASS",
    "EXIT_SETUP",
    "EXIT_UNJUDGED",
    "SQLITE_SUFFIXES",
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
EXIT_UNJUDGED = 3
EXIT_INTERRUPTED = 130


class SetupError(click.ClickException):
    """A setup mistake found before any work: one line, exit code :data:`EXIT_SETUP`."""

    exit_code = EXIT_SETUP


def parse_dsn(text: str, option: str = "--db") -> Dsn:
    """Check ``text`` is a DSN this harness can open (:func:`reference.storage.dsn.parse_dsn`,
    strict); a :class:`SetupError` naming the fault when it is not."""
    try:
        return _parse_dsn(text, option, strict=True)
    except DsnError as exc:
        raise SetupError(str(exc)) from None


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
