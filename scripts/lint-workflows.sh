#!/usr/bin/env bash
# Lints GitHub workflows with actionlint and zizmor (default: .github/workflows). Both tools are
# installed on first use into .cache (actionlint built from source with `go install`, zizmor from PyPI
# into its own venv), pinned, and reused afterwards. Exit 0 only when neither reports anything.
#   bash scripts/lint-workflows.sh [DIR]     bash scripts/lint-workflows.sh --install-only
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ACTIONLINT_VERSION=v1.7.12
ZIZMOR_VERSION=1.32.0
BIN=$ROOT/.cache/bin
VENV=$ROOT/.cache/tools-venv
log() { printf '[lint-workflows] %s\n' "$*" >&2; }

install() {
  mkdir -p "$ROOT/.cache"
  exec 9>"$ROOT/.cache/.tools.lock"
  flock 9 # one installer at a time (tests run in parallel)
  if [ "$("$BIN/actionlint" -version 2>/dev/null | head -n1)" != "$ACTIONLINT_VERSION" ]; then
    if ! command -v go >/dev/null 2>&1; then
      [ -x /usr/local/go/bin/go ] && export PATH=$PATH:/usr/local/go/bin
    fi
    if ! command -v go >/dev/null 2>&1; then
      log "installing Go (golang-go) to build actionlint"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
    fi
    log "building actionlint $ACTIONLINT_VERSION"
    GOBIN=$BIN GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2
  fi
  if [ "$("$VENV/bin/zizmor" --version 2>/dev/null)" != "zizmor $ZIZMOR_VERSION" ]; then
    log "installing zizmor $ZIZMOR_VERSION"
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "zizmor==$ZIZMOR_VERSION" >&2
  fi
  flock -u 9
}

install
[ "${1:-}" = "--install-only" ] && exit 0
dir=${1:-$ROOT/.github/workflows}
status=0
"$BIN/actionlint" -no-color "$dir"/*.yml || status=1
# --offline: no GitHub API here; the pedantic persona also reports unnamed jobs and missing concurrency.
"$VENV/bin/zizmor" --offline --persona=pedantic --quiet --no-progress "$dir"/*.yml || status=1
exit $status
