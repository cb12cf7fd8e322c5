"""Every ``twittcom`` command's ``--help``: each option described, two or three examples, no leaks."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from loadtests.thresholds import metric_names
from simulator.metrics import FLAT_METRICS
from simulator.slo import FAMILIES
from twittcom.cli import COMMANDS, main
from twittcom.commands.helptext import EXAMPLES_HEADING


def _walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path)} lists {name} but cannot load it"
            yield from _walk(sub, (*path, name))


TREE = list(_walk(main, ()))
COMMAND_PATHS = [path for path, _ in TREE if path]


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="twittcom", terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_tree_holds_every_registered_command() -> None:
    assert {path[0] for path in COMMAND_PATHS} == set(COMMANDS)
    assert ("simulate", "mmc") in COMMAND_PATHS and ("outbox", "requeue") in COMMAND_PATHS


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_option_has_a_description(path: tuple[str, ...]) -> None:
    command = dict(TREE)[path]
    undescribed = [
        param.opts[0]
        for param in command.params
        if isinstance(param, click.Option) and param.name != "help" and not (param.help or "").strip()
    ]
    assert undescribed == [], f"twittcom {' '.join(path)}: options without a description"


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_command_shows_two_or_three_examples(path: tuple[str, ...]) -> None:
    text = _help(path)
    assert EXAMPLES_HEADING in text, f"twittcom {' '.join(path)} --help has no examples"
    examples = text.split(EXAMPLES_HEADING, 1)[1]
    lines = [line.strip() for line in examples.splitlines() if line.strip().startswith("twittcom ")]
    assert len(lines) >= 2, f"twittcom {' '.join(path)}: {len(lines)} example(s)"
    assert all(line.split()[1] == path[0] for line in lines), lines  # the command's own examples


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_defaults_and_env_vars_in_one_notation(path: tuple[str, ...]) -> None:
    text = _help(path)
    assert "(env " not in text and "env TWITTCOM" not in text.replace("env var: TWITTCOM", "")
    command = dict(TREE)[path]
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar:
            assert param.show_envvar, f"{param.opts[0]} reads {param.envvar} without saying so"


def test_simulate_help_shows_what_a_person_types_not_the_hidden_subcommand() -> None:
    for path in (("simulate",), ("simulate", "scenarios/launch.toml")):
        text = _help(path)
        assert "simulate run" not in text
        assert "twittcom simulate [OPTIONS] SCENARIO.toml" in text
        assert "--set KEY=VALUE" in text and "--no-plots" in text


def test_threshold_and_slo_metric_names_are_listed_from_the_validators() -> None:
    loadtest = " ".join(_help(("loadtest",)).split())
    for name in metric_names():
        assert name in loadtest
    plan = " ".join(_help(("plan",)).split())
    for name in (*FLAT_METRICS, *FAMILIES):
        assert name in plan


def test_a_scenario_file_is_called_scenario_toml_everywhere() -> None:
    for path in (("storm",), ("loadtest",), ("plan",), ("simulate",)):
        usage = _help(path).splitlines()[0]
        assert "SCENARIO.toml" in usage, usage


def test_serve_shows_the_service_defaults() -> None:
    text = " ".join(_help(("serve",)).split())
    for shown in (
        "TWITTCOM_INGESTION; default: webhook",
        "TWITTCOM_WORKERS; default: 1",
        "TWITTCOM_BATCH_SIZE; default: 64",
        "TWITTCOM_TRANSPORT; default: aiohttp",
        "TWITTCOM_PROCESSES; default: 1",
    ):
        assert shown in text
