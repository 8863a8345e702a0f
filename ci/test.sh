#!/usr/bin/env bash
# Run every check and test: clang-format and cppcheck over the tracked C
# files; unit, fuzz-corpus replays, hook tests on every Python found,
# end-to-end tests of the binary; then the unit and end-to-end tests again
# under AddressSanitizer + UBSan, and a short libFuzzer run of each
# parser. Installs missing packages first.
#   ci/test.sh            everything
#   ci/test.sh --quick    dev build only (no sanitizers, no fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
ci/install-deps.sh
# playwright-core and speedscope for the browser tests, as pinned (never a
# browser download).
(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)

ci/check-format.sh
ci/check-static.sh

ci/build.sh dev
ctest --preset dev -j2 --timeout 900

if [ "${1:-}" = "--quick" ]; then
	exit 0
fi

ci/build.sh asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --preset asan -j2 --timeout 900 -L 'unit|e2e'

ci/fuzz.sh 20
