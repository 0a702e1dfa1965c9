#!/usr/bin/env bash
# Peer benchmark (glue/bench/peers.py): our jobs against dlt + ConnectorX, ADBC -> pyiceberg, reladiff + DuckDB
# and Percona pt-archiver, whole processes, same tables, same run. The peers are installed on demand into
# .cache/peers/venv (from requirements-peers.txt; rebuilt when that file changes) and pt-archiver from the
# Debian package percona-toolkit -- never into the project's .venv. Extra arguments go to peers.py
# (e.g. --pg-scale 0.05 --mysql-scale 0.02 --repeat 1 for a quick run).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
bash scripts/setup.sh --services >&2
# shellcheck disable=SC1091
source scripts/services.env
VENV=.cache/peers/venv
REQ=glue/bench/requirements-peers.txt
STAMP="$VENV/.requirements.sha256"
WANT=$(sha256sum "$REQ" | cut -d' ' -f1)
if [[ ! -x "$VENV/bin/python" || "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]]; then
  echo "[peers] installing the peers into $VENV" >&2
  rm -rf "$VENV"
  python3.11 -m venv "$VENV"
  "$VENV/bin/pip" install -q --no-deps -r "$REQ" >&2
  echo "$WANT" >"$STAMP"
fi
if ! command -v pt-archiver >/dev/null; then
  echo "[peers] installing percona-toolkit (pt-archiver)" >&2
  if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq percona-toolkit >&2
fi
TZ=UTC exec "$VENV/bin/python" glue/bench/peers.py "$@"
