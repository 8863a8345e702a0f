#!/usr/bin/env bash
# Time `perfguard history` over many stored baselines (README.md here):
#   benches/history/run.sh [BUILD_DIR [COMMITS [BENCHES [FUNCS [TRIALS]]]]]
set -euo pipefail
build="${1:-build-release}"
shift || true
dir="$(mktemp -d)/repo"
"$build/benches/history/history_fixture" "$dir" "$@"
du -sh "$dir/.git" | sed 's/^/git directory: /'
pg="$(cd "$build" && pwd)/perfguard"
cd "$dir"
t() { /usr/bin/time -f "  %e s wall, %U s user, %M KiB peak: $*" "$@" >/dev/null; }
for i in 1 2 3; do
	t "$pg" history --limit 100000 --bench bench_1
	t "$pg" history --limit 100000
	t "$pg" history --limit 100000 --function pkg/mod_0.py:f_0
done
"$pg" history --limit 100000 --bench bench_0 --function pkg/mod_0.py:f_0 |
	grep 'change point' || echo "no change point found"
rm -rf "$(dirname "$dir")"
