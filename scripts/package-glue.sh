#!/usr/bin/env bash
# Builds the data plane exactly as Glue loads it, into one directory (default infra/build/glue):
#   <job>.py            the entry points (--script-location)
#   offload_glue.zip    the offload_glue package with the JSON schemas it reads (--extra-py-files)
#   jars/               the PostgreSQL binary-COPY data source and the JDBC drivers (--extra-jars);
#                       the Iceberg runtime is Glue's own (--datalake-formats iceberg)
# The deployment uploads this directory; glue/tests/test_packaged.py runs the jobs from it with
# spark-submit and nothing of the checkout on the path. Idempotent; needs scripts/pyenv.sh first.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/infra/build/glue}
JARS=${OFFLOAD_JARS_DIR:-$ROOT/.cache/jars}
for jar in offload-pgcopy.jar postgresql-*.jar mariadb-java-client-*.jar; do
  ls "$JARS"/$jar >/dev/null 2>&1 || { echo "[package] $JARS/$jar is missing: run scripts/pyenv.sh" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/pkg/offload_glue/schema" "$tmp/out/jars"
cp "$ROOT"/glue/offload_glue/*.py "$tmp/pkg/offload_glue/"
cp "$ROOT"/schema/*.schema.json "$tmp/pkg/offload_glue/schema/"
# Fixed timestamps and order: the same sources give the same zip (the deployment uploads only changes).
python3 - "$tmp/pkg" "$tmp/out/offload_glue.zip" <<'PY'
import os, sys, zipfile
src, dest = sys.argv[1], sys.argv[2]
files = sorted(os.path.relpath(os.path.join(d, f), src) for d, _, fs in os.walk(src) for f in fs)
with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
    for rel in files:
        info = zipfile.ZipInfo(rel, date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(os.path.join(src, rel), "rb") as fh:
            z.writestr(info, fh.read())
PY
cp "$ROOT"/glue/*_table.py "$ROOT"/glue/*_source.py "$tmp/out/" 2>/dev/null || true
cp "$JARS"/offload-pgcopy.jar "$JARS"/postgresql-*.jar "$JARS"/mariadb-java-client-*.jar "$tmp/out/jars/"
mkdir -p "$(dirname "$OUT")"
rm -rf "$OUT.new" && mv "$tmp/out" "$OUT.new" && rm -rf "$OUT" && mv "$OUT.new" "$OUT"
echo "[package] $OUT: $(cd "$OUT" && ls | tr '\n' ' ')" >&2
