"""What ``/proc`` says of the machine while a sweep step runs: its busy CPU, its runnable threads
(all of them, and those outside the deployment), and this process's own CPU."""

from __future__ import annotations

import os
import resource
from pathlib import Path

__all__ = ["machine_busy", "others_running", "own_cpu", "procs_running"]


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores) from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ticks = float(os.sysconf("SC_CLK_TCK"))
    return (sum(fields[:8]) - fields[3] - fields[4]) / ticks


def procs_running() -> int:
    """Threads runnable on the machine now (the kernel's ``procs_running``)."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("procs_running"):
            return int(line.split()[1])
    return 0


def others_running(ours: set[int]) -> int:
    """Runnable threads (state R in ``/proc/<pid>/task/<tid>/stat``) of every process but ``ours``
    and this one: the machine's other load, the load driver included (about 3 ms a sample)."""
    me, count = os.getpid(), 0
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me or int(name) in ours:
            continue
        try:
            tasks = os.listdir(f"/proc/{name}/task")
        except OSError:  # gone meanwhile
            continue
        for tid in tasks:
            try:
                data = Path(f"/proc/{name}/task/{tid}/stat").read_bytes()
            except OSError:
                continue
            end = data.rfind(b")")  # the command name may hold spaces and parentheses
            count += data[end + 2 : end + 3] == b"R"
    return count


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
