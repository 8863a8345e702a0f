#!/bin/sh
# junit_xmllint.sh - interop test of the JUnit writer with the real xmllint.
#
# Asks report_test to write sample reports (regressions, a hostile crash
# with 1 MiB of control bytes, invalid UTF-8 and "]]>", an empty check),
# then: every strict sample must validate against Jenkins' junit-10.xsd,
# every annotated sample must be well-formed, and the JSON samples must
# load with Python's json module when python3 is present.
# Usage: junit_xmllint.sh REPORT_TEST XSD WORKDIR. Exit 77 = skipped.
set -eu
report_test=$1
xsd=$2
work=$3

if ! command -v xmllint >/dev/null 2>&1; then
	echo "SKIP: xmllint not found (Debian: apt-get install libxml2-utils)"
	exit 77
fi
if [ ! -f "$xsd" ]; then
	echo "SKIP: JUnit schema not found at $xsd"
	exit 77
fi

rm -rf "$work"
mkdir -p "$work"
"$report_test" --write-samples "$work"

n=0
for f in "$work"/strict-*.xml; do
	xmllint --noout --schema "$xsd" "$f"
	n=$((n + 1))
done
for f in "$work"/annotated-*.xml; do
	xmllint --noout "$f"
	n=$((n + 1))
done
# The schema must bite: annotated testcases carry file/line, which
# junit-10.xsd does not allow, so that sample must fail validation.
if xmllint --noout --schema "$xsd" "$work/annotated-regressions.xml" \
	>/dev/null 2>&1; then
	echo "FAIL: the schema accepted file/line on testcases; is it junit-10?"
	exit 1
fi
[ "$n" -ge 5 ] || { echo "FAIL: expected at least 5 samples, got $n"; exit 1; }

# The hostile sample must really carry the crash and its bounded output.
grep -q '<error message="head: benchmark failed' "$work/strict-hostile.xml"
grep -q 'type="timeout"' "$work/strict-hostile.xml"
size=$(wc -c <"$work/strict-hostile.xml")
[ "$size" -lt 600000 ] || { echo "FAIL: hostile sample is $size bytes"; exit 1; }

if command -v python3 >/dev/null 2>&1; then
	for f in "$work"/*.json; do
		python3 -c 'import json, sys; d = json.load(open(sys.argv[1], encoding="utf-8")); assert d["schema"] == 1, d' "$f"
	done
fi
echo "OK: $n JUnit samples checked with xmllint"
