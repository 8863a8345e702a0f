#!/usr/bin/env bash
# Fail when a tracked C file is not clang-format clean (.clang-format):
#   ci/check-format.sh          check, print the offending lines
#   ci/check-format.sh --fix    reformat them in place
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "${1:-}" = "--fix" ]; then
	clang-format -i "${files[@]}"
	exit 0
fi
clang-format --dry-run --Werror "${files[@]}"
