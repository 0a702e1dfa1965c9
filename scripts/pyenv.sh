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
if ! command -v javac >/dev/null 2>&1 || ! command -v jar >/dev/null 2>&1; then
  echo "[pyenv] installing Java 17" >&2
  apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >/dev/null
fi
jstamp=$jars/.pom-hash
jwant=$(sha256sum glue/pom.xml | cut -d' ' -f1)
if [ ! -f "$jstamp" ] || [ "$(cat "$jstamp")" != "$jwant" ] ||
  ! ls "$jars"/iceberg-spark-runtime-*.jar >/dev/null 2>&1; then
  command -v mvn >/dev/null 2>&1 || {
    echo "[pyenv] installing maven" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven >/dev/null
  }
  echo "[pyenv] fetching jars from glue/pom.xml into $jars" >&2
  rm -rf "$jars"; mkdir -p "$jars"
  mvn -q -B dependency:copy-dependencies -f glue/pom.xml -DoutputDirectory="$ROOT/$jars" -DexcludeTransitive=true >&2
  echo "$jwant" >"$jstamp"
fi

# The Iceberg AWS bundle (glue/pom-aws.xml: GlueCatalog + S3FileIO for catalog_type glue), added to
# .cache/jars when missing; separate from pom.xml so that adding it never re-fetches the other jars.
if ! ls "$jars"/iceberg-aws-bundle-*.jar >/dev/null 2>&1; then
  echo "[pyenv] fetching jars from glue/pom-aws.xml into $jars" >&2
  mvn -q -B dependency:copy-dependencies -f glue/pom-aws.xml -DoutputDirectory="$ROOT/$jars" \
    -DexcludeTransitive=true >&2
fi

# offload-pgcopy.jar: the PostgreSQL binary-COPY data source (glue/jvm), compiled with javac against
# the Spark jars of the pinned pyspark and the PostgreSQL driver above (the exact versions it runs
# with; nothing else to download). Rebuilt only when its sources change.
pstamp=$jars/.pgcopy-hash
pwant=$(find glue/jvm/src -type f -name '*.java' | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)
if [ ! -f "$pstamp" ] || [ "$(cat "$pstamp")" != "$pwant" ] || [ ! -f "$jars/offload-pgcopy.jar" ]; then
  echo "[pyenv] building $jars/offload-pgcopy.jar" >&2
  sparkjars=$(.venv/bin/python -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')
  out=$(mktemp -d)
  javac --release 17 -Xlint:all,-path,-deprecation -Werror -d "$out" -cp "$sparkjars/*:$(ls "$jars"/postgresql-*.jar)" \
    $(find glue/jvm/src -type f -name '*.java' | LC_ALL=C sort) >&2
  jar --create --file "$jars/offload-pgcopy.jar.tmp" -C "$out" .
  mv "$jars/offload-pgcopy.jar.tmp" "$jars/offload-pgcopy.jar"
  rm -rf "$out"
  echo "$pwant" >"$pstamp"
fi

# Class-data sharing for the local driver JVM (glue/offload_glue/cds.py): the classes of one Spark/Iceberg
# run dumped once into .cache/jvm-cds and mapped by every later local job (start-up ~2x faster on this
# machine). Keyed by the jars, pyspark and java, so it is rebuilt after any of them changes. Best effort:
# without it the jobs start as before.
(cd glue && ../.venv/bin/python -m offload_glue.cds >/dev/null) ||
  echo "[pyenv] class-data archive not built (see .cache/jvm-cds/*.log); jobs start without it" >&2
