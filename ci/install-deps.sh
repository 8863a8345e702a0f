#!/usr/bin/env bash
# Install the Debian/Ubuntu packages perfguard needs to build and test,
# skipping those already present. Safe to run repeatedly; uses sudo when
# not root.
set -euo pipefail

packages=(
	gcc clang libclang-rt-dev cmake ninja-build pkg-config git
	libgit2-dev libyaml-dev libxml2-dev libxml2-utils libcmocka-dev
	python3 python3-dev python3-yaml hyperfine clang-format cppcheck chromium
	zlib1g-dev golang-go wrk python3-jinja2
)
# The browser tests (tests/browser) run Node.js; a machine that has it
# (any source) keeps it, else Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
