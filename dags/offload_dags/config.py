"""Where the DAGs read their names and runtime options.

Parse time reads only ``offload.settings.yaml`` (one small local file: the DAG ids, Glue job and Lambda
names) and the Airflow configuration section ``[offload]`` (no Variable, no connection, no network).
The one runtime switch is ``[offload] runtime`` (environment ``AIRFLOW__OFFLOAD__RUNTIME``):
``local`` (default) or ``aws``; it is read when a task runs, so the same DAG files serve both.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

DAGS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The toolkit checkout these DAG files belong to (its glue/, tools/ and .venv).
TOOLKIT = os.path.dirname(DAGS_DIR)
RUNTIMES = ("local", "aws")


def option(key: str, default: str | None = None) -> str | None:
    """``[offload] <key>`` from the Airflow configuration (``AIRFLOW__OFFLOAD__<KEY>``), else ``default``."""
    env = os.environ.get(f"AIRFLOW__OFFLOAD__{key.upper()}")
    if env is not None:
        return env
    try:
        from airflow.configuration import conf

        return conf.get("offload", key, fallback=default)
    except ImportError:  # outside Airflow (unit tests of the helpers)
        return default


def runtime() -> str:
    value = (option("runtime", "local") or "local").strip()
    if value not in RUNTIMES:
        raise ValueError(f"[offload] runtime = {value!r}: expected one of {', '.join(RUNTIMES)}")
    return value


def root() -> str:
    """The config repository (``offload.settings.yaml``, ``databases/``, ``policies/``, local state)."""
    return os.path.abspath(option("root", None) or TOOLKIT)


def settings_file() -> str:
    """The settings next to the deployed DAGs (MWAA bundle), else the config repository's."""
    explicit = option("settings", None)
    if explicit:
        return explicit
    bundled = os.path.join(DAGS_DIR, "offload_dags", "offload.settings.yaml")
    return bundled if os.path.exists(bundled) else os.path.join(root(), "offload.settings.yaml")


@dataclass(frozen=True)
class Names:
    """The resource names the DAGs use, all from ``offload.settings.yaml``."""

    archival_dag: str
    purge_dag: str
    glue_jobs: dict
    lambdas: dict
    config_bucket: str
    config_table: str
    archive_bucket: str
    archive_prefix: str
    region: str
    timezone: str
    discovery_schedule: str | None

    @property
    def ledger_table(self) -> str:
        # The DynamoDB ledger table of tools/src/ledger/dynamodb.ts (ledgerTableName).
        return f"{self.config_table}-ledger"


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Names:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            s = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path} is missing: the DAGs take their ids from offload.settings.yaml "
            "(set [offload] root or [offload] settings)"
        ) from None
    try:
        return Names(
            archival_dag=s["dags"]["archival"],
            purge_dag=s["dags"]["purge"],
            glue_jobs={"cleanup": f"{s.get('resource_prefix', 'offload')}-data-cleanup-source", **s["glue_jobs"]},
            lambdas=dict(s["lambdas"]),
            config_bucket=s["config"]["bucket"],
            config_table=s["config"]["dynamodb_table"],
            archive_bucket=s["archive"]["bucket"],
            archive_prefix=s["archive"].get("prefix", "iceberg"),
            region=s["region"],
            timezone=(s.get("defaults") or {}).get("timezone", "UTC"),
            discovery_schedule=(s.get("defaults") or {}).get("discovery_schedule"),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: missing setting {exc} (run `offload validate`)") from None


def names() -> Names:
    path = settings_file()
    try:
        mtime = os.path.getmtime(path)
    except OSError:
        mtime = 0.0
    return _load(path, mtime)


def max_parallel_reads() -> int:
    """Per-table read tasks (archive, validate) of one DAG run at a time: see README "Concurrency"."""
    return max(1, int(option("max_parallel_reads", "2") or 2))


_RATE_UNITS = {
    "minute": "minutes",
    "minutes": "minutes",
    "hour": "hours",
    "hours": "hours",
    "day": "days",
    "days": "days",
}


def airflow_schedule(text: str | None):
    """The settings' discovery schedule as Airflow takes it: an EventBridge ``cron(m h dom mon dow year)``
    becomes a five-field cron line (``?`` → ``*``, weekdays 1-7 from Sunday → 0-6), ``rate(n unit)`` a
    timedelta; five-field lines and presets (``@daily``) stay; ``none``/empty → no schedule."""
    from datetime import timedelta

    if not text or text.strip().lower() == "none":
        return None
    text = text.strip()
    m = re.fullmatch(r"cron\((.+)\)", text)
    if m:
        fields = m.group(1).split()
        if len(fields) != 6:
            raise ValueError(f"discovery_schedule {text!r}: an EventBridge cron has six fields")
        minute, hour, dom, month, dow, _year = (f.replace("?", "*") for f in fields)
        dow = re.sub(r"\d+", lambda d: str((int(d.group()) - 1) % 7), dow)
        return f"{minute} {hour} {dom} {month} {dow}"
    m = re.fullmatch(r"rate\((\d+)\s+(\w+)\)", text)
    if m:
        unit = _RATE_UNITS.get(m.group(2))
        if not unit:
            raise ValueError(f"discovery_schedule {text!r}: unknown rate unit")
        return timedelta(**{unit: int(m.group(1))})
    return text


def schedule():
    """``[offload] schedule`` when set (``none`` for manual/triggered runs only), else the settings'."""
    return airflow_schedule(option("schedule", None) or names().discovery_schedule)
