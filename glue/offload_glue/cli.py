"""The shell around the pure jobs: Glue-style arguments in, one JSON summary out, an exit code.

Arguments are parsed with ``awsglue.utils.getResolvedOptions`` on Glue and with an argparse
fallback taking the same ``--name value`` pairs elsewhere. Exit codes: 0 success, 1 validation
mismatch, 2 refusal or user error (a JSON ``error`` object says which), 3 a bug.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
import traceback

from . import joblog, options, timings, user_errors
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


SHELL = ["log_file", "verbose"]  # every job: where its Spark/JVM output goes
ALWAYS_REQUIRED = ["warehouse"]  # listed in COMMON for every job, but no job runs without it

# the job and its resolved arguments, for the error advice of run()
_CONTEXT: dict = {"job": None, "args": {}, "shell": False}


def job_name(argv: list[str]) -> str:
    """archive_table.py -> archive."""
    base = os.path.basename(argv[0]) if argv else "job"
    return base.removesuffix(".py").removesuffix("_table") or "job"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print usage and exit; the shell reports it as JSON
        raise OffloadError("bad_argument", f"{message}; see {self.prog} --help")


def _description() -> str:
    """The job file's docstring up to its argument list (which --help replaces)."""
    doc = getattr(sys.modules.get("__main__"), "__doc__", None) or ""
    return doc.split("\nArguments")[0].strip()


def _unknown_arguments(tokens: list[str], known: list[str]) -> tuple[list[str], list[str]]:
    """Unknown options among argparse's leftovers (each told with a suggestion, and their names); Glue's
    own are skipped with their values."""
    problems, names, skipping_values = [], [], False
    for token in tokens:
        if not token.startswith("-"):
            if not skipping_values:
                problems.append(f"unexpected value {token!r}")
                names.append(token)
            continue
        name = token.lstrip("-").split("=", 1)[0]
        skipping_values = options.is_glue_arg(name)
        if skipping_values:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        problems.append(f"unknown argument --{name}" + (f" (did you mean --{close[0]}?)" if close else ""))
        names.append(f"--{name}")
        skipping_values = True  # its value is part of the same mistake
    return problems, names


def _parse_local(argv: list[str], required: list[str], optional: list[str]) -> dict:
    prog = os.path.basename(argv[0]) if argv else "job"
    parser = _Parser(
        prog=prog,
        description=_description(),
        allow_abbrev=False,
        formatter_class=lambda prog: argparse.RawDescriptionHelpFormatter(prog, max_help_position=32),
        epilog="Glue's own arguments (--JOB_NAME, --job-bookmark-option, --TempDir, --enable-..., see "
        "offload_glue/options.py) are accepted and ignored. Exit codes: 0 success, 1 validation mismatch, "
        "2 refusal or user error, 3 a bug.",
    )
    parser.add_argument("--JOB_NAME", default="local", help="job name (Glue passes it; ignored locally)")
    for name in required:
        parser.add_argument(
            f"--{name}", default=None, metavar=options.metavar(name), help=f"{options.HELP.get(name, '')} (required)"
        )
    for name in optional:
        if name == "verbose":
            parser.add_argument(
                "--verbose", nargs="?", const="true", default=None, metavar="true", help=options.HELP["verbose"]
            )
        else:
            parser.add_argument(
                f"--{name}", default=None, metavar=options.metavar(name), help=options.HELP.get(name, "")
            )
    args, leftovers = parser.parse_known_args(argv[1:])
    problems, names = _unknown_arguments(leftovers, ["JOB_NAME", *required, *optional])
    if problems:
        raise OffloadError("unknown_argument", "; ".join(problems) + f"; see {prog} --help", arguments=names)
    values = vars(args)
    missing = [n for n in required if values.get(n) is None]
    if missing:
        raise OffloadError(
            "missing_arguments",
            "missing " + ", ".join(f"--{n} ({options.HELP.get(n, n)})" for n in missing),
            missing=missing,
        )
    return values


def resolve_args(argv: list[str], required: list[str], optional: list[str], job: str | None = None) -> dict:
    """The job's arguments: Glue's ``getResolvedOptions`` on Glue, else argparse (``--help`` describes every
    option). Unknown options (other than Glue's own), missing required ones and malformed values, and
    options that need AWS used without it, raise an OffloadError saying what to do. ``job`` (archive,
    validate, purge) enables ``--work_unit <file|s3 uri>``, which fills the arguments (see work_unit.py);
    the required ones may then come from the unit."""
    _CONTEXT["job"] = job or job_name(argv)
    unit_mode = job is not None and any(a == "--work_unit" or a.startswith("--work_unit=") for a in argv)
    if not unit_mode:  # (with a unit, spark_for still refuses a missing --warehouse)
        required = [*required, *[n for n in ALWAYS_REQUIRED if n in optional and n not in required]]
    optional = [n for n in optional if n not in required] + [n for n in SHELL if n not in optional]
    needed = required
    if job is not None:
        optional = [*optional, "work_unit"]
    if unit_mode:
        required, optional = [], [*required, *optional]
    try:
        from awsglue.utils import getResolvedOptions  # only on Glue
    except ImportError:
        values = _parse_local(argv, required, optional)
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
    given = {k: v for k, v in values.items() if v is not None}  # a work unit's values are checked by its schema
    bad = [f"--{k} {v!r} {why}" for k, v in given.items() if (why := options.check_value(k, str(v)))]
    if bad:
        raise OffloadError("bad_argument", "; ".join(bad), arguments=[b.split()[0][2:] for b in bad])
    _CONTEXT["args"] = out
    user_errors.check_glue_only(out)
    timings.mark("arguments")
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
    """The job's Spark session. Locally, unless --verbose, the process's output moves to the log file
    first (see joblog.py), so the JVM started here writes its warnings and traces there."""
    from .session import get_spark

    if "warehouse" not in args:
        raise OffloadError("missing_arguments", "missing --warehouse (s3://bucket/prefix on Glue, a directory locally)")
    # only a job run as a program (through run()) moves its output; a caller of main() keeps its own
    if _CONTEXT.get("shell") and args.get("verbose") != "true" and not user_errors.on_glue():
        joblog.start(_CONTEXT["job"] or app_name, args.get("log_file"))
    return get_spark(args["catalog"], args["catalog_type"], args["warehouse"], app_name=app_name)


def _job() -> str:
    return _CONTEXT["job"] or job_name(sys.argv)


def _error_summary(err: OffloadError) -> dict:
    return {"status": "error", "error": err.as_dict()}


def _outcome(main) -> tuple[dict, int]:
    try:
        return main()
    except OffloadError as exc:
        if exc.__cause__ is not None:
            joblog.to_log(traceback.format_exc())
        return _error_summary(user_errors.advise(exc, _CONTEXT["args"], _job())), 2
    except Exception as exc:  # noqa: BLE001 — known mistakes become user errors, anything else is a bug
        joblog.to_log(traceback.format_exc())
        err = user_errors.to_user_error(exc, _CONTEXT["args"], _job())
        if err is not None:
            return _error_summary(err), 2
        message = f"this is a bug: {user_errors.first_line(exc)}"
        return {"status": "error", "error": {"code": "bug", "message": message}}, 3


def run(main) -> None:
    """Call ``main()`` (which returns (summary, exit_code)), print the JSON summary, exit. An ordinary
    mistake exits 2 with a message saying what to do (user_errors.py); anything else is a bug (3).
    Stack traces go to the log file, which the summary names."""
    _CONTEXT["shell"] = True
    first_mark = timings.position()  # a process that ran a job before (tests) must not count its Spark session
    try:
        summary, code = _outcome(main)
    finally:
        _CONTEXT["shell"] = False
    log = joblog.path()
    if log:
        summary["log_file"] = log
    print(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False, default=str), file=joblog.terminal_out())
    joblog.terminal_out().flush()
    timings.mark("summary")
    if timings.marked("spark_session", since=first_mark):  # this run reached Spark; never on a user error's terminal
        joblog.to_log(timings.line())
    if "error" in summary and isinstance(summary["error"], dict):
        e = summary["error"]
        lines = [f"{_job()}: error {e.get('code')}: {e.get('message')}"]
        lines += [f"  {k}: {e[k]}" for k in ("hint", "cause") if e.get(k)]
        if log:
            lines.append(f"  details: {log}")
        print("\n".join(lines), file=joblog.terminal_err(), flush=True)
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
