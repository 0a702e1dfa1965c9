#!/usr/bin/env bash
# The README's main command: set up (idempotent), then run the main job on the embedded default —
# validate the repo's configs, and preview what they archive or purge against the sample inventory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh --node-only
offload() { node tools/bin/offload.mjs "$@"; }

echo "== offload validate"
offload validate

if [ -f tools/src/cli/commands/preview.ts ] && [ -d inventory ]; then
  echo
  echo "== offload preview (sample inventory)"
  base=$(git rev-list --max-parents=0 HEAD 2>/dev/null | tail -n 1 || true)
  offload preview --base "${OFFLOAD_PREVIEW_BASE:-${base:-HEAD}}" --inventory inventory --as-of "${OFFLOAD_AS_OF:-2026-11-27}"
fi
if [ -f tools/src/cli/commands/sync.ts ]; then
  echo
  echo "== offload sync --target local (plan, then apply)"
  offload sync --target local --apply
fi
