#!/usr/bin/env bash
# One-command deploy of the AWS side: builds the Glue package and jars, deploys the CDK app in infra/
# (buckets, tables, Glue jobs, Lambdas, MWAA; the BucketDeployments upload the job code and DAGs), then
# pushes the configs with `offload sync --target aws --apply`. Idempotent: an unchanged repository
# builds byte-identical artifacts, so CloudFormation and the sync find nothing to do.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${OFFLOAD_BUILD_DIR:-$ROOT/infra/build}
SETTINGS=${OFFLOAD_SETTINGS_ROOT:-$ROOT}/offload.settings.yaml

usage() {
  cat <<'USAGE'
Usage: bash scripts/deploy.sh [--plan | --build | --synth | --region | --help]

  (none)    build, cdk bootstrap + deploy, then offload sync --target aws --apply
  --plan    build, then show `cdk diff` and the sync plan; changes nothing in AWS
  --build   only build the artifacts into infra/build (Glue package, job scripts, jars, DAGs)
  --synth   build and `cdk synth` (offline: no AWS credentials needed)
  --region  print the region of offload.settings.yaml (the deploy workflow reads it)

Data stores are retained when the stack is deleted; to delete them with it, deploy once with
OFFLOAD_CDK_ARGS="-c offload:destroyOnRemoval=true" first.
Exit status: 0 done, 1 a step failed, 2 usage error or missing AWS credentials.
USAGE
}

mode=deploy
case "${1:-}" in
  '') ;;
  --plan) mode=plan ;;
  --build) mode=build ;;
  --synth) mode=synth ;;
  --region) mode=region ;;
  -h | --help) usage; exit 0 ;;
  *) echo "deploy.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "deploy.sh: one option at most (got: $*)" >&2; exit 2; }
log() { printf '[deploy] %s\n' "$*" >&2; }

# The region, read from the settings file with the project's own YAML parser (no second source of truth).
settings_region() {
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { parse } from "yaml";
    const file = process.argv[1];
    let doc;
    try { doc = parse(readFileSync(file, "utf8")); }
    catch (e) { console.error(`${file}: ${e.message}`); process.exit(2); }
    if (typeof doc?.region !== "string" || !doc.region) { console.error(`${file}: no region`); process.exit(2); }
    console.log(doc.region);' "$SETTINGS"
}
if [ "$mode" = region ]; then settings_region; exit 0; fi

# Fails fast, before any build, when no AWS credentials can be found (deploy and plan only).
require_credentials() {
  local err
  err=$(mktemp)
  if ! node --input-type=module -e '
    const { defaultProvider } = await import("@aws-sdk/credential-provider-node");
    const timer = setTimeout(() => { console.error("timed out looking for credentials"); process.exit(1); }, 15000);
    try { await defaultProvider()(); clearTimeout(timer); }
    catch (e) { console.error(e.message.split("\n")[0]); process.exit(1); }' 2>"$err"; then
    log "no AWS credentials found ($(tail -n1 "$err")): set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY," \
      "or run in the deploy workflow (OIDC). Nothing was built or changed."
    rm -f "$err"
    exit 2
  fi
  rm -f "$err"
}

build() {
  log "building artifacts into ${BUILD#"$ROOT"/}"
  bash scripts/pyenv.sh # .venv and the jars (offload-pgcopy.jar is compiled there); no-op when current
  local dags=$BUILD/dags
  # Entry scripts, offload_glue.zip (with its schemas) and jars, exactly as Glue loads them.
  bash scripts/package-glue.sh "$BUILD/glue"
  rm -rf "$dags"
  mkdir -p "$dags"
  find dags -maxdepth 1 -type f \( -name '*.py' -o -name 'requirements.txt' \) -exec cp {} "$dags/" \;
  [ -d dags/offload_dags ] && cp -r dags/offload_dags "$dags/"
  find "$dags" -name '__pycache__' -prune -exec rm -rf {} +
  log "built: $(cd "$BUILD/glue" && ls | tr '\n' ' ')jars: $(ls "$BUILD/glue/jars" | tr '\n' ' ')dags:" \
    "$(ls "$dags" | wc -l) files"
}

cdk() {
  local region
  region=$(settings_region)
  # shellcheck disable=SC2086 # OFFLOAD_CDK_ARGS holds extra CDK options, split on purpose
  (cd infra && AWS_REGION=$region OFFLOAD_ROOT=${OFFLOAD_SETTINGS_ROOT:-$ROOT} \
    npx --no-install cdk "$@" -c "offload:buildDir=$BUILD" ${OFFLOAD_CDK_ARGS:-})
}

case "$mode" in
  build) build ;;
  synth)
    build
    cdk synth --quiet
    log "synthesized into infra/cdk.out"
    ;;
  plan)
    require_credentials
    build
    echo '## CDK diff'
    cdk diff || true # diff exits 1 when there are differences
    echo '## Config sync plan'
    AWS_REGION=$(settings_region) npx --no-install offload sync --target aws --plan --format markdown
    ;;
  deploy)
    require_credentials
    build
    cdk bootstrap
    cdk deploy --all --require-approval never
    AWS_REGION=$(settings_region) npx --no-install offload sync --target aws --apply
    log "done"
    ;;
esac
