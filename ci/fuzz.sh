#!/usr/bin/env bash
# Build the libFuzzer targets with clang and fuzz each parser for N
# seconds (default 60), starting from its committed corpus. New inputs go
# to a scratch directory, not the repository; a crash fails the script
# and leaves its reproducer in build-fuzz/.
#   ci/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
ci/build.sh fuzz >/dev/null
for bin in build-fuzz/tests/fuzz/fuzz_*; do
	name="${bin##*/fuzz_}"
	scratch="$(mktemp -d)"
	echo "fuzzing $name for ${seconds}s" >&2
	"$bin" -max_total_time="$seconds" -max_len=65536 \
		-artifact_prefix=build-fuzz/crash-"$name"- \
		"$scratch" "tests/fuzz/corpus/$name" 2>build-fuzz/fuzz-"$name".log ||
		{ tail -n 40 build-fuzz/fuzz-"$name".log >&2; rm -rf "$scratch"; exit 1; }
	tail -n 1 build-fuzz/fuzz-"$name".log >&2
	rm -rf "$scratch"
done
