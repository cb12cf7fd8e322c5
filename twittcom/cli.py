"""The ``twittcom`` console command.

Subcommands live in :mod:`twittcom.commands`, one module each, and are imported only when invoked,
so a slow or broken component never slows down or breaks the others' commands.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

__all__ = ["COMMANDS", "main"]

#: command name -> (module under twittcom.commands, attribute holding the click command, help line)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("stackdemo", "stack_demo", "Subscribers through the live stack in-process (--core: core only)."),
    "crm": ("crm", "crm", "Print one customer's timeline (tweets, DMs, SMS, transactions)."),
    "fake-twitter": ("fake_twitter", "fake_twitter", "Serve the X API v2 fake on loopback."),
    "fake-sms": ("fake_sms", "fake_sms", "Serve the Twilio-compatible SMS gateway fake on loopback."),
    "simulate": ("simulate", "simulate", "Run the discrete-event model of a scenario."),
    "plan": ("plan", "plan", "Search a configuration grid for the cheapest one meeting SLOs."),
    "calibrate": (
        "calibrate",
        "calibrate",
        "Fit the model to a storm of your system; write the calibrated scenario.",
    ),
    "up": ("up", "up", "Start fake X, fake SMS and the processor on loopback; print URLs and what to try."),
    "scenarios": ("scenarios", "scenarios", "Run the QA suite of end-to-end stories against a live stack."),
    "loadtest": ("loadtest", "loadtest", "Drive a stack with locust on a scenario's open-model schedule."),
    "bench": ("bench", "bench", "Run the benchmarks; per-stage rates vs same-run ceilings; compare."),
    "storm": ("storm", "storm", "Run a scenario on the live stack and in the simulator, side by side."),
    "sweep": ("sweep", "sweep", "Offered-load sweep to saturation (the knee), measured beside the model."),
    "serve": ("serve", "serve", "Run the Twittcom processor service."),
    "outbox": ("outbox", "outbox", "List and requeue outbox rows that were not sent (failed, expired)."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute, _ = entry
        module = importlib.import_module(f"twittcom.commands.{module_name}")
        command: click.Command = getattr(module, attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Ctrl-C before a command has its own handling (starting a stack, seeding) exits 130 with
        one line, as a shell expects of an interrupted command, not click's "Aborted!" and 1."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted (Ctrl-C)", err=True)
            ctx.exit(130)  # twittcom.prechecks.EXIT_INTERRUPTED (not imported here: the CLI loads lazily)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="twittcom-harness")
def main(**_: Any) -> None:
    """Twittcom Harness: Twitter commerce for telecom, with fakes, simulator and load tests."""
