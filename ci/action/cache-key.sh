#!/usr/bin/env bash
# The action's first step: the cache key of a perfguard build, so that a
# runner builds perfguard once per (sources, OS, interpreters) and restores
# it afterwards. Writes `key`, `home` (the directory to cache) and
# `pythons` (the interpreters the hook is built for) to $GITHUB_OUTPUT.
#
#   PERFGUARD_PYTHONS="a;b"  interpreters (default: the python3 on PATH)
#   PERFGUARD_REF=REF        sources are that ref (else the action's files)
set -euo pipefail
src=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}
out=${GITHUB_OUTPUT:-/dev/stdout}

pythons=${PERFGUARD_PYTHONS:-}
if [ -z "$pythons" ]; then
	pythons=$(python3 -c 'import sys; print(sys.executable)')
fi
# Each interpreter by path and exact version: a new patch release of the
# runner's Python gets a new hook.
interp=""
IFS=';' read -ra list <<<"$pythons"
for py in "${list[@]}"; do
	v=$("$py" -c 'import sys; print(sys.version.split()[0])') || {
		echo "perfguard action: '$py' is not a Python interpreter" >&2
		exit 2
	}
	interp="$interp $py=$v"
done

# The sources: a named ref, or a digest of the files the build reads.
if [ -n "${PERFGUARD_REF:-}" ]; then
	sources="ref-$PERFGUARD_REF"
else
	sources=$(cd "$src" && find CMakeLists.txt CMakePresets.json src include \
		ci/install-deps.sh ci/install-perfguard.sh -type f -print0 |
		sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
fi
os=$(. /etc/os-release && echo "${ID:-linux}-${VERSION_ID:-0}")-$(uname -m)
interp_hash=$(printf '%s' "$interp" | sha256sum | cut -c1-12)
version=$(sed -n 's/^project(perfguard VERSION \([0-9.]*\).*/\1/p' \
	"$src/CMakeLists.txt")

{
	echo "key=perfguard-$version-$sources-$os-$interp_hash"
	echo "home=${PERFGUARD_HOME:-$HOME/.perfguard-action}"
	echo "pythons=$pythons"
} >>"$out"
