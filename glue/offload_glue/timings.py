"""Where a job run's wall time goes: named marks taken inside the process, written to the job's log as one line
(``timings: {...}``) when a job that started Spark ends (``cli.run``). Cheap — a clock read per mark, one line per
run — so it is always on; ``glue/bench/startup_split.py`` reads the line from a job's log.

Each mark closes the phase that ended there (``mark("imports")``: the time since the previous mark went to
importing). The first phase, ``python``, is the interpreter's own start-up: from the process's start (Linux
``/proc/self/stat``, 10 ms resolution) to the first mark, which importing this module takes.
"""

from __future__ import annotations

import json
import os
import time

_marks: list[tuple[str, float]] = []


def _process_age() -> float | None:
    """Seconds since this process started (Linux), or None."""
    try:
        with open("/proc/self/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat(5); fields[0] is field 3
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


_age = _process_age()
_marks.append(("python", time.monotonic()))


def mark(name: str) -> None:
    """Closes the phase ``name`` now (a phase marked twice adds up)."""
    _marks.append((name, time.monotonic()))


def position() -> int:
    """How many marks there are: ``marked(name, since=position())`` asks about what came after."""
    return len(_marks)


def marked(name: str, since: int = 0) -> bool:
    return any(n == name for n, _ in _marks[since:])


def phases() -> dict[str, float]:
    """Seconds per phase in the order first marked, ``python`` included when the process age is known, and the
    total from the process's start (or the first mark) to the last mark."""
    out: dict[str, float] = {}
    if _age is not None:
        out["python"] = round(max(_age, 0.0), 3)
    for (_, before), (name, at) in zip(_marks, _marks[1:], strict=False):
        out[name] = round(out.get(name, 0.0) + at - before, 3)
    out["total"] = round((_age or 0.0) + _marks[-1][1] - _marks[0][1], 3)
    return out


def line() -> str:
    """The log line: ``timings: {"python": 0.12, "imports": 0.4, ..., "total": 9.8}``."""
    return "timings: " + json.dumps(phases())
