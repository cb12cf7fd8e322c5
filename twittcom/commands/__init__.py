"""One module per ``twittcom`` subcommand; see :data:`twittcom.cli.COMMANDS`."""

from __future__ import annotations
