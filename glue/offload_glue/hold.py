"""The legal hold recorded with an archive, and the only way to change it after the archive is written.

``offload.legal_hold`` in the archive's table properties is ``true``, ``false`` or ``unknown`` (the
archive was written without the config's hold). Guarantees:
  * the archive job records the hold in the same atomic commit as the data (see archive.py) and a
    re-archive records the stricter of the recorded and the given value (true > unknown > false);
  * the purge job counts every recorded value other than exactly ``false`` as held — missing and
    unrecognised values included (fail safe) — and a hold wins over any force reason;
  * only ``set_legal_hold`` lowers a hold, and only when given the config commit whose reviewed
    change lifted it (non-empty, and not the commit that recorded the hold); the commit, the reason
    and the time are recorded in one metadata commit, and Iceberg's metadata log keeps the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import OffloadError

HOLD = "offload.legal_hold"
REASON = "offload.legal_hold_reason"
COMMIT = "offload.legal_hold_config_commit"  # the config commit that recorded the current value
CHANGED_AT = "offload.legal_hold_changed_at"

_RANK = {"false": 0, "unknown": 1, "true": 2}


def state_of(value: bool | None) -> str:
    return "unknown" if value is None else ("true" if value else "false")


def recorded_state(props: dict[str, str]) -> str:
    """The recorded hold as one of true, unknown, false; missing or unrecognised → unknown."""
    value = props.get(HOLD)
    return value if value in _RANK else "unknown"


def is_held(props: dict[str, str]) -> bool:
    return props.get(HOLD) != "false"


def check_flag(value, argument: str = "legal_hold", optional: bool = False) -> None:
    """A hold given to a job function must be a real boolean (a string "false" would be truthy)."""
    if isinstance(value, bool) or (optional and value is None):
        return
    raise OffloadError("bad_argument", f"--{argument} must be true or false, not {value!r}", argument=argument)


def archive_hold_properties(
    existing: dict[str, str] | None, given: bool | None, reason: str | None, config_commit: str
) -> dict[str, str]:
    """The hold properties a (re-)archive writes: the stricter of the recorded and the given value.

    Every key is written (empty when unknown) so a replaced table never keeps a stale reason."""
    new = state_of(given)
    if existing is not None and _RANK[recorded_state(existing)] >= _RANK[new]:
        return {
            HOLD: recorded_state(existing),
            REASON: existing.get(REASON, ""),
            COMMIT: existing.get(COMMIT, ""),
            CHANGED_AT: existing.get(CHANGED_AT, ""),
        }
    return {HOLD: new, REASON: reason or "", COMMIT: config_commit or "", CHANGED_AT: _now()}


@dataclass
class HoldRequest:
    archive_table: str  # table name inside the archive database
    legal_hold: bool  # the current config's hold
    config_commit: str = ""  # the reviewed config commit the value comes from (required to lift)
    reason: str | None = None
    catalog: str = "offload"
    database: str = "archive"


def set_legal_hold(spark, req: HoldRequest) -> dict:
    """Record the current config's hold on an existing archive (metadata-only commit)."""
    from .archive import table_properties
    from .names import spark_ident

    check_flag(req.legal_hold)
    ident = spark_ident(req.catalog, req.database, req.archive_table)
    props = table_properties(spark, ident)
    if props is None:
        raise OffloadError("archive_not_found", f"archive table {req.database}.{req.archive_table} does not exist")
    before = props.get(HOLD)
    new = state_of(req.legal_hold)
    summary = {
        "job": "hold",
        "archive_table": f"{req.database}.{req.archive_table}",
        "catalog": req.catalog,
        "legal_hold_before": before,
        "legal_hold": new,
        "config_commit": req.config_commit,
        "reason": req.reason,
    }
    if before == new and (new == "false" or (props.get(REASON, "") == (req.reason or ""))):
        return {**summary, "status": "unchanged"}
    if new == "false" and (not req.config_commit or req.config_commit == props.get(COMMIT, "")):
        raise OffloadError(
            "hold_lift_needs_config_commit",
            f"the legal hold on {req.database}.{req.archive_table} (recorded {before!r}"
            f"{' by config commit ' + props[COMMIT] if props.get(COMMIT) else ''}) is lifted only by the "
            "reviewed config commit that lifts it: pass that commit with --config_commit",
            archive_table=f"{req.database}.{req.archive_table}",
        )
    values = {HOLD: new, REASON: req.reason or "", COMMIT: req.config_commit, CHANGED_AT: _now()}
    set_properties(spark, ident, values)
    return {**summary, "status": "set", "changed_at": values[CHANGED_AT]}


def set_properties(spark, ident: str, values: dict[str, str]) -> None:
    """One metadata-only commit (no new snapshot)."""
    pairs = ", ".join(f"{sql_literal(k)} = {sql_literal(v)}" for k, v in values.items())
    spark.sql(f"ALTER TABLE {ident} SET TBLPROPERTIES ({pairs})")


def sql_literal(text: str) -> str:
    """A Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
