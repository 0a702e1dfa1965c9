"""One connection story: the jobs resolve a work unit's credential reference as discovery resolves a
database's credentials — the same vector file as tools/test/work/vectors.test.ts, against a moto server
for the Secrets Manager cases."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from offload_glue.credentials import resolve_credentials
from offload_glue.errors import OffloadError

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "tools/test/fixtures/credential-vectors.json").read_text("utf-8")
)
REGION = "eu-west-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_env():
    port = _free_port()
    server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except Exception:  # noqa: BLE001 — not up yet
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.1)
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    yield endpoint, env
    proc.terminate()
    proc.wait(timeout=10)


def _sub(value, names: dict):
    if isinstance(value, str):
        for k, v in names.items():
            value = value.replace("${" + k + "}", v)
        return value
    if isinstance(value, list):
        return [_sub(x, names) for x in value]
    if isinstance(value, dict):
        return {k: _sub(x, names) for k, x in value.items()}
    return value


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_credential_vector(case, tmp_path, moto_env, monkeypatch):
    import boto3

    endpoint, aws_env = moto_env
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    for k, v in aws_env.items():
        monkeypatch.setenv(k, v)  # boto3 reads its endpoint and keys from the process environment
    dirs = {k: tmp_path / k.lower() for k in ("ROOT", "HOME", "OTHER")}
    for d in dirs.values():
        d.mkdir()
    names = {
        **{k: str(v) for k, v in dirs.items()},
        "DATABASE": case["database"],
        "PREFIX": case["prefix"],
        "SECRET": case["secret"],
        "REGION": REGION,
    }
    for rel, body in (case.get("files") or {}).items():
        base, _, rest = rel.partition("/")
        f = dirs[base] / rest
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(body, "utf-8")
        f.chmod(0o600)
    sm = boto3.client("secretsmanager", region_name=REGION)
    for name, value in (case.get("secrets") or {}).items():
        sm.create_secret(Name=name, SecretString=value)
    ref = _sub(VECTORS["reference_template"], names)
    if not case["aws"]:
        ref["sources"] = [s for s in ref["sources"] if s["kind"] != "secrets_manager"]
    env = {"HOME": str(dirs["HOME"]), **aws_env, **_sub(case.get("env") or {}, names)}
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(OffloadError) as info:
            resolve_credentials(ref, env=env)
        assert info.value.code == "no_credentials"
        assert expect["error"] in str(info.value)
        return
    got = resolve_credentials(ref, env=env)
    actual = {"user": got.user, "password": got.password, "source": got.origin}
    for k in ("url", "host", "port"):
        if getattr(got, k) is not None:
            actual[k] = getattr(got, k)
    assert actual == expect
