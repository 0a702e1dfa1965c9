"""Purge an Iceberg archive: drop the table with its data and metadata files.

Guarantees:
  * refuses (status ``refused``, nothing touched) while the archive is under legal hold, before its
    retention end, or when no retention end is known — unless ``force_reason`` is given, which the
    audit record keeps; the legal hold and the retention end are taken from the request and from the
    archive's lineage (``offload.legal_hold``, ``offload.retention_until``), the stricter of the two;
  * after ``DROP TABLE … PURGE`` it removes whatever is left under the table location (orphans of
    failed writes) and checks that nothing remains there, failing otherwise;
  * every call that reaches a decision writes an audit record (schema/purge-audit.schema.json).
Precondition: the archive table exists.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from .archive import LINEAGE_PREFIX, current_snapshot, table_properties
from .errors import OffloadError
from .names import spark_ident
from .storage import delete_tree, list_files, record_path, write_json

SCHEMA_VERSION = 1


@dataclass
class PurgeRequest:
    archive_table: str  # table name inside the archive database
    catalog: str = "offload"
    database: str = "archive"
    as_of: str | None = None  # YYYY-MM-DD, default today (UTC)
    legal_hold: bool = False
    retention_until: str | None = None  # YYYY-MM-DD
    force_reason: str | None = None
    run_id: str | None = None
    audit_path: str | None = None  # directory or .json path (local or s3://)


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def table_location(spark, ident: str) -> str:
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED {ident}").collect()
    for r in rows:
        if r[0] == "Location":
            return r[1]
    raise OffloadError("no_location", f"cannot find the location of {ident}")


def purge(spark, req: PurgeRequest) -> dict:
    started = time.monotonic()
    ident = spark_ident(req.catalog, req.database, req.archive_table)
    props = table_properties(spark, ident)
    if props is None:
        raise OffloadError("archive_not_found", f"archive table {req.database}.{req.archive_table} does not exist")
    as_of = _date(req.as_of) or datetime.now(UTC).date()
    legal_hold = req.legal_hold or props.get(LINEAGE_PREFIX + "legal_hold", "").lower() == "true"
    ends = [d for d in (_date(req.retention_until), _date(props.get(LINEAGE_PREFIX + "retention_until"))) if d]
    retention_until = max(ends) if ends else None
    reasons = []
    if legal_hold:
        reasons.append("legal_hold")
    if retention_until is None:
        reasons.append("retention_end_unknown")
    elif as_of < retention_until:
        reasons.append("retention_not_reached")

    location = table_location(spark, ident)
    snap = current_snapshot(spark, ident) or {}
    record = {
        "job": "purge",
        "schema_version": SCHEMA_VERSION,
        "purge_id": req.run_id or str(uuid.uuid4()),
        "archive_table": f"{req.database}.{req.archive_table}",
        "catalog": req.catalog,
        "location": location,
        "lineage": {
            k[len(LINEAGE_PREFIX) :]: v
            for k, v in props.items()
            if k.startswith(LINEAGE_PREFIX) and k != LINEAGE_PREFIX + "columns"
        },
        "snapshot_id": snap.get("snapshot_id"),
        "rows": int(snap.get("summary", {}).get("total-records", 0)) if snap else 0,
        "legal_hold": legal_hold,
        "retention_until": retention_until.isoformat() if retention_until else None,
        "as_of": as_of.isoformat(),
        "refusal_reasons": reasons,
        "forced_reason": req.force_reason if reasons else None,
        "decided_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if reasons and not req.force_reason:
        record.update(status="refused", files_before=None, files_remaining=None)
        record["audit_record"] = _write_audit(spark, req, record)
        record["seconds"] = round(time.monotonic() - started, 3)
        return record

    files_before = list_files(spark, location)
    spark.sql(f"DROP TABLE {ident} PURGE")
    left_by_drop = list_files(spark, location)
    if left_by_drop:  # data files of killed writes are not in any snapshot, so DROP cannot see them
        delete_tree(spark, location)
    remaining = list_files(spark, location)
    record.update(
        status="purged" if not remaining else "incomplete",
        files_before=len(files_before),
        files_removed_after_drop=len(left_by_drop),
        files_remaining=len(remaining),
        purged_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    record["audit_record"] = _write_audit(spark, req, record)
    record["seconds"] = round(time.monotonic() - started, 3)
    if remaining:
        raise OffloadError(
            "files_remain", f"{len(remaining)} files remain at {location} after the purge", remaining=remaining[:20]
        )
    return record


def _write_audit(spark, req: PurgeRequest, record: dict) -> str | None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = record_path(
        req.audit_path, f"{req.database}.{req.archive_table}.{stamp}.{record['status']}.purge-audit.json"
    )
    return write_json(spark, path, {k: v for k, v in record.items() if k != "audit_record"}) if path else None
