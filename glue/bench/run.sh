#!/usr/bin/env bash
# One command for the data-plane benchmark (for `npm run bench`): set-up with the local database
# servers, then the 10M-row archive/validate benchmark against COPY. Extra arguments are passed on
# (e.g. --rows 1000000, --json out.json).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
bash scripts/setup.sh --services >&2
# shellcheck disable=SC1091
source scripts/services.env
TZ=UTC exec .venv/bin/python glue/bench/archive_bench.py "$@"
