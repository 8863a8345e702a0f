#!/usr/bin/env bash
# Configure and build one CMake preset (dev, asan, release, fuzz):
#   ci/build.sh [PRESET]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dev}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
