"""The DAG suite's set-up: a throw-away AIRFLOW_HOME with a SQLite metadata database (set before
Airflow is imported), and a throw-away config repository on the live PostgreSQL and MariaDB of
scripts/services.sh (connection settings from scripts/services.env)."""

from __future__ import annotations

import os
import shutil
import tempfile

DAGS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLKIT = os.path.dirname(DAGS)
HOME = tempfile.mkdtemp(prefix="offload-airflow-")
os.environ.update(
    {
        "AIRFLOW_HOME": HOME,
        "AIRFLOW__CORE__DAGS_FOLDER": DAGS,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME}/airflow.db",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "TZ": "UTC",
    }
)

import pytest  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(HOME, ignore_errors=True)


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run `bash scripts/setup.sh --services && source scripts/services.env`")
    return value


@pytest.fixture(scope="session")
def airflow_db():
    """The metadata database, migrated once (SQLite in the temporary AIRFLOW_HOME)."""
    from airflow.utils.db import initdb

    initdb()
    return os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
