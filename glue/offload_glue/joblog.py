"""Where a job's output goes. Locally, before the JVM starts, the process's stdout and stderr are
moved to a log file (``--log_file``, default ``.offload/logs/<job>-<UTC time>.log``), so Spark's and
the JVM's warnings, progress bars and stack traces — printed by the JVM child, which inherits these
file descriptors — never reach the terminal; the terminal keeps only the JSON summary (stdout) and a
user error's message (stderr). ``--verbose`` keeps everything on the terminal. On AWS Glue nothing
moves: the driver's output is the job's CloudWatch log.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

_state: dict = {"path": None, "out": None, "err": None}


def default_path(job: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return os.path.join(".offload", "logs", f"{job}-{stamp}.log")


def start(job: str, log_file: str | None = None) -> str:
    """Move fds 1 and 2 to the log file (appending); returns its absolute path. Idempotent."""
    if _state["path"]:
        return _state["path"]
    path = os.path.abspath(log_file or default_path(job))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    _state["out"] = os.fdopen(os.dup(1), "w", encoding="utf-8")
    _state["err"] = os.fdopen(os.dup(2), "w", encoding="utf-8")
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    _state["path"] = path
    return path


def path() -> str | None:
    """The log file of this run, or None when output stays on the terminal."""
    return _state["path"]


def terminal_out():
    return _state["out"] or sys.stdout


def terminal_err():
    return _state["err"] or sys.stderr


def to_log(text: str) -> None:
    """Write to the log (the terminal's stderr when there is none: --verbose, Glue, before start)."""
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()
