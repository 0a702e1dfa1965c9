"""Fault injection for the kill tests (tools/test/run/cleanup.test.ts): ``OFFLOAD_TEST_KILL_AT=<point>``
makes the process SIGKILL itself when it reaches that named point, the way a crash or an OOM kill would.

Off unless that variable is set, in the process's own environment, to the exact name of a point; the
runner (``offload run``) refuses a value that names no point and warns on stderr whenever it is set, so
the hook is never reached by accident. Production never sets it.
"""

from __future__ import annotations

import os
import signal
import sys

ENV = "OFFLOAD_TEST_KILL_AT"


def kill_point(name: str) -> None:
    """SIGKILLs this process if ``OFFLOAD_TEST_KILL_AT`` names this point."""
    if os.environ.get(ENV) == name:
        print(f"[offload test hook] {ENV}={name}: killing process {os.getpid()}", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
