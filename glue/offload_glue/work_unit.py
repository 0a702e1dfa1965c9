"""Work units: the jobs' arguments from one JSON document the control plane wrote.

A work unit (schema/work-unit.schema.json, built by tools/src/work/units.ts) carries everything a job
needs, resolved once in TypeScript: the engine, host/port/database (never a JDBC URL to parse here),
the exact source names, the archive namespace and table name, the partition spec, the retention end,
the legal hold, the validation settings, the run id and a credential reference (never a password).
``--work_unit <file|s3://bucket/key>`` fills the job's arguments from it; an argument given on the
command line as well must agree with the unit (else the job refuses: two answers to one question).
Runtime arguments — warehouse, catalog type, read path, partitions, result and audit paths, forced
reasons — stay on the command line.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache

from .credentials import resolve_credentials
from .engines import Connection
from .errors import OffloadError

# Where the schema is found: the repository's schema/ (local runs), or next to the package (bundled
# into the job's --extra-py-files zip on Glue), or $OFFLOAD_SCHEMA_DIR.
_HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_FILE = "work-unit.schema.json"
SCHEMA_CANDIDATES = (os.path.join(_HERE, "..", "..", "schema"), os.path.join(_HERE, "schema"))

# The job each action runs in, and the engines the data plane reads (the others are planned, not run).
JOB_OF_ACTION = {"archive": "archive", "validate": "validate", "purge": "purge", "cleanup_source": "cleanup_source"}
ENGINE_ALIASES = {"postgres": "postgresql", "postgresql": "postgresql", "mysql": "mysql", "mariadb": "mariadb"}


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    dirs = [os.environ["OFFLOAD_SCHEMA_DIR"]] if os.environ.get("OFFLOAD_SCHEMA_DIR") else list(SCHEMA_CANDIDATES)
    for d in dirs:
        path = os.path.join(d, SCHEMA_FILE)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                return Draft202012Validator(json.load(fh))
    import pkgutil

    try:  # packaged: the schema travels inside offload_glue.zip (scripts/package-glue.sh)
        data = pkgutil.get_data("offload_glue", f"schema/{SCHEMA_FILE}")
    except OSError:
        data = None
    if data:
        return Draft202012Validator(json.loads(data.decode("utf-8")))
    raise OffloadError(
        "missing_schema", f"{SCHEMA_FILE} not found in {', '.join(dirs)} (set OFFLOAD_SCHEMA_DIR to the schema/ folder)"
    )


def validate_work_unit(doc, where: str = "work unit") -> dict:
    """Returns ``doc`` when it matches the schema; raises ``bad_work_unit`` listing every problem."""
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors[:20]]
        raise OffloadError("bad_work_unit", f"{where} does not match {SCHEMA_FILE}: " + "; ".join(lines))
    return doc


def _read(ref: str) -> str:
    if ref.startswith("s3://"):
        import boto3

        bucket, _, key = ref[5:].partition("/")
        if not bucket or not key:
            raise OffloadError("bad_work_unit", f"work unit location {ref!r} is not s3://bucket/key")
        try:
            return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        except Exception as exc:  # noqa: BLE001 — unreadable input is the user's to fix
            raise OffloadError("bad_work_unit", f"work unit {ref} cannot be read: {exc}") from None
    try:
        with open(ref, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise OffloadError("bad_work_unit", f"work unit file {ref} cannot be read: {exc.strerror}") from None


def load_work_unit(ref: str) -> dict:
    """Reads a work unit from a file or ``s3://`` URI and checks it against the schema."""
    try:
        doc = json.loads(_read(ref))
    except ValueError as exc:
        raise OffloadError("bad_work_unit", f"work unit {ref} is not JSON: {exc}") from None
    return validate_work_unit(doc, f"work unit {ref}")


def partition_spec_text(fields: list[dict]) -> str | None:
    """The archive job's ``--partition_spec`` text for the unit's structured partition fields."""
    parts = []
    for f in fields:
        col, t = "`" + f["column"].replace("`", "``") + "`", f["transform"]
        if t == "identity":
            parts.append(col)
        elif t in ("bucket", "truncate"):
            parts.append(f"{t}({f['width']}, {col})")
        else:
            parts.append(f"{t}s({col})")  # year → years(col), month → months(col), …
    return ", ".join(parts) or None


def job_arguments(unit: dict, job: str) -> dict[str, str]:
    """The job's Glue-style arguments the unit answers (strings, as on the command line)."""
    if JOB_OF_ACTION[unit["action"]] != job:
        raise OffloadError(
            "wrong_job",
            f"work unit {unit['id']} is a {unit['action']} unit; run it with the {JOB_OF_ACTION[unit['action']]} job",
        )
    src, arc, pol, val = unit["source"], unit["archive"], unit["policy"], unit["validation"]
    common = {"catalog": arc["catalog"], "archive_database": arc["namespace"], "archive_table": arc["table"]}
    hold = "true" if pol["legal_hold"]["enabled"] else "false"
    if job == "archive":
        out = {
            **common,
            "source_schema": src["schema"],
            "source_table": src["table"],
            "run_id": unit["run_id"],
            "config_commit": unit["config_commit"],
            "policy": pol["name"],
            "legal_hold": hold,
        }
        if pol["legal_hold"].get("reason"):
            out["legal_hold_reason"] = pol["legal_hold"]["reason"]
        if pol["retention_end"]:
            out["retention_until"] = pol["retention_end"]
        spec = partition_spec_text(arc["partition_spec"])
        if spec:
            out["partition_spec"] = spec
        return out
    if job == "validate":
        out = {
            **common,
            "source_schema": src["schema"],
            "source_table": src["table"],
            "sample_percent": str(val["sample_percent"] if val["row_hash"] != "none" else 100),
            "max_reported_keys": str(val["max_reported_mismatches"]),
        }
        if arc.get("run_id"):
            out["run_id"] = arc["run_id"]
        return out
    if job == "purge":
        out = {**common, "legal_hold": hold, "run_id": unit["run_id"]}
        if pol["retention_end"]:
            out["retention_until"] = pol["retention_end"]
        return out
    if job == "cleanup_source":
        cleanup = unit.get("cleanup")
        if not cleanup:
            raise OffloadError("bad_work_unit", f"cleanup_source unit {unit['id']} has no cleanup phase and credential")
        out = {
            **common,
            "source_schema": src["schema"],
            "source_table": src["table"],
            "phase": cleanup["phase"],
            "legal_hold": hold,
            "run_id": unit["run_id"],
        }
        if pol.get("grace_period"):
            out["grace_period"] = pol["grace_period"]
        return out
    raise OffloadError("wrong_job", f"no job runs {unit['action']} units yet")


def apply_work_unit(args: dict, job: str) -> dict:
    """Fills ``args`` from the unit named by ``args['work_unit']``; refuses a command-line argument that
    disagrees with the unit. The loaded unit is kept under ``args['_work_unit']`` (see ``unit_connection``)."""
    unit = load_work_unit(args["work_unit"])
    wanted = job_arguments(unit, job)
    clashes = [k for k, v in wanted.items() if k in args and str(args[k]) != v]
    # Source coordinates come only from the unit: a second set on the command line is a mistake.
    clashes += [k for k in ("source_engine", "source_host", "source_port", "source_database", "source_user",
                            "connection_name", "secret_id") if args.get(k)]  # fmt: skip
    if clashes:
        raise OffloadError(
            "conflicting_arguments",
            f"--work_unit {args['work_unit']} already sets {', '.join('--' + c for c in sorted(set(clashes)))}; "
            "drop them from the command line (or plan a new unit)",
        )
    return {**args, **wanted, "_work_unit": unit}


def unit_connection(unit: dict, spark=None, env=None) -> Connection:
    """The source connection of a unit: its resolved address and the credentials its reference finds
    (a Secrets Manager secret's host/port replace the unit's, as in discovery)."""
    src = unit["source"]
    engine = ENGINE_ALIASES.get(src["engine"])
    if engine is None:
        raise OffloadError(
            "unsupported_engine",
            f"the data-plane jobs read PostgreSQL, MySQL and MariaDB; {src['engine']} tables are planned but not run",
        )
    creds = resolve_credentials(src["credentials"], env=env, spark=spark)
    return Connection(
        engine, creds.host or src["host"], creds.port or int(src["port"]), src["database"], creds.user, creds.password
    )


def unit_cleanup_connection(unit: dict, spark=None, env=None) -> Connection:
    """The privileged cleanup connection of a cleanup_source unit: the same address as the source, the
    credentials its own reference (``cleanup.credentials``) finds — never the read reference's."""
    src = unit["source"]
    engine = ENGINE_ALIASES.get(src["engine"])
    if engine is None:
        raise OffloadError("unsupported_engine", f"source cleanup does not run on {src['engine']} tables")
    creds = resolve_credentials(unit["cleanup"]["credentials"], env=env, spark=spark)
    return Connection(
        engine, creds.host or src["host"], creds.port or int(src["port"]), src["database"], creds.user, creds.password
    )
