#!/usr/bin/env bash
# Idempotent Airflow environment for the DAGs: .venv-airflow (git-ignored) with exactly the versions of
# dags/requirements.lock (apache-airflow 3.3.2, the amazon provider, pyspark, pyiceberg, …), separate
# from the data plane's .venv. Installing Airflow takes minutes, so it is skipped while the lock's hash
# is the one recorded in .venv-airflow/.lock-hash.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=${OFFLOAD_PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
venv=.venv-airflow
lock=dags/requirements.lock
stamp=$venv/.lock-hash
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -x "$venv/bin/python" ] || { echo "[airflow-env] creating $venv" >&2; "$PY" -m venv "$venv"; }
echo "[airflow-env] installing $lock into $venv (a few minutes)" >&2
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$lock" >&2
"$venv/bin/python" -m pip check >&2
echo "$want" >"$stamp"
