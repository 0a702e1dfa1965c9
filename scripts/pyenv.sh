#!/usr/bin/env bash
# Idempotent Python environment: .venv with the pinned requirements (re-installed only when
# requirements.txt changes), and the JVM jars of the data plane.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=${OFFLOAD_PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || { echo "[pyenv] creating .venv" >&2; "$PY" -m venv .venv; }
stamp=.venv/.requirements-hash
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[pyenv] installing requirements.txt" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt >&2
  echo "$want" >"$stamp"
fi

# JVM jars of the data plane (Iceberg Spark runtime, JDBC drivers), declared in glue/pom.xml and
# copied from Maven Central into .cache/jars; skipped when the pom is unchanged and the jars exist.
jars=.cache/jars
if ! command -v java >/dev/null 2>&1; then
  echo "[pyenv] installing Java 17" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >/dev/null
fi
jstamp=$jars/.pom-hash
jwant=$(sha256sum glue/pom.xml | cut -d' ' -f1)
if [ ! -f "$jstamp" ] || [ "$(cat "$jstamp")" != "$jwant" ] || ! ls "$jars"/iceberg-spark-runtime-*.jar >/dev/null 2>&1; then
  command -v mvn >/dev/null 2>&1 || { echo "[pyenv] installing maven" >&2; apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >/dev/null; }
  echo "[pyenv] fetching jars from glue/pom.xml into $jars" >&2
  rm -rf "$jars"; mkdir -p "$jars"
  mvn -q -B dependency:copy-dependencies -f glue/pom.xml -DoutputDirectory="$ROOT/$jars" -DexcludeTransitive=true >&2
  echo "$jwant" >"$jstamp"
fi
