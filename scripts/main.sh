#!/usr/bin/env bash
# The README's main command: the whole pipeline on the embedded local runtime, end to end, on the demo
# deployment in examples/demo. Idempotent: set-up (Node and Python dependencies, the local PostgreSQL
# and MariaDB servers), the demo source databases (37 tables, created once), the demo's credentials
# file (git-ignored), then validate → sync to the local state → offload run (discovery, policy engine,
# archive to a local Iceberg warehouse, validation against the source, run ledger) → the report.
# A second run finds every due table archived and validated and says so.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh --services
# shellcheck disable=SC1091
source scripts/services.env
DEMO=$ROOT/examples/demo
offload() { node "$ROOT/tools/bin/offload.mjs" "$@"; }

echo "== demo source databases"
.venv/bin/python scripts/demo_db.py

# The demo's credentials: the local test servers' login, in a file outside git (examples/demo/.offload/).
mkdir -p "$DEMO/.offload"
umask 077
cat >"$DEMO/.offload/credentials.yaml" <<YAML
databases:
  demo_pg: {user: "$OFFLOAD_TEST_USER", password: "$OFFLOAD_TEST_PASSWORD"}
  demo_maria: {user: "$OFFLOAD_TEST_USER", password: "$OFFLOAD_TEST_PASSWORD"}
YAML
umask 022

cd "$DEMO"
echo
echo "== offload validate"
offload validate
echo
echo "== offload sync --target local --apply"
offload sync --target local --apply
echo
echo "== offload run"
set +e
offload run --no-aws "$@"
status=$?
set -e
echo
echo "State, warehouse and reports: $DEMO/.offload/ (offload report renders any past run again)"
exit $status
