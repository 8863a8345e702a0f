#!/usr/bin/env bash
# Static analysis of perfguard's own C code with cppcheck; any finding
# fails. The checks: cppcheck's errors (undefined behaviour, leaks, bad
# indexes), `warning` (suspicious code), `performance`, `portability`,
# and `style` for dead code (unused struct members, unread variables,
# conditions that are always true or false, redundant assignments).
# Left out, because they flag a deliberate style, not a defect:
#   variableScope   declarations stay at the top of blocks that `goto
#                   cleanup`, so no jump skips an initialisation;
#   constParameter, constVariable   const-correctness churn on internal
#                   helpers, not a bug;
#   missingIncludeSystem   cppcheck needs no system headers.
# Files that include Python.h (directly or through their folder's
# headers) are skipped: without an interpreter's
# macros cppcheck walks impossible #if paths (e.g. a return per Python
# version) and reports them. A finding that is wrong is silenced on its
# line with `// cppcheck-suppress <id>` and a reason.
#   ci/check-static.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# Does $1 include Python.h, itself or through a header of its folder?
uses_python() {
	local f="$1" h
	grep -q '^#include [<"]Python.h[>"]' "$f" && return 0
	for h in $(sed -n 's/^#include "\([^"/]*\.h\)".*/\1/p' "$f"); do
		[ -f "$(dirname "$f")/$h" ] && [ "$(dirname "$f")/$h" != "$f" ] &&
			uses_python "$(dirname "$f")/$h" && return 0
	done
	return 1
}
mapfile -t files < <(git ls-files 'src/*.c' | while read -r f; do
	uses_python "$f" || echo "$f"
done)
cppcheck -q --std=c11 -D_GNU_SOURCE -Iinclude -Isrc/hook \
	--enable=warning,style,performance,portability \
	--suppress=variableScope --suppress=constParameter \
	--suppress=constVariable --suppress=missingIncludeSystem \
	--inline-suppr --error-exitcode=1 "${files[@]}"
