"""Opens the runtime ``[offload] runtime`` names, when a task runs (never at parse time)."""

from __future__ import annotations

import os
import re
import sys

from . import config


def ensure_offload_glue() -> None:
    """``offload_glue`` (the ledger) from the deployed bundle next to the DAGs, else the toolkit's glue/."""
    try:
        import offload_glue  # noqa: F401
    except ImportError:
        sys.path.insert(0, os.path.join(config.TOOLKIT, "glue"))


def open_runtime():
    ensure_offload_glue()
    if config.runtime() == "aws":
        from .aws import AwsRuntime

        return AwsRuntime()
    from .local import LocalRuntime

    return LocalRuntime()


def run_id_of(airflow_run_id: str) -> str:
    """The Airflow run id as a work-unit run id (letters, digits, ``_.-``; at most 128 characters)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", airflow_run_id).strip("-.") or "run"
    if not safe[0].isalnum():
        safe = f"r{safe}"
    return safe[:128]
