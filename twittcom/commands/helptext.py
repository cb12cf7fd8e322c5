"""What ``--help`` shows beyond the options: worked examples, and one notation for environment variables.

Every command's epilog is built by :func:`examples` (``tests/stack/test_cli_help.py`` walks the
command tree and fails on a command without one, or an option without a description). Environment
variables read by the service's own configuration rather than by click are written by
:func:`env_and_default` in click's notation (``[env var: NAME; default: VALUE]``), so the whole CLI
shows one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["EXAMPLES_HEADING", "env_and_default", "examples", "stack_port_options"]

_F = TypeVar("_F", bound=Callable[..., Any])

EXAMPLES_HEADING = "Examples:"


def examples(*pairs: tuple[str, str]) -> str:
    r"""A click epilog: for each (what it does, command line) a comment line and the command.

    The ``\b`` marker keeps click from rewrapping the lines.
    """
    lines = ["\b", EXAMPLES_HEADING]
    for what, line in pairs:
        lines.append(f"  # {what}")
        lines.append(f"  {line}")
    return "\n".join(lines)


def env_and_default(env: str, default: object | None = None) -> str:
    """``[env var: NAME; default: VALUE]`` (click's own notation when ``show_envvar`` is set)."""
    extra = [f"env var: {env}"]
    if default is not None and default != "":
        extra.append(f"default: {default}")
    return "[" + "; ".join(extra) + "]"


def stack_port_options(command: _F) -> _F:
    """``--port``, ``--x-port`` and ``--sms-port`` of a stack the command starts itself (0: any free
    port), for scripts that must know the ports in advance."""
    for name, what in (
        ("--sms-port", "fake SMS gateway"), ("--x-port", "fake X"), ("--port", "processor"),
    ):  # fmt: skip
        command = click.option(
            name, default=0, show_default=True, type=click.IntRange(0, 65535),
            help=f"The self-started {what} (0: any free port).",
        )(command)  # fmt: skip
    return command
