"""Ordinary mistakes, told as what to do. The jobs' failures arrive as Python exceptions, Py4J-wrapped
Java exceptions (JDBC drivers, Iceberg, Hadoop) or boto3 errors; ``to_user_error`` turns the known
ones into an ``OffloadError`` with a stable code and advice (exit code 2), naming the database, host,
archive or option concerned. Whatever it does not recognise stays a bug (exit code 3). Stack traces
go to the log file only (see joblog.py).

Codes: missing_arguments, unknown_argument, bad_argument, glue_only_option, aws_credentials_missing,
secret_not_found, aws_unreachable, source_auth_failed, source_unreachable, source_database_not_found,
source_permission_denied, source_table_not_found, archive_not_found, glue_catalog_unavailable,
aws_access_denied.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

from .engines import ENGINES, Engine
from .errors import OffloadError
from .names import archive_table_name


@dataclass(frozen=True)
class Fact:
    """One exception of a cause chain: class name, SQLState, vendor error code, message."""

    cls: str
    state: str = ""
    code: int = 0
    message: str = ""


def _java_facts(jexc) -> list[Fact]:
    out, seen = [], 0
    while jexc is not None and seen < 12:
        seen += 1
        try:
            cls = jexc.getClass().getName()
            msg = jexc.getMessage() or ""
            state, code = "", 0
            if hasattr(jexc, "getSQLState"):
                try:
                    state, code = jexc.getSQLState() or "", int(jexc.getErrorCode())
                except Exception:  # noqa: BLE001 — not an SQLException after all
                    pass
            out.append(Fact(cls, state, code, str(msg)))
            nxt = jexc.getCause()
            jexc = None if nxt is None or nxt.equals(jexc) else nxt
        except Exception:  # noqa: BLE001 — a dead gateway: keep what we have
            break
    return out


def facts(exc: BaseException) -> list[Fact]:
    """The exception, its Python causes and, for Java exceptions, their Java cause chains."""
    out, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        jexc = getattr(exc, "java_exception", None) or getattr(exc, "_origin", None)
        if jexc is not None:
            out.extend(_java_facts(jexc))
        else:
            out.append(Fact(type(exc).__module__ + "." + type(exc).__name__, message=str(exc)))
        exc = exc.__cause__ or exc.__context__
    return out


def first_line(exc: BaseException) -> str:
    """A one-line description, without Java stack frames (for bug reports on the terminal)."""
    fs = facts(exc)
    if fs and fs[0].cls.startswith(("java.", "org.", "com.", "software.", "scala.")):
        text = f"{fs[0].cls}: {fs[0].message}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text.strip().splitlines()[0][:500] if text.strip() else type(exc).__name__


# ---- the source connection --------------------------------------------------------------------
def _unit_source(args: dict) -> dict | None:
    unit = args.get("_work_unit")
    return unit.get("source") if isinstance(unit, dict) else None


def _where(args: dict) -> str:
    unit = _unit_source(args)
    if unit:  # --work_unit: the address the control plane resolved
        return f"{unit.get('engine')} database {unit.get('database')!r} at {unit.get('host')}:{unit.get('port')}"
    engine = (args.get("source_engine") or "").lower()
    label = ENGINES.get("postgresql" if engine == "postgres" else engine, Engine()).label
    if args.get("connection_name"):
        return f"{label} of Glue connection {args['connection_name']!r}"
    if args.get("secret_id") and not args.get("source_host"):
        return f"{label} of secret {args['secret_id']!r}"
    port = args.get("source_port") or ("3306" if label.startswith("MySQL") else "5432")
    return f"{label} at {args.get('source_host')}:{port}"


def _user(args: dict) -> str:
    return repr(args["source_user"]) if args.get("source_user") else "the configured user"


def _password_advice(args: dict) -> str:
    unit = _unit_source(args)
    if unit:
        name = (unit.get("credentials") or {}).get("name", "?")
        return (
            f"check the credentials the work unit finds for database {name!r} (in order: the OFFLOAD_DB_..._USER "
            "and _PASSWORD variables, .offload/credentials.yaml, its secret or Glue connection)"
        )
    if args.get("connection_name"):
        return "check the user and password of the Glue connection"
    if args.get("secret_id"):
        return "check username and password in the secret"
    env = args.get("source_password_env") or "OFFLOAD_SOURCE_PASSWORD"
    if not os.environ.get(env):
        return f"the environment variable {env} (named by --source_password_env) is not set: export the password in it"
    return f"check --source_user and the password in the environment variable {env} (named by --source_password_env)"


def _any(fs: list[Fact], pred) -> Fact | None:
    return next((f for f in fs if pred(f)), None)


def _auth(fs):
    return _any(
        fs,
        lambda f: (
            f.state in ("28P01", "28000")
            or f.code in (1045, 1698)
            or "password authentication failed" in f.message
            or "authentication, but no password was provided" in f.message
            or "authentication, but the password is an empty string" in f.message
            or "Access denied for user" in f.message
            and "to database" not in f.message
        ),
    )


def _unreachable(fs):
    return _any(
        fs,
        lambda f: (
            f.cls
            in (
                "java.net.ConnectException",
                "java.net.UnknownHostException",
                "java.net.NoRouteToHostException",
                "java.net.SocketTimeoutException",
            )
            or (f.state.startswith("08") and ("refused" in f.message or "Socket fail to connect" in f.message))
            or "The connection attempt failed" in f.message
        ),
    )


def _aws_unreachable(fs):
    """An AWS SDK call that found no endpoint (checked before the source rules: same Java exceptions)."""
    aws = _any(fs, lambda f: f.cls.startswith("software.amazon.awssdk") or "amazonaws.com" in f.message)
    return aws and _any(
        fs,
        lambda f: (
            f.cls in ("java.net.ConnectException", "java.net.UnknownHostException")
            or "Unable to execute HTTP request" in f.message
        ),
    )


def _db_missing(fs):
    return _any(fs, lambda f: f.state == "3D000" or f.code == 1049)


def _denied(fs):
    return _any(fs, lambda f: f.state == "42501" or f.code in (1044, 1142, 1143))


def _table_missing_iceberg(fs):
    return _any(
        fs,
        lambda f: (
            f.cls.endswith(("NoSuchTableException", "NoSuchNamespaceException"))
            or "TABLE_OR_VIEW_NOT_FOUND" in f.message
        ),
    )


def _glue_catalog_classes(fs):
    return _any(
        fs,
        lambda f: (
            ("GlueCatalog" in f.message or "S3FileIO" in f.message or "software.amazon.awssdk" in f.message)
            and ("ClassNotFound" in f.cls or "Cannot initialize" in f.message or "NoClassDefFound" in f.cls)
        ),
    )


def _aws_no_credentials(fs):
    return _any(
        fs,
        lambda f: (
            f.cls.endswith(("NoCredentialsError", "NoRegionError", "SdkClientException"))
            and ("credential" in f.message.lower() or "region" in f.message.lower())
        ),
    )


def _aws_denied(fs):
    return _any(fs, lambda f: "AccessDenied" in f.message or f.cls.endswith("AccessDeniedException"))


def _secret_missing(fs):
    return _any(fs, lambda f: "ResourceNotFoundException" in f.message or f.cls.endswith("ResourceNotFoundException"))


def archive_names(args: dict) -> tuple[str, str]:
    """(archive database, archive table) the arguments imply."""
    name = args.get("archive_table")
    if not name and args.get("source_schema") and args.get("source_table"):
        name = archive_table_name(args["source_schema"], args["source_table"])
    return args.get("archive_database") or "archive", name or "?"


def _catalog_where(args: dict) -> str:
    kind = args.get("catalog_type", "hadoop")
    return f"catalog {args.get('catalog', 'offload')} ({kind}, warehouse {args.get('warehouse')})"


def archive_missing_advice(args: dict, job: str) -> str:
    db, table = archive_names(args)
    if job == "purge":
        return (
            f"no archive {db}.{table} in {_catalog_where(args)}: nothing to purge. Check --archive_table, "
            "--archive_database and --warehouse"
        )
    return (
        f"no archive {db}.{table} in {_catalog_where(args)}. Create it first with archive_table.py and the same "
        f"source arguments (--source_schema {args.get('source_schema')} --source_table {args.get('source_table')}, "
        "a --run_id), or point --warehouse, --archive_database or --archive_table at the existing archive"
    )


# (code, test over the facts, message(args, job)) — the first match wins
RULES = [
    (
        "aws_unreachable",
        _aws_unreachable,
        lambda a, j: (
            "cannot reach AWS (the Glue Data Catalog or S3): check the network, AWS_REGION and any "
            "AWS_ENDPOINT_URL override; locally use --catalog_type hadoop --warehouse <directory>"
        ),
    ),
    (
        "source_database_not_found",
        _db_missing,
        lambda a, j: (
            f"database {a.get('source_database')!r} does not exist on {_where(a)}: check --source_database "
            "(PostgreSQL: the database; the schema goes to --source_schema)"
        ),
    ),
    (
        "source_auth_failed",
        _auth,
        lambda a, j: f"{_where(a)} refused the login of user {_user(a)}: {_password_advice(a)}",
    ),
    (
        "source_unreachable",
        _unreachable,
        lambda a, j: (
            f"cannot connect to {_where(a)}: check --source_host and --source_port, that the server runs "
            "and that it accepts TCP connections from this machine"
        ),
    ),
    (
        "source_permission_denied",
        _denied,
        lambda a, j: (
            f"user {_user(a)} may not read {a.get('source_schema')}.{a.get('source_table')} "
            f"on {_where(a)}: grant it SELECT on the table (PostgreSQL: and USAGE on the schema), "
            "or use a user that has it"
        ),
    ),
    ("archive_not_found", _table_missing_iceberg, lambda a, j: archive_missing_advice(a, j)),
    (
        "glue_catalog_unavailable",
        _glue_catalog_classes,
        lambda a, j: (
            "--catalog_type glue needs Iceberg's AWS classes (iceberg-aws-bundle): on Glue pass "
            "--datalake-formats iceberg; locally use --catalog_type hadoop with a warehouse directory"
        ),
    ),
    (
        "aws_credentials_missing",
        _aws_no_credentials,
        lambda a, j: (
            "AWS credentials or region not found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY) and AWS_REGION, or run on Glue"
        ),
    ),
    (
        "secret_not_found",
        _secret_missing,
        lambda a, j: (
            f"Secrets Manager has no secret {a.get('secret_id')!r} in this account and region: "
            "check --secret_id and AWS_REGION"
        ),
    ),
    (
        "aws_access_denied",
        _aws_denied,
        lambda a, j: (
            "AWS denied the request: the job's role (or your AWS credentials) needs access to the "
            "secret, the Glue catalog and the warehouse bucket"
        ),
    ),
]


def to_user_error(exc: BaseException, args: dict, job: str) -> OffloadError | None:
    """An OffloadError for an ordinary mistake behind ``exc``, or None (a bug)."""
    fs = facts(exc)
    for code, test, message in RULES:
        hit = test(fs)
        if hit is not None:
            cause = f"{hit.cls.rsplit('.', 1)[-1]}: {hit.message}".strip().splitlines()[0][:300]
            return OffloadError(code, message(args, job), cause=cause)
    return None


# Advice added to errors the jobs raise themselves (their message says what; this says what to do).
ADVICE = {
    "archive_not_found": lambda a, j: archive_missing_advice(a, j),
    "source_table_not_found": lambda a, j: (
        f"check --source_schema and --source_table (exact, case-sensitive "
        f"names) and that user {_user(a)} can see the table on {_where(a)}"
    ),
    "missing_arguments": lambda a, j: "give them on the command line; see --help",
}


def advise(err: OffloadError, args: dict, job: str) -> OffloadError:
    if err.code in ADVICE and "hint" not in err.details:
        try:
            err.details["hint"] = ADVICE[err.code](args, job)
        except Exception:  # noqa: BLE001 — advice must never hide the error itself
            pass
    return err


# ---- options that need AWS ---------------------------------------------------------------------
def on_glue() -> bool:
    return importlib.util.find_spec("awsglue") is not None


def aws_credentials_found() -> bool:
    try:
        import boto3
    except ImportError:
        return False
    try:
        return boto3.Session().get_credentials() is not None
    except Exception:  # noqa: BLE001 — a broken profile is as good as none
        return False


def check_glue_only(args: dict) -> None:
    """Off Glue, refuse the options that need AWS (a Glue connection, a secret, the Glue catalog) when no AWS
    credentials are found, before anything starts."""
    if on_glue():
        return
    # off Glue a Glue connection is read through the Glue API (credentials.glue_connection_conf)
    aws_options = ("connection_name", "secret_id", "cleanup_connection_name", "cleanup_secret_id")
    needs_aws = [o for o in aws_options if args.get(o)]
    if (args.get("catalog_type") or "").lower() == "glue":
        needs_aws.append("catalog_type glue")
    if needs_aws and not aws_credentials_found():
        raise OffloadError(
            "glue_only_option",
            f"--{' and --'.join(needs_aws)} need{'s' if len(needs_aws) == 1 else ''} AWS, and no AWS credentials "
            "were found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and AWS_REGION, or run "
            "locally with --catalog_type hadoop --warehouse <directory> and the --source_* options",
            argument=needs_aws[0].split()[0],
        )
