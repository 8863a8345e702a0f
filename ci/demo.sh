#!/usr/bin/env bash
# The main job, end to end: install what is missing, build perfguard, make
# a throwaway git repository of the demo project (benches/demo) whose
# branch `feature` slows one function down, and run the gate on it:
#
#   ci/demo.sh [DIR]        (DIR defaults to a fresh temporary directory)
#
# perfguard check compares feature with main side by side and exits 1,
# naming the slowed function in the terminal table and in the JUnit,
# Markdown and JSON reports it writes into DIR/reports/. This script
# exits with perfguard's exit code, and says whether the function it
# named is the one that was slowed down.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
ci/install-deps.sh
ci/build.sh release >/dev/null
perfguard=$PWD/build-release/perfguard

dir=${1:-$(mktemp -d /tmp/perfguard-demo.XXXXXX)/repo}
expected=$(ci/make-demo-repo.sh "$dir")
mkdir -p "$dir/reports"
echo "demo repository: $dir (feature slows down $expected)" >&2
set +e
(cd "$dir" && "$perfguard" check --against main \
	--junit reports/junit.xml --summary reports/summary.md \
	--json reports/check.json)
status=$?
set -e
named=$(python3 - "$dir/reports/check.json" <<'PY' 2>/dev/null || true
import json, sys
doc = json.load(open(sys.argv[1]))
print(" ".join(sorted({v["function"] for v in doc["verdicts"]
                       if v["kind"] == "regressed" and v.get("function")})))
PY
)
echo >&2
echo "perfguard check exited $status; regressed functions: ${named:-none}" >&2
if [ "$status" -eq 1 ] && [ "$named" = "$expected" ]; then
	echo "caught exactly the injected regression ($expected)" >&2
else
	echo "expected exit 1 naming exactly $expected" >&2
fi
echo "reports: $dir/reports/{junit.xml,summary.md,check.json}" >&2
exit "$status"
