"""Resolves a work unit's credential reference (``source.credentials``) into a user and password.

The reference is built by the control plane (tools/src/work/credential-ref.ts) and lists the places
to look, in order; the first that has the credentials wins — the same order as discovery
(tools/src/catalog/credentials.ts), so a database that discovers also archives with nothing re-typed:

  env              ``<prefix>USER`` and ``<prefix>PASSWORD`` (both or neither); ``<prefix>URL`` is
                   reported as ``url`` (the planner already applied it to the unit's host/port)
  local_file       YAML ``databases: {<key>: {user, password, url?}}`` (``section: cleanup``: the
                   ``cleanup:`` mapping, the privileged source-cleanup credential); ``$OFFLOAD_CREDENTIALS_FILE``
                   replaces the paths (and must then be readable)
  secrets_manager  JSON with ``username`` (or ``user``) and ``password``, optionally ``host``/``port``
  glue_connection  the user and password AWS Glue resolves for the connection (on Glue only)

tools/test/fixtures/credential-vectors.json holds this module and the TypeScript one to the same
answers (glue/tests/test_credentials.py, tools/test/work/credentials-vectors.test.ts). Values are
never logged; ``origin`` says where they came from.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .errors import OffloadError


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    origin: str  # "env" | "local_file" | "secrets_manager" | "glue_connection" (never the values)
    url: str | None = None
    host: str | None = None
    port: int | None = None


def _no_credentials(message: str) -> OffloadError:
    return OffloadError("no_credentials", message)


def _from_env(src: dict, env: Mapping[str, str]) -> Credentials | None:
    p = src["prefix"]
    user, password = env.get(f"{p}USER"), env.get(f"{p}PASSWORD")
    if user is None and password is None:
        return None
    if user is None or password is None:
        raise _no_credentials(f"set both {p}USER and {p}PASSWORD (only one is set)")
    return Credentials(user, password, "env", url=env.get(f"{p}URL") or None)


def _from_file(src: dict, env: Mapping[str, str]) -> Credentials | None:
    import yaml

    forced = env.get("OFFLOAD_CREDENTIALS_FILE")
    home = env.get("HOME") or os.path.expanduser("~")
    paths = [forced] if forced else [os.path.join(home, p[2:]) if p.startswith("~/") else p for p in src["paths"]]
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError:
            if forced:
                raise _no_credentials(f"credentials file {path} (OFFLOAD_CREDENTIALS_FILE) cannot be read") from None
            continue
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            first = str(exc).splitlines()[0] if str(exc) else "syntax error"
            raise _no_credentials(f"credentials file {path} is not valid YAML: {first}") from None
        section = src.get("section") or "databases"  # `cleanup`: the privileged cleanup credential
        entry = (doc.get(section) or {}).get(src["key"]) if isinstance(doc, dict) else None
        if not entry:
            continue
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("user"), str)
            or not isinstance(entry.get("password"), str)
        ):
            raise _no_credentials(f'credentials file {path}: {section}.{src["key"]} needs string "user" and "password"')
        if os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            import warnings

            warnings.warn(f"credentials file {path} is readable by other users (chmod 600 it)", stacklevel=2)
        url = entry.get("url")
        return Credentials(entry["user"], entry["password"], "local_file", url=url if isinstance(url, str) else None)
    return None


def _from_secret(src: dict, env: Mapping[str, str]) -> Credentials:
    import boto3

    secret_id = src["secret_id"]
    m = re.match(r"^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):", secret_id)
    region = (m and m.group(1)) or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or src.get("region")
    try:
        client = boto3.client("secretsmanager", **({"region_name": region} if region else {}))
        out = client.get_secret_value(SecretId=secret_id)
        text = out.get("SecretString") or (out.get("SecretBinary") or b"").decode("utf-8")
    except Exception as exc:  # noqa: BLE001 — any failure to read the secret is the user's to fix
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _no_credentials(
            f'Secrets Manager secret "{secret_id}" could not be read ({type(exc).__name__}: {first})'
        ) from None
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise _no_credentials(f'secret "{secret_id}" is not JSON with "username" and "password"')
    user = doc.get("username", doc.get("user"))
    if not isinstance(user, str) or not isinstance(doc.get("password"), str):
        raise _no_credentials(f'secret "{secret_id}" lacks string "username" and "password"')
    try:
        port = int(doc.get("port"))
    except (TypeError, ValueError):
        port = None
    return Credentials(
        user,
        doc["password"],
        "secrets_manager",
        host=doc["host"] if isinstance(doc.get("host"), str) else None,
        port=port if port and port > 0 else None,
    )


def glue_connection_conf(name: str, spark=None, env: Mapping[str, str] | None = None) -> dict:
    """``{url, user, password}`` of a Glue connection: through GlueContext on Glue; elsewhere (local
    Spark against AWS or an emulator) through the Glue API: ``JDBC_CONNECTION_URL`` with ``USERNAME`` /
    ``PASSWORD`` or with ``SECRET_ID`` (the shape ``offload sync`` writes), the secret read from
    Secrets Manager."""
    env = os.environ if env is None else env
    try:
        from awsglue.context import GlueContext
    except ImportError:
        GlueContext = None  # noqa: N806
    if GlueContext is not None and spark is not None:
        conf = GlueContext(spark.sparkContext).extract_jdbc_conf(name)
        return {"url": conf.get("fullUrl") or conf["url"], "user": conf["user"], "password": conf["password"]}
    import boto3

    try:
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        glue = boto3.client("glue", **({"region_name": region} if region else {}))
        props = glue.get_connection(Name=name, HidePassword=False)["Connection"].get("ConnectionProperties", {})
    except Exception as exc:  # noqa: BLE001 — a connection that cannot be read is the user's to fix
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _no_credentials(f"Glue connection {name!r} could not be read ({type(exc).__name__}: {first})") from None
    url = props.get("JDBC_CONNECTION_URL")
    if not url:
        raise _no_credentials(f"Glue connection {name!r} has no JDBC_CONNECTION_URL")
    if props.get("USERNAME") and props.get("PASSWORD"):
        return {"url": url, "user": props["USERNAME"], "password": props["PASSWORD"]}
    if props.get("SECRET_ID"):
        found = _from_secret({"secret_id": props["SECRET_ID"]}, env)
        return {"url": url, "user": found.user, "password": found.password}
    raise _no_credentials(f"Glue connection {name!r} has neither USERNAME/PASSWORD nor SECRET_ID")


def _from_glue(src: dict, spark) -> Credentials:
    conf = glue_connection_conf(src["name"], spark)
    return Credentials(conf["user"], conf["password"], "glue_connection")


def resolve_credentials(ref: dict, env: Mapping[str, str] | None = None, spark=None) -> Credentials:
    """The first credential source of ``ref`` that has them; raises ``no_credentials`` naming every
    place looked at. An environment ``<prefix>URL`` is reported with whatever source wins (as discovery does)."""
    env = os.environ if env is None else env
    env_url: str | None = None
    looked: list[str] = []
    for src in ref["sources"]:
        kind = src["kind"]
        if kind == "env":
            found = _from_env(src, env)
            env_url = env.get(f"{src['prefix']}URL") or None
            looked.append(f"{src['prefix']}USER/{src['prefix']}PASSWORD")
        elif kind == "local_file":
            found = _from_file(src, env)
            looked.append(env.get("OFFLOAD_CREDENTIALS_FILE") or " or ".join(src["paths"]))
        elif kind == "secrets_manager":
            found = _from_secret(src, env)
        elif kind == "glue_connection":
            found = _from_glue(src, spark)
        else:
            raise _no_credentials(f"unknown credential source kind {kind!r}")
        if found is not None:
            # An environment URL overrides whatever source gave the user and password (as in discovery).
            return replace(found, url=env_url) if env_url else found
    raise _no_credentials(f"no credentials for database {ref['name']}: looked at {', '.join(looked)}")
