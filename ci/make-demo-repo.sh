#!/usr/bin/env bash
# Build a throwaway git repository from the loglens demo (benches/demo)
# with a regression to find:
#
#   ci/make-demo-repo.sh [--slowdown PCT | --extra-call | --aa]
#                        [--function-threshold PCT] DIR
#
# main holds one commit, "demo: baseline" (the project as in benches/demo).
# The branch feature, checked out at the end, adds one commit:
#   (default)        split_fields() gains a control-character check over
#                    every line: that function's self time grows ~2-3x
#   --slowdown PCT   the same check on a fraction of lines, so that
#                    split_fields' self time grows by about PCT %
#   --extra-call     histogram() calls bucket_of() once more per call
#   --aa             an empty commit: head identical to base
# --function-threshold sets the suite's function threshold (both sides)
# instead of the demo's 10%.  The id (path:qualname) of the function made
# slower is printed on stdout (nothing for --aa); progress goes to stderr.
#
# DIR is recreated when it holds an earlier demo repository; any other
# non-empty DIR is refused.  Commits use a fixed identity and fixed dates
# and ignore the caller's git configuration, so the commit ids are the
# same on every run.  Then:  cd DIR && perfguard check --against main
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

mode=()
dir=""
threshold=""
while [ $# -gt 0 ]; do
	case "$1" in
	--slowdown)
		[ $# -ge 2 ] || usage
		mode=(--slowdown "$2")
		shift 2
		;;
	--slowdown=*)
		mode=(--slowdown "${1#*=}")
		shift
		;;
	--function-threshold)
		[ $# -ge 2 ] || usage
		threshold=$2
		shift 2
		;;
	--extra-call | --aa)
		mode=("$1")
		shift
		;;
	-h | --help) usage ;;
	-*)
		echo "make-demo-repo.sh: unknown option $1" >&2
		usage
		;;
	*)
		[ -z "$dir" ] || usage
		dir=$1
		shift
		;;
	esac
done
[ -n "$dir" ] || usage
for pct in "${mode[1]:-1}" "${threshold:-1}"; do
	if ! [[ $pct =~ ^[0-9]+([.][0-9]+)?$ ]]; then
		echo "make-demo-repo.sh: $pct: a percentage is a number, e.g. 10" >&2
		exit 2
	fi
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
demo=$here/../benches/demo
[ -f "$demo/perfguard.yml" ] || {
	echo "make-demo-repo.sh: $demo/perfguard.yml not found" >&2
	exit 2
}

if [ -e "$dir" ]; then
	if [ -f "$dir/.git/perfguard-demo" ]; then
		rm -rf "$dir"
	elif [ -d "$dir" ] && [ -z "$(ls -A "$dir")" ]; then
		rmdir "$dir"
	else
		echo "make-demo-repo.sh: $dir exists and is not a demo repository;" \
			"remove it or pick another directory" >&2
		exit 2
	fi
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# Only this repository's own configuration counts.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Demo Developer" GIT_AUTHOR_EMAIL=demo@example.com
export GIT_COMMITTER_NAME="Demo Developer"
export GIT_COMMITTER_EMAIL=demo@example.com
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
g() { git -C "$dir" "$@"; }

(cd "$demo" && tar --exclude=__pycache__ --exclude=.perfguard -cf - .) |
	(cd "$dir" && tar -xf -)
if [ -n "$threshold" ]; then
	sed -i "s/^  function: .*/  function: $threshold%/" "$dir/perfguard.yml"
fi

g init -q -b main
# Marks the repository as ours, so that a later run may recreate it.
echo "made by ci/make-demo-repo.sh; safe to delete" >"$dir/.git/perfguard-demo"
g config user.name "$GIT_AUTHOR_NAME"
g config user.email "$GIT_AUTHOR_EMAIL"
g config commit.gpgsign false
g add -A
GIT_AUTHOR_DATE="2024-06-03T09:00:00Z" GIT_COMMITTER_DATE="2024-06-03T09:00:00Z" \
	g commit -q -m "demo: baseline"
g checkout -q -b feature

func=$(python3 "$here/slow-down.py" "$dir" "${mode[@]}")
case "${mode[0]:-}" in
--aa) msg="ci: re-run the pipeline (no code change)" ;;
--extra-call) msg="aggregate: size the histogram from bucket_of's cap" ;;
--slowdown) msg="records: spot-check some lines for control characters" ;;
*) msg="records: refuse log lines with control characters" ;;
esac
g add -A
GIT_AUTHOR_DATE="2024-06-04T09:00:00Z" GIT_COMMITTER_DATE="2024-06-04T09:00:00Z" \
	g commit -q --allow-empty -m "$msg"

echo "make-demo-repo.sh: $dir: main = baseline, feature (checked out) =" \
	"\"$msg\"" >&2
[ -z "$func" ] || echo "$func"
