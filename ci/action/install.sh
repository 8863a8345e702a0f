#!/usr/bin/env bash
# The action's install step: perfguard from the action's own files (or
# from PERFGUARD_REF of PERFGUARD_REPOSITORY) built into $PERFGUARD_HOME,
# and its bin directory added to $GITHUB_PATH. When the cache step
# restored a build made under the same key ($PERFGUARD_HOME/key), nothing
# is compiled: only the runtime packages are checked (a fresh runner has
# no libgit2), since a fresh checkout of the action's files would
# otherwise look newer than every cached object file.
set -euo pipefail
src=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}
home=${PERFGUARD_HOME:?set PERFGUARD_HOME}
key=${PERFGUARD_KEY:-}
if [ -n "$key" ] && [ -x "$home/bin/perfguard" ] &&
	[ "$(cat "$home/key" 2>/dev/null)" = "$key" ]; then
	bash "$src/ci/install-deps.sh"
	echo "$home/bin" >>"${GITHUB_PATH:-/dev/null}"
	echo "perfguard restored: $("$home/bin/perfguard" --version)" >&2
	exit 0
fi
if [ -n "${PERFGUARD_REF:-}" ]; then
	export PERFGUARD_GIT=${PERFGUARD_REPOSITORY:?set PERFGUARD_REPOSITORY}
	unset PERFGUARD_SRC
else
	export PERFGUARD_SRC=$src
fi
# A build directory restored from elsewhere is not reused.
rm -rf "$home/build"
bash "$src/ci/install-perfguard.sh"
[ -z "$key" ] || echo "$key" >"$home/key"
