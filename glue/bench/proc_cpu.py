"""CPU seconds of processes on this machine (Linux ``/proc``), for the benchmarks that split a run's CPU between
our process and the database server (``restore_bench.py``, ``warm_split.py``)."""

from __future__ import annotations

import os
import subprocess

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int | str) -> float:
    """User + system CPU seconds of one live process."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def server_cpu(name: str) -> tuple[float, float] | None:
    """(user, system) CPU seconds so far of a local server whose processes are called ``name`` (``postgres``,
    ``mariadbd``): every live process's own, plus, for the top one (whose parent is not of that name), its reaped
    children's — PostgreSQL's backends that exited. None when no such process is visible."""
    try:
        pids = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout.split()
    except OSError:
        return None
    user = system = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        user += int(fields[11]) / TICK
        system += int(fields[12]) / TICK
        if fields[1] not in pids:  # the top process: its children's times once they exited
            user += int(fields[13]) / TICK
            system += int(fields[14]) / TICK
    return (user, system) if pids else None
