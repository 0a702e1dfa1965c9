#!/usr/bin/env bash
# Fails, listing file:line:length, when a line of the repository's code is longer than 120 characters
# (characters, not bytes). Covers every file git knows (tracked or new, not ignored) except Markdown and JSON,
# which are exempt, and Java (glue/jvm: its source hash keys the jar build in the shared .cache, so it is
# rewrapped separately); node_modules and cdk.out are never read. Usage: bash scripts/check-line-width.sh [width]
set -euo pipefail
cd "$(dirname "$0")/.."
width=${1:-120}
export LC_ALL=C.UTF-8
mapfile -t files < <(git ls-files -z --cached --others --exclude-standard | tr '\0' '\n' \
  | grep -vE '(^|/)(node_modules|cdk\.out)/|\.(md|json|java)$' || true)
[ "${#files[@]}" -gt 0 ] || { echo "no files found (not a git checkout?)" >&2; exit 2; }
# -I skips binary files; a deleted-but-tracked file is skipped by -s.
long=$(printf '%s\0' "${files[@]}" | xargs -0 grep -sInP "^.{$((width + 1)),}" -- | awk -F: '{
  line = $0; sub(/^[^:]*:[^:]*:/, "", line); printf "%s:%s: %d characters\n", $1, $2, length(line) }' || true)
if [ -n "$long" ]; then
  echo "$long"
  echo "$(echo "$long" | wc -l) lines longer than $width characters (wrap comments, split strings)" >&2
  exit 1
fi
echo "no line longer than $width characters in ${#files[@]} files"
