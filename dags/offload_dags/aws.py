"""The ``aws`` runtime (MWAA): the deployed Lambdas and Glue jobs through the amazon provider's hooks.

- planning: the ``discover`` Lambda (``lambdas.discover``) with ``{run_id, as_of, databases}``; it
  writes one work unit per table and action to S3 and returns their URIs; each is read back (S3Hook);
- each step: the Glue job of its action (``glue_jobs.<action>``) started with ``--work_unit <s3 uri>``
  (the job's other arguments — catalog, warehouse, jars — are the job's defaults from the CDK app),
  awaited with GlueJobHook; what the ledger needs is then read from where the job left it: the
  archive's current snapshot and row count from its Iceberg metadata (Glue Data Catalog → S3), the
  validation record from ``--result_path``;
- source cleanup (``cleanup_source`` units): the cleanup Glue job (``glue_jobs.cleanup``, derived as
  ``<resource_prefix>-data-cleanup-source`` when omitted) with the ledger's validation record written
  next to the unit (``--validation_record``); its result record (``--result_path``) says whether it
  renamed, dropped or refused;
- the ledger: the DynamoDB ledger table (``<config table>-ledger``, offload_glue.ledger.DynamoLedger);
- the report: the ``validation_report`` Lambda with ``{run_id}``; it builds the report from the ledger.

Only the request building (:func:`glue_job_request`, :func:`discover_request`, :func:`report_request`)
is tested here (tests/test_aws_contract.py): MWAA, Glue and Lambda are not emulated in this project.
"""

from __future__ import annotations

import json

from . import config
from .steps import JobResult, label_of

PIPELINE_PREFIX = "pipeline"


def _s3_split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


#: The ``glue_jobs`` setting of each action (the others are named like their action).
JOB_SETTING = {"cleanup_source": "cleanup"}


def cleanup_result_uri(unit: dict, names: config.Names) -> str:
    """Where the cleanup job's result record lands (its ``--result_path`` and the file it names)."""
    phase = (unit.get("cleanup") or {}).get("phase", "quarantine")
    archive = f"{unit['archive']['namespace']}.{unit['archive']['table']}"
    return f"s3://{names.config_bucket}/{PIPELINE_PREFIX}/results/{unit['run_id']}/{archive}.{phase}.cleanup.json"


def glue_job_request(
    unit: dict, location: str, names: config.Names, validation_record: str | None = None
) -> tuple[str, dict]:
    """The Glue job and its run arguments for one work unit (the unit itself is at ``location``)."""
    action = unit["action"]
    setting = JOB_SETTING.get(action, action)
    job = names.glue_jobs.get(setting)
    if not job:
        raise ValueError(f"offload.settings.yaml names no Glue job for {action!r} (glue_jobs.{setting})")
    if not location or not location.startswith("s3://"):
        raise ValueError(f"{label_of(unit)}: the {action} unit has no s3:// location")
    args = {"--work_unit": location}
    run = unit["run_id"]
    if action == "validate":
        args["--result_path"] = f"s3://{names.config_bucket}/{PIPELINE_PREFIX}/results/{run}/"
    if action == "purge":
        args["--audit_path"] = f"s3://{names.config_bucket}/{PIPELINE_PREFIX}/audit/{run}/"
    if action == "cleanup_source":
        args["--result_path"] = f"s3://{names.config_bucket}/{PIPELINE_PREFIX}/results/{run}/"
        if validation_record:
            args["--validation_record"] = validation_record
    return job, args


def discover_request(names: config.Names, run_id: str, as_of: str | None, databases: list[str] | None) -> dict:
    payload: dict = {"run_id": run_id}
    if as_of:
        payload["as_of"] = as_of
    if databases:
        payload["databases"] = list(databases)
    return {"function_name": names.lambdas["discover"], "payload": payload}


def report_request(names: config.Names, run_id: str) -> dict:
    return {
        "function_name": names.lambdas["validation_report"],
        # The Lambda builds the run's report from the DynamoDB run ledger: nothing else to send.
        "payload": {"run_id": run_id},
    }


class AwsRuntime:
    name = "aws"

    def __init__(self):
        self.names = config.names()
        # An empty aws_conn_id means boto3's default chain (the MWAA execution role, or the environment).
        self.conn_id = config.option("aws_conn_id", "aws_default") or None
        self.poll_seconds = float(config.option("glue_poll_seconds", "15") or 15)
        self.region = config.option("region", None) or self.names.region
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
        from offload_glue.ledger import DynamoLedger

        self._base = AwsBaseHook(aws_conn_id=self.conn_id, region_name=self.region, client_type="s3")
        self.ledger = DynamoLedger(self.names.ledger_table, client=self._client("dynamodb"))

    def _client(self, kind: str):
        return self._base.get_session(region_name=self.region).client(kind, region_name=self.region)

    def _invoke(self, function_name: str, payload: dict) -> dict:
        from airflow.providers.amazon.aws.hooks.lambda_function import LambdaHook

        hook = LambdaHook(aws_conn_id=self.conn_id, region_name=self.region)
        out = hook.invoke_lambda(
            function_name=function_name, invocation_type="RequestResponse", payload=json.dumps(payload)
        )
        body = json.loads(out["Payload"].read() or b"null")
        if out.get("FunctionError"):
            raise RuntimeError(f"Lambda {function_name} failed: {body}")
        return body

    def _read_json(self, uri: str) -> dict | None:
        bucket, key = _s3_split(uri)
        try:
            obj = self._client("s3").get_object(Bucket=bucket, Key=key)
        except Exception as exc:  # noqa: BLE001 — a missing record is reported by the caller
            if "NoSuchKey" in type(exc).__name__ or "NoSuchKey" in str(exc):
                return None
            raise
        return json.loads(obj["Body"].read())

    def plan(self, run_id: str, as_of: str | None = None, databases: list[str] | None = None) -> dict:
        req = discover_request(self.names, run_id, as_of, databases)
        out = self._invoke(req["function_name"], req["payload"])
        units = [{"unit": self._read_json(uri), "location": uri} for uri in out.get("work_units", [])]
        return {"run_id": out.get("run_id", run_id), "units": units, "problems": out.get("problems", [])}

    def report(self, run_id: str) -> dict:
        req = report_request(self.names, run_id)
        out = self._invoke(req["function_name"], req["payload"])
        return {"status": out.get("status"), "files": out.get("keys", {}), "failed": bool(out.get("problems"))}

    def _put_json(self, location: str, suffix: str, doc: dict) -> str:
        bucket, key = _s3_split(location)
        key = key[: -len(".json")] if key.endswith(".json") else key
        key = f"{key}.{suffix}.json"
        self._client("s3").put_object(
            Bucket=bucket, Key=key, Body=json.dumps(doc).encode(), ContentType="application/json"
        )
        return f"s3://{bucket}/{key}"

    def _checked_location(self, unit: dict, location: str) -> str:
        """A unit amended from the ledger (its archive run and snapshot, a cleanup's phase) goes next to the
        planned one."""
        planned = self._read_json(location) or {}
        if planned.get("archive") == unit["archive"] and planned.get("cleanup") == unit.get("cleanup"):
            return location
        return self._put_json(location, "checked", unit)

    def _archive_state(self, unit: dict) -> dict | None:
        """The archive's current snapshot id and row count, from its Iceberg metadata."""
        table = self._client("glue").get_table(DatabaseName=unit["archive"]["namespace"], Name=unit["archive"]["table"])
        meta_uri = table["Table"].get("Parameters", {}).get("metadata_location")
        meta = self._read_json(meta_uri) if meta_uri else None
        if not meta or meta.get("current-snapshot-id") in (None, -1):
            return None
        current = meta["current-snapshot-id"]
        snap = next((s for s in meta.get("snapshots", []) if s.get("snapshot-id") == current), {})
        return {
            "status": "archived",
            "snapshot_id": str(current),
            "rows": int(snap.get("summary", {}).get("total-records", 0)),
        }

    def run_job(self, unit: dict, location: str | None = None, validation_record: dict | None = None) -> JobResult:
        from airflow.providers.amazon.aws.hooks.glue import GlueJobHook

        record_uri = None
        if unit["action"] in ("validate", "cleanup_source") and location:
            location = self._checked_location(unit, location)
            if validation_record is not None:
                record_uri = self._put_json(location, "validation", validation_record)
        if unit["action"] == "cleanup_source":  # never read an earlier attempt's result as this one's
            bucket, key = _s3_split(cleanup_result_uri(unit, self.names))
            self._client("s3").delete_object(Bucket=bucket, Key=key)
        job, args = glue_job_request(unit, location or "", self.names, record_uri)
        hook = GlueJobHook(
            job_name=job, aws_conn_id=self.conn_id, region_name=self.region, job_poll_interval=self.poll_seconds
        )
        run_id = hook.conn.start_job_run(JobName=job, Arguments=args)["JobRunId"]
        try:
            state = hook.job_completion(job, run_id)["JobRunState"]
        except Exception as exc:  # noqa: BLE001 — FAILED/TIMEOUT: the job said why in its run
            detail = hook.conn.get_job_run(JobName=job, RunId=run_id)["JobRun"]
            state, message = detail.get("JobRunState", "FAILED"), detail.get("ErrorMessage") or str(exc)
        else:
            message = ""
        action = unit["action"]
        if action == "validate":
            record = self._read_json(
                f"{args['--result_path']}{unit['archive']['namespace']}.{unit['archive']['table']}."
                f"{unit['archive'].get('run_id') or unit['run_id']}.validation.json"
            )
            if record is not None:
                return JobResult(0 if record.get("status") == "passed" and state == "SUCCEEDED" else 1, record)
            if state == "SUCCEEDED":  # never validated without the record that says so
                return JobResult(
                    2, None, {"code": "validation_record_missing", "message": f"{job} run {run_id} wrote none"}
                )
        if action == "cleanup_source":
            # The job writes its result (done, dry run or refused) before it exits, success or not.
            record = self._read_json(cleanup_result_uri(unit, self.names))
            if record is not None and record.get("status") in ("done", "refused"):
                return JobResult(0 if record["status"] == "done" and state == "SUCCEEDED" else 2, record)
            if state == "SUCCEEDED":  # never recorded as renamed or dropped without the record that says so
                return JobResult(4, None, {"code": "job_outcome_unknown", "message": f"{job} run {run_id} wrote none"})
        if state == "SUCCEEDED":
            if action == "archive":
                found = self._archive_state(unit)
                if found is None:
                    return JobResult(
                        4, None, {"code": "job_outcome_unknown", "message": f"{job} run {run_id} left no snapshot"}
                    )
                return JobResult(0, found)
            return JobResult(0, {"status": "purged"})
        if state == "TIMEOUT":
            return JobResult(4, None, {"code": "job_outcome_unknown", "message": f"{job} run {run_id} timed out"})
        return JobResult(2, None, {"code": "glue_job_failed", "message": f"{job} run {run_id}: {message}"})
