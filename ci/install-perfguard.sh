#!/usr/bin/env bash
# Install perfguard on a Debian/Ubuntu CI runner (or any such machine):
# the build dependencies from apt, then a release build of perfguard and
# of its hook for the runner's python3, and `perfguard` on PATH.
#
#   ci/install-perfguard.sh
#
# Sources, in order: $PERFGUARD_SRC (a checkout), this script's own
# repository when it is perfguard's, else a clone of $PERFGUARD_GIT at
# $PERFGUARD_REF (default main). The build lands in
# ${PERFGUARD_HOME:-$HOME/.perfguard}; a second run with the same sources
# reuses it (cache that directory between CI runs to skip the build).
# Extra interpreters: PERFGUARD_PYTHONS="/path/python3.12;/path/python3.13".
set -euo pipefail

home=${PERFGUARD_HOME:-$HOME/.perfguard}
here=$(cd "$(dirname "$0")" && pwd)
src=${PERFGUARD_SRC:-}
if [ -z "$src" ] && [ -f "$here/../src/hook/CMakeLists.txt" ]; then
	src=$(cd "$here/.." && pwd)
fi
if [ -z "$src" ]; then
	if [ -z "${PERFGUARD_GIT:-}" ]; then
		echo "install-perfguard.sh: set PERFGUARD_SRC to a perfguard" \
			"checkout or PERFGUARD_GIT to its git URL" >&2
		exit 2
	fi
	src=$home/src
	if [ -d "$src/.git" ]; then
		git -C "$src" fetch -q origin "${PERFGUARD_REF:-main}"
		git -C "$src" checkout -q FETCH_HEAD
	else
		git clone -q --branch "${PERFGUARD_REF:-main}" "$PERFGUARD_GIT" "$src"
	fi
fi

"$src/ci/install-deps.sh"
pythons=${PERFGUARD_PYTHONS:-$(python3 -c "import sys; print(sys.executable)")}
cmake -S "$src" -B "$home/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
	-DPG_TESTS=OFF -DPG_WERROR=OFF "-DPG_PYTHONS=$pythons" >/dev/null
cmake --build "$home/build" >/dev/null

bin=$home/bin
mkdir -p "$bin"
ln -sf "$home/build/perfguard" "$bin/perfguard"
if [ -n "${GITHUB_PATH:-}" ]; then
	echo "$bin" >>"$GITHUB_PATH"
fi
echo "perfguard installed: $bin/perfguard ($("$bin/perfguard" --version))" >&2
case ":$PATH:" in
*":$bin:"*) ;;
*) echo "add $bin to PATH to run it as 'perfguard'" >&2 ;;
esac
