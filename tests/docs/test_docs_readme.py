"""The README's commands, pasted in order into one shell on a fresh copy of the repository, each exit 0.

The first code block (``make storm``, ``make test``) is the set-up and is not run here: the copy
borrows this checkout's ``.venv`` (what ``make`` would have built). Every later ``sh`` block is run
line by line, as printed, except for the substitutions in :data:`SHORTER` (shorter load, one small
benchmark suite instead of all of them) and the ports of ``twittcom up``, moved to free ones so a
stack someone else runs on 8080-8082 cannot fail the test.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
UP_PORTS = (8080, 8081, 8082)  # processor, X, SMS as the README prints them

#: (README text, what runs instead): durations and workloads only, never what a command checks
SHORTER: tuple[tuple[str, str], ...] = (
    ("--duration 10s --drain 5s", "--duration 2s --drain 2s"),
    (
        "python -m pytest benchmarks ",
        "TWITTCOM_BENCH_SHORT=1 python -m pytest benchmarks/test_journey_histograms.py ",
    ),
    ("twittcom bench --save", "twittcom bench benchmarks/test_journey_histograms.py --short --save"),
    ("twittcom bench --compare", "twittcom bench benchmarks/test_journey_histograms.py --short --compare"),
)


def shell_blocks(text: str) -> list[list[str]]:
    """The command lines of each ```sh block, in order (blank lines and comments left out)."""
    blocks = re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)
    return [
        [line.strip() for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        for block in blocks
    ]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def as_run(command: str, ports: dict[int, int]) -> str:
    for printed, shorter in SHORTER:
        command = command.replace(printed, shorter)
    for printed_port, port in ports.items():
        command = command.replace(f"127.0.0.1:{printed_port}", f"127.0.0.1:{port}")
    if command.startswith("twittcom up "):
        command = command.replace(
            "twittcom up ",
            f"twittcom up --port {ports[8080]} --x-port {ports[8081]} --sms-port {ports[8082]} ",
            1,
        )
    if command.startswith("twittcom outbox "):
        command += f" --url http://127.0.0.1:{ports[8080]}"
    return command


def test_the_first_block_is_the_two_set_up_commands() -> None:
    assert shell_blocks(README.read_text())[0] == ["make storm", "make test"]


def test_the_virtualenv_is_activated_once_before_any_twittcom_command() -> None:
    later = [line for block in shell_blocks(README.read_text())[1:] for line in block]
    assert later[0] == ". .venv/bin/activate" and later.count(". .venv/bin/activate") == 1


@pytest.mark.slow
def test_readme_commands_pasted_in_order_on_a_fresh_copy_each_exit_0(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    (clone / ".venv").symlink_to(ROOT / ".venv")
    commands = [line for block in shell_blocks((clone / "README.md").read_text())[1:] for line in block]
    assert len(commands) >= 8, commands
    ports = dict(zip(UP_PORTS, _free_ports(3), strict=True))
    statuses = tmp_path / "statuses"
    script = ["set -u", "trap 'kill $(jobs -p) 2>/dev/null' EXIT", "SECONDS=0"]
    for index, command in enumerate(commands):  # exit status and the seconds since the start
        script += [as_run(command, ports), f'echo "{index} $? $SECONDS" >> {statuses}']
    started = time.monotonic()
    shell_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}  # a user's shell
    run = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=clone, capture_output=True, text=True, timeout=240,
        env=shell_env,
    )  # fmt: skip
    took = time.monotonic() - started
    lines = [line.split() for line in statuses.read_text().splitlines()] if statuses.exists() else []
    answered = {i: rc for i, rc, _ in lines}
    failed = [(commands[int(i)], rc) for i, rc in answered.items() if rc != "0"]
    ends = [0, *(int(t) for _, _, t in lines)]
    for (i, _, _), start, end in zip(lines, ends, ends[1:], strict=False):
        print(f"{end - start:>4} s  {commands[int(i)][:90]}")
    tail = (run.stdout[-3000:], run.stderr[-3000:])
    assert len(answered) == len(commands), ("not every command ran", answered, tail)
    assert failed == [], (failed, tail)
    print(f"{len(commands)} README commands in {took:.0f} s")
