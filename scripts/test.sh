#!/usr/bin/env bash
# Runs every test suite — TypeScript (uvu through tsx, one process per file) and Python (pytest) —
# after the idempotent set-up, and ends with one line "N passed, N failed" totalling all of them.
# Exits non-zero when anything failed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh --services || { echo "0 passed, 1 failed"; exit 1; }
# shellcheck disable=SC1091
source scripts/services.env
export TZ=UTC NO_COLOR=1 FORCE_COLOR=0

passed=0; failed=0
out=$(mktemp -d)
filter=${OFFLOAD_TEST_FILTER:-}

# ---- Lint and format checks (each counts as one test) -------------------------------------------
lint() {
  local name=$1; shift
  local log="$out/lint-$name.log"
  if "$@" >"$log" 2>&1; then printf 'ok   lint: %s\n' "$name"; passed=$(( passed + 1 ));
  else printf 'FAIL lint: %s\n' "$name"; tail -n 60 "$log"; failed=$(( failed + 1 )); fi
}
if [ -z "$filter" ]; then
  lint biome npx --no-install biome check
  lint architecture npx --no-install depcruise tools/src --config .dependency-cruiser.cjs
  lint unused npx --no-install knip
  lint line-width bash scripts/check-line-width.sh
  if [ -x .venv/bin/ruff ]; then
    lint ruff-check .venv/bin/ruff check glue dags scripts
    lint ruff-format .venv/bin/ruff format --check glue dags scripts
  fi
fi

# ---- TypeScript ------------------------------------------------------------------------------
mapfile -t files < <(find tools/test infra -name '*.test.ts' -not -path '*/node_modules/*' | sort |
  grep -E "${filter:-.}")
for f in "${files[@]}"; do
  log="$out/$(echo "$f" | tr '/' '_').log"
  node --import tsx "$f" >"$log" 2>&1; rc=$?
  p=$(grep -E '^\s*Passed:' "$log" | tail -n1 | grep -oE '[0-9]+' || echo 0)
  t=$(grep -E '^\s*Total:' "$log" | tail -n1 | grep -oE '[0-9]+' || echo 0)
  s=$(grep -E '^\s*Skipped:' "$log" | tail -n1 | grep -oE '[0-9]+' || echo 0)
  fl=$(( t - p - s ))
  if [ "$rc" -ne 0 ] && [ "$fl" -le 0 ]; then fl=1; fi   # crashed before or after its tests
  passed=$(( passed + p )); failed=$(( failed + fl ))
  if [ "$fl" -gt 0 ]; then printf 'FAIL %s (%d passed, %d failed)\n' "$f" "$p" "$fl"; cat "$log";
  else printf 'ok   %s (%d)\n' "$f" "$p"; fi
done

# ---- Python ----------------------------------------------------------------------------------
if [ -x .venv/bin/python ] && [ -z "$filter" -o -n "${OFFLOAD_TEST_PY:-}" ]; then
  .venv/bin/python -m pytest -q -p no:cacheprovider --junitxml="$out/pytest.xml" ${OFFLOAD_PYTEST_ARGS:-} 2>&1 |
    tail -n 40
  rc=${PIPESTATUS[0]}
  if [ -f "$out/pytest.xml" ]; then
    read -r pp pf < <(.venv/bin/python - "$out/pytest.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f)
PY
)
    passed=$(( passed + pp )); failed=$(( failed + pf ))
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ] && [ "$pf" -eq 0 ]; then failed=$(( failed + 1 )); fi
  elif [ "$rc" -ne 5 ]; then
    failed=$(( failed + 1 ))
  fi
fi

rm -rf "$out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
