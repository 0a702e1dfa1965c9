#!/usr/bin/env bash
# Idempotent set-up shared by the README's two commands: Node dependencies (npm ci when the lock
# file changed), the Python/JVM environment for the data plane and the AWS emulator, and — when
# asked with --services — the local database servers the tests use.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
log() { printf '[setup] %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || {
  log "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))"
  exit 2
}

stamp=node_modules/.offload-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing Node dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" >"$stamp"
fi

if [ "${1:-}" != "--node-only" ]; then
  bash scripts/pyenv.sh
fi
if [ "${1:-}" = "--services" ] || [ "${2:-}" = "--services" ]; then
  bash scripts/services.sh
fi
