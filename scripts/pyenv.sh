#!/usr/bin/env bash
# Idempotent Python environment: .venv with the pinned requirements (re-installed only when
# requirements.txt changes). The data-plane issue extends this with the JVM jars.
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
