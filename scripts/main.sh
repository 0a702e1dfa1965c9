#!/usr/bin/env bash
# The README's main command: set up (idempotent), then run the main job on the embedded default —
# validate the configs, preview what they archive or purge against their inventory, sync to the local
# state store. Configs: the folder given as $1; else the repository's own (databases/*.yaml at the
# root); else, in the toolkit itself (which keeps none), the documented sample examples/natwest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh --node-only
offload() { node "$ROOT/tools/bin/offload.mjs" "$@"; }

configs=${1:-}
if [ -z "$configs" ]; then
  if compgen -G "databases/*.yaml" >/dev/null || compgen -G "databases/*.yml" >/dev/null; then configs=.;
  else configs=examples/natwest; fi
fi
cd "$configs"
echo "== configs: $(pwd)"

echo "== offload validate"
offload validate

if [ -d inventory ]; then
  echo
  echo "== offload preview (inventory/)"
  base=$(git rev-list --max-parents=0 HEAD 2>/dev/null | tail -n 1 || true)
  offload preview --base "${OFFLOAD_PREVIEW_BASE:-${base:-HEAD}}" --inventory inventory --as-of "${OFFLOAD_AS_OF:-2026-11-27}"
fi
echo
echo "== offload sync --target local (plan, then apply)"
offload sync --target local --apply
