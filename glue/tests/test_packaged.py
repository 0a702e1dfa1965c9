"""The jobs as Glue loads them: the entry scripts, ``offload_glue.zip`` on ``--py-files`` and the jars on
``--jars``, built by scripts/package-glue.sh, run with spark-submit from a directory holding nothing of
the checkout (no ``offload_glue`` folder, no PYTHONPATH, no repository jar directory). A module missing
from the zip, a file read relative to the source tree, or a jar that must be on the driver class path
fails here, not on AWS. The arguments carry the ones Glue adds itself (--JOB_NAME, --job-bookmark-option,
--TempDir)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import pg_exec
from test_work_unit import _plan

ROOT = Path(__file__).resolve().parents[2]
SUBMIT = Path(sys.executable).parent / "spark-submit"
GLUE_ARGS = ["--JOB_NAME", "packaged-test", "--job-bookmark-option", "job-bookmark-disable"]


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("package") / "glue"
    subprocess.run(["bash", str(ROOT / "scripts/package-glue.sh"), str(out)], check=True, timeout=120)
    return out


@pytest.fixture()
def job_dir(package, tmp_path) -> Path:
    """A copy of the package in an empty directory, as Glue's script location would be."""
    target = tmp_path / "job"
    shutil.copytree(package, target)
    assert not (target / "offload_glue").exists()
    return target


def submit(
    job_dir: Path, job: str, args: list[str], env: dict, tmp: Path, master: str = "local[2]"
) -> tuple[int, dict, str]:
    jars = sorted(glob.glob(str(job_dir / "jars" / "*.jar")))
    # Glue 5.0 brings the Iceberg runtime itself (--datalake-formats iceberg); locally it stands in on --jars.
    jars += glob.glob(str(ROOT / ".cache/jars/iceberg-spark-runtime-*.jar"))
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OFFLOAD_SCHEMA_DIR")}
    clean.update(env, OFFLOAD_JARS_DIR=str(tmp / "no-jars-here"), PYSPARK_PYTHON=sys.executable, TZ="UTC")
    cmd = [
        str(SUBMIT),
        "--master",
        master,
        "--py-files",
        str(job_dir / "offload_glue.zip"),
        "--jars",
        ",".join(jars),
        "--driver-class-path",
        ":".join(jars),
        "--conf",
        "spark.driver.extraJavaOptions=-Duser.timezone=UTC",
        "--conf",
        "spark.ui.enabled=false",
        str(job_dir / job),
        *GLUE_ARGS,
        "--TempDir",
        str(tmp / "glue-temp"),
        *args,
    ]
    proc = subprocess.run(cmd, cwd=job_dir, env=clean, capture_output=True, text=True, timeout=300)
    out = proc.stdout.strip()
    start = out.find("{")
    assert start >= 0, f"no JSON summary from {job}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.returncode, json.loads(out[start:]), proc.stderr


@pytest.fixture()
def table(pg_db, pg_schema):
    name = "ledger_202001"
    pg_exec(
        pg_db,
        f'CREATE TABLE "{pg_schema}"."{name}" (id bigint PRIMARY KEY, amount numeric(14,4), booked_at timestamptz)',
    )
    pg_exec(
        pg_db,
        f"INSERT INTO \"{pg_schema}\".\"{name}\" SELECT g, g / 7.0, TIMESTAMPTZ '2020-01-01' + g * INTERVAL '1 hour' "
        "FROM generate_series(1, 3000) g",
    )
    return name


def test_the_zip_holds_the_package_and_its_schemas(package):
    import zipfile

    names = set(zipfile.ZipFile(package / "offload_glue.zip").namelist())
    modules = {f"offload_glue/{Path(p).name}" for p in glob.glob(str(ROOT / "glue/offload_glue/*.py"))}
    assert modules <= names, modules - names
    assert "offload_glue/schema/work-unit.schema.json" in names
    assert sorted(Path(p).name for p in glob.glob(str(package / "*.py"))) == sorted(
        Path(p).name for p in glob.glob(str(ROOT / "glue/*_table.py")) + glob.glob(str(ROOT / "glue/*_source.py"))
    )


def test_packaged_archive_and_validate_by_arguments(job_dir, tmp_path, pg_connection, pg_schema, table):
    c = pg_connection
    warehouse = str(tmp_path / "warehouse")
    source = [
        "--source_engine",
        "postgresql",
        "--source_host",
        c.host,
        "--source_port",
        str(c.port),
        "--source_database",
        c.database,
        "--source_user",
        c.user,
        "--source_password_env",
        "PACKAGED_PG_PASSWORD",
        "--source_schema",
        pg_schema,
        "--source_table",
        table,
        "--warehouse",
        warehouse,
        "--archive_database",
        "packaged",
    ]
    env = {"PACKAGED_PG_PASSWORD": c.password}
    code, summary, err = submit(job_dir, "archive_table.py", [*source, "--run_id", "pk-1"], env, tmp_path)
    assert code == 0, (summary, err[-3000:])
    assert summary["rows"] == 3000 and summary["read"]["path"] == "copy", summary  # the COPY jar from --jars
    code, result, err = submit(job_dir, "validate_table.py", source, env, tmp_path)
    assert code == 0 and result["status"] == "passed", (result, err[-3000:])
    assert c.password not in json.dumps(summary) + json.dumps(result)


def test_packaged_archive_from_a_work_unit(job_dir, tmp_path, pg_connection, pg_schema, table):
    """The unit is checked against the schema that travels inside the zip."""

    def env(name):
        prefix = f"OFFLOAD_DB_{name.upper()}_"
        return {f"{prefix}USER": pg_connection.user, f"{prefix}PASSWORD": pg_connection.password}

    name, units, files = _plan(tmp_path, pg_connection, pg_schema, env)
    archive_units = [f for f, u in zip(files, units, strict=True) if u["action"] == "archive"]
    assert archive_units, units
    warehouse = str(tmp_path / "warehouse")
    code, summary, err = submit(
        job_dir,
        "archive_table.py",
        ["--work_unit", str(archive_units[0]), "--warehouse", warehouse],
        env(name),
        tmp_path,
    )
    assert code == 0, (summary, err[-3000:])
    assert summary["rows"] == 3000
