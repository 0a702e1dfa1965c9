"""The ``aws`` runtime's contract, narrowly (MWAA, Glue job execution and Lambda are not emulated here):
the requests built for a work unit — Glue job names, Lambda names and buckets from the settings,
``--work_unit`` the unit's S3 URI — and one archive and one validate step driven through the real
amazon-provider hooks against the moto server: the Glue job run started with exactly those
arguments, the ledger's ``archived`` taken from the Iceberg metadata the Glue catalog points at, and
``validated`` from the validation record at ``--result_path``, all in the DynamoDB ledger table."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest
import yaml
from conftest import TOOLKIT

SETTINGS = os.path.join(TOOLKIT, "offload.settings.yaml")
BIG_SNAPSHOT = 7308467396012345678  # past 2^53: must stay exact through JSON, DynamoDB and the ledger


def _settings() -> dict:
    with open(SETTINGS, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _unit(action: str, run_id: str = "r-1") -> dict:
    return {
        "format": 1,
        "id": f"{action}:sales.public__orders_2015@{run_id}",
        "action": action,
        "run_id": run_id,
        "database": "sales",
        "source": {
            "engine": "postgres",
            "host": "db",
            "port": 5432,
            "database": "sales",
            "schema": "public",
            "table": "orders_2015",
        },
        "archive": {
            "catalog": "offload",
            "namespace": "archive_sales",
            "table": "public__orders_2015",
            "run_id": None,
            "snapshot_id": None,
        },
        "policy": {"name": "yearly", "legal_hold": {"enabled": False}},
        "decision": {"table_date": "2015-12-31"},
    }


@pytest.fixture()
def aws_options(monkeypatch):
    monkeypatch.setenv("AIRFLOW__OFFLOAD__RUNTIME", "aws")
    monkeypatch.setenv("AIRFLOW__OFFLOAD__ROOT", TOOLKIT)


def test_requests_are_named_from_the_settings(aws_options):
    from offload_dags import aws, config

    s = _settings()
    names = config.names()
    job, args = aws.glue_job_request(_unit("archive"), "s3://units/r-1/00000-archive.json", names)
    assert job == s["glue_jobs"]["archive"]
    assert args == {"--work_unit": "s3://units/r-1/00000-archive.json"}
    job, args = aws.glue_job_request(_unit("validate"), "s3://units/r-1/00001-validate.json", names)
    assert job == s["glue_jobs"]["validate"]
    assert args["--work_unit"] == "s3://units/r-1/00001-validate.json"
    assert args["--result_path"] == f"s3://{s['config']['bucket']}/pipeline/results/r-1/"
    job, args = aws.glue_job_request(_unit("purge"), "s3://units/r-1/00002-purge.json", names)
    assert job == s["glue_jobs"]["purge"]
    assert args["--audit_path"] == f"s3://{s['config']['bucket']}/pipeline/audit/r-1/"
    with pytest.raises(ValueError, match="s3://"):
        aws.glue_job_request(_unit("archive"), "/tmp/unit.json", names)
    # Source cleanup: glue_jobs.cleanup, derived from resource_prefix when the settings omit it.
    cleanup_unit = {**_unit("cleanup_source"), "cleanup": {"phase": "quarantine"}}
    job, args = aws.glue_job_request(cleanup_unit, "s3://units/r-1/00003-cleanup_source.json", names, "s3://v.json")
    assert job == s["glue_jobs"].get("cleanup", f"{s['resource_prefix']}-data-cleanup-source")
    assert args == {
        "--work_unit": "s3://units/r-1/00003-cleanup_source.json",
        "--result_path": f"s3://{s['config']['bucket']}/pipeline/results/r-1/",
        "--validation_record": "s3://v.json",
    }
    archive = f"{cleanup_unit['archive']['namespace']}.{cleanup_unit['archive']['table']}"
    assert aws.cleanup_result_uri(cleanup_unit, names) == f"{args['--result_path']}{archive}.quarantine.cleanup.json"
    d = aws.discover_request(names, "r-1", "2026-12-01", ["sales"])
    assert d == {
        "function_name": s["lambdas"]["discover"],
        "payload": {"run_id": "r-1", "as_of": "2026-12-01", "databases": ["sales"]},
    }
    r = aws.report_request(names, "r-1")
    assert r["function_name"] == s["lambdas"]["validation_report"]
    # Only the run id: the Lambda reads the run ledger (a `key` would name a report file nothing writes).
    assert r["payload"] == {"run_id": "r-1"}
    assert names.ledger_table == f"{s['config']['dynamodb_table']}-ledger"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def moto(monkeypatch):
    exe = os.path.join(TOOLKIT, ".venv", "bin", "moto_server")
    if not os.path.exists(exe):
        pytest.fail(f"{exe} is missing: run bash scripts/setup.sh")
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"moto_server did not start on {endpoint}")
            time.sleep(0.2)
    for k, v in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AIRFLOW__OFFLOAD__AWS_CONN_ID": "",
        "AIRFLOW__OFFLOAD__GLUE_POLL_SECONDS": "0.05",
    }.items():
        monkeypatch.setenv(k, v)
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


def test_archive_and_validate_steps_through_the_hooks_on_moto(aws_options, moto):
    import boto3
    from offload_dags.runtime import open_runtime
    from offload_dags.steps import archive_step, validate_step

    s = _settings()
    region = s["region"]
    bucket, ledger_table = s["config"]["bucket"], f"{s['config']['dynamodb_table']}-ledger"
    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    ddb = boto3.client("dynamodb", region_name=region)
    ddb.create_table(
        TableName=ledger_table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    glue = boto3.client("glue", region_name=region)
    for action in ("archive", "validate"):
        glue.create_job(
            Name=s["glue_jobs"][action], Role="arn:aws:iam::123456789012:role/glue", Command={"Name": "glueetl"}
        )
    # What the archive job leaves: an Iceberg table in the Glue catalog whose metadata names its snapshot.
    meta_key = "iceberg/archive_sales/public__orders_2015/metadata/00001.metadata.json"
    meta = json.dumps(
        {
            "current-snapshot-id": BIG_SNAPSHOT,
            "snapshots": [{"snapshot-id": BIG_SNAPSHOT, "summary": {"total-records": "42"}}],
        }
    )
    s3.put_object(Bucket=bucket, Key=meta_key, Body=meta.encode())
    glue.create_database(DatabaseInput={"Name": "archive_sales"})
    glue.create_table(
        DatabaseName="archive_sales",
        TableInput={"Name": "public__orders_2015", "Parameters": {"metadata_location": f"s3://{bucket}/{meta_key}"}},
    )
    archive_unit, validate_unit = _unit("archive"), _unit("validate")
    validate_unit["archive"]["run_id"] = "r-1"
    locations = {}
    for i, unit in enumerate((archive_unit, validate_unit)):
        key = f"pipeline/work-units/r-1/{i:05d}-{unit['action']}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(unit).encode())
        locations[unit["action"]] = f"s3://{bucket}/{key}"

    rt = open_runtime()
    assert rt.name == "aws"
    out = archive_step(rt.ledger, rt, archive_unit, locations["archive"])
    assert out["status"] == "ok" and out["snapshot_id"] == str(BIG_SNAPSHOT), out
    runs = glue.get_job_runs(JobName=s["glue_jobs"]["archive"])["JobRuns"]
    assert [r["Arguments"] for r in runs] == [{"--work_unit": locations["archive"]}]
    pk = 'TABLE#["sales","public","orders_2015"]'
    item = ddb.get_item(TableName=ledger_table, Key={"pk": {"S": pk}}, ConsistentRead=True)["Item"]
    assert item["state"]["S"] == "archived"
    assert item["snapshot_id"]["S"] == str(BIG_SNAPSHOT) and item["rows"]["N"] == "42"

    # What the validate job leaves: its record at --result_path, named <namespace>.<table>.<archive run>.
    record = {"status": "passed", "archive_snapshot_id": BIG_SNAPSHOT, "mode": "full", "mismatches": []}
    s3.put_object(
        Bucket=bucket,
        Key="pipeline/results/r-1/archive_sales.public__orders_2015.r-1.validation.json",
        Body=json.dumps(record).encode(),
    )
    out = validate_step(rt.ledger, rt, validate_unit, locations["validate"])
    assert out["status"] == "ok", out
    runs = glue.get_job_runs(JobName=s["glue_jobs"]["validate"])["JobRuns"]
    assert runs[0]["Arguments"]["--result_path"] == f"s3://{bucket}/pipeline/results/r-1/"
    # The unit the validate job got names the archive snapshot the ledger records.
    checked = runs[0]["Arguments"]["--work_unit"]
    body = s3.get_object(Bucket=bucket, Key=checked.split("/", 3)[3])["Body"].read()
    assert json.loads(body)["archive"]["snapshot_id"] == str(BIG_SNAPSHOT)
    item = ddb.get_item(TableName=ledger_table, Key={"pk": {"S": pk}}, ConsistentRead=True)["Item"]
    assert item["state"]["S"] == "validated"
