"""The shell around the pure jobs: Glue-style arguments in, one JSON summary out, an exit code.

Arguments are parsed with ``awsglue.utils.getResolvedOptions`` on Glue and with an argparse
fallback taking the same ``--name value`` pairs elsewhere. Exit codes: 0 success, 1 validation
mismatch, 2 refusal or user error (a JSON ``error`` object says which), 3 a bug.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import traceback

from .engines import Connection, engine_for
from .errors import OffloadError

COMMON = ["catalog", "catalog_type", "warehouse", "archive_database"]
SOURCE = [
    "source_engine",
    "source_host",
    "source_port",
    "source_database",
    "source_user",
    "source_password_env",
    "connection_name",
    "secret_id",
]
DEFAULTS = {
    "catalog": "offload",
    "catalog_type": "hadoop",
    "archive_database": "archive",
    "source_password_env": "OFFLOAD_SOURCE_PASSWORD",
}


def resolve_args(argv: list[str], required: list[str], optional: list[str], job: str | None = None) -> dict:
    """``job`` (archive, validate, purge) enables ``--work_unit <file|s3 uri>``, which fills the arguments
    (see work_unit.py); the required ones may then come from the unit."""
    needed = required
    unit_mode = job is not None and any(a == "--work_unit" or a.startswith("--work_unit=") for a in argv)
    if job is not None:
        optional = [*optional, "work_unit"]
    if unit_mode:
        required, optional = [], [*required, *optional]
    try:
        from awsglue.utils import getResolvedOptions  # only on Glue
    except ImportError:
        parser = argparse.ArgumentParser(allow_abbrev=False)
        parser.add_argument("--JOB_NAME", default="local")
        for name in required:
            parser.add_argument(f"--{name}", required=True)
        for name in optional:
            parser.add_argument(f"--{name}", default=None)
        args, _unknown = parser.parse_known_args(argv[1:])  # Glue adds its own (--job-bookmark-option, …)
        values = vars(args)
    else:
        present = [o for o in optional if f"--{o}" in argv]
        values = getResolvedOptions(argv, ["JOB_NAME", *required, *present])
    out = {k: v for k, v in values.items() if v is not None}
    if unit_mode:
        from .work_unit import apply_work_unit

        out = apply_work_unit(out, job)
        missing = [n for n in needed if n not in out]
        if missing:
            raise OffloadError("missing_arguments", f"missing arguments: {', '.join('--' + n for n in missing)}")
    for k, v in DEFAULTS.items():
        out.setdefault(k, v)
    return out


def parse_jdbc_url(url: str) -> tuple[str, str, int, str]:
    m = re.match(r"jdbc:(postgresql|mysql|mariadb)://([^:/?]+)(?::(\d+))?/?([^?]*)", url)
    if not m:
        raise OffloadError("bad_jdbc_url", f"cannot parse JDBC URL {url!r}")
    engine = "postgresql" if m.group(1) == "postgresql" else "mysql"
    port = int(m.group(3) or engine_for(engine).default_port)
    return engine, m.group(2), port, m.group(4)


def source_connection(args: dict, spark=None) -> Connection:
    """From a Glue connection, a Secrets Manager secret or plain arguments plus a password taken from
    the environment variable named by --source_password_env (never from the command line); or from
    the work unit's resolved address and credential reference (--work_unit)."""
    if args.get("_work_unit"):
        from .work_unit import unit_connection

        return unit_connection(args["_work_unit"], spark)
    engine, host, port, database = (
        args.get("source_engine"),
        args.get("source_host"),
        args.get("source_port"),
        args.get("source_database"),
    )
    user, password = args.get("source_user"), None
    if args.get("connection_name"):
        from .credentials import glue_connection_conf

        conf = glue_connection_conf(args["connection_name"], spark)
        url = conf["url"]
        engine, host, port, parsed_db = parse_jdbc_url(url)
        database = database or parsed_db
        user, password = conf["user"], conf["password"]
    elif args.get("secret_id"):
        import boto3

        secret = json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=args["secret_id"])["SecretString"])
        user, password = secret.get("username", user), secret["password"]
        host = host or secret.get("host")
        port = port or secret.get("port")
        database = database or secret.get("dbname")
        engine = engine or secret.get("engine")
    else:
        password = os.environ.get(args["source_password_env"], "")
    missing = [
        n
        for n, v in (
            ("source_engine", engine),
            ("source_host", host),
            ("source_database", database),
            ("source_user", user),
        )
        if not v
    ]
    if missing:
        raise OffloadError("missing_arguments", f"missing source arguments: {', '.join(missing)}")
    engine = "postgresql" if engine.lower() in ("postgres", "postgresql") else engine.lower()
    port = int(port or engine_for(engine).default_port)
    return Connection(engine, host, port, database, user, password or "")


def spark_for(args: dict, app_name: str):
    from .session import get_spark

    if "warehouse" not in args:
        raise OffloadError("missing_arguments", "missing --warehouse (s3://bucket/prefix on Glue, a directory locally)")
    return get_spark(args["catalog"], args["catalog_type"], args["warehouse"], app_name=app_name)


def run(main) -> None:
    """Call ``main()`` (which returns (summary, exit_code)), print the JSON summary, exit."""
    try:
        summary, code = main()
    except OffloadError as exc:
        summary, code = {"status": "error", "error": exc.as_dict()}, 2
    except Exception as exc:  # noqa: BLE001 — anything else is a bug, reported as such
        traceback.print_exc()
        summary, code = {"status": "error", "error": {"code": "bug", "message": f"this is a bug: {exc}"}}, 3
    print(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False, default=str), flush=True)
    sys.exit(code)


BOOLEANS = {"true": True, "false": False}  # exactly these spellings: a work unit's JSON booleans as text


def boolean_arg(args: dict, name: str, required: bool = False) -> bool | None:
    """``--name true|false``: exactly ``true`` or ``false`` (not 1/0, yes/no, True); anything else is a
    user error naming the argument. ``None`` when absent and not required."""
    value = args.get(name)
    if value is None:
        if required:
            raise OffloadError("missing_arguments", f"missing --{name} (true or false)", argument=name)
        return None
    if value not in BOOLEANS:
        raise OffloadError("bad_argument", f"--{name} must be true or false (exactly), not {value!r}", argument=name)
    return BOOLEANS[value]


def opt_int(value) -> int | None:
    return int(value) if value not in (None, "") else None


def strict_flag(name: str, value) -> bool:
    """A required boolean argument: exactly ``true`` or ``false`` (see ``boolean_arg``)."""
    return boolean_arg({name: value}, name, required=True)
