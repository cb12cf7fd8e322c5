"""One module per ``twittcom`` subcommand; see :data:`twittcom.cli.COMMANDS`."""
