#!/usr/bin/env bash
# The action's main step. Chooses what to run from the event and inputs:
#
#   merge set              perfguard merge of the shards' files (check
#                          reports -> one verdict; results sets -> one
#                          baseline, recorded and pushed on the default
#                          branch)
#   push to the default    perfguard baseline update --push origin (with
#   branch, push-baselines   shard: perfguard run --shard, for a merge job)
#   anything else          perfguard check (with shard: --shard K/N)
#
# Writes result (pass|regression|error), exit-code, the report paths, and
# artifact/files for the upload step to $GITHUB_OUTPUT, then exits with
# perfguard's exit code so that a regression fails the job.
set -uo pipefail
pg=${PERFGUARD:-perfguard}
out=${GITHUB_OUTPUT:-/dev/null}
tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
shard=${INPUT_SHARD:-}
suffix=""
if [ -n "$shard" ]; then
	case "$shard" in
	[1-9]*/[1-9]*) suffix="-shard-${shard%/*}-of-${shard#*/}" ;;
	*)
		echo "perfguard action: shard must be K/N, not '$shard'" >&2
		echo "result=error" >>"$out"
		exit 2
		;;
	esac
fi
suite=()
[ -n "${INPUT_SUITE:-}" ] && suite=(--suite "$INPUT_SUITE")
files=()
reports=()
json="perfguard-check$suffix.json"
summary="perfguard-summary$suffix.md"
reports+=(--json "$json" --summary "$summary")
files+=("$json" "$summary")
if [ -n "${INPUT_JUNIT:-}" ]; then
	junit=${INPUT_JUNIT%.xml}$suffix.xml
	reports+=(--junit "$junit")
	files+=("$junit")
fi
if [ -n "${INPUT_HTML:-}" ]; then
	html=${INPUT_HTML%.html}$suffix.html
	reports+=(--html "$html")
	files+=("$html")
fi

default_branch=${DEFAULT_BRANCH:-main}
on_default_push=false
if [ "${GITHUB_EVENT_NAME:-}" = push ] &&
	[ "${GITHUB_REF:-}" = "refs/heads/$default_branch" ]; then
	on_default_push=true
fi
if [ -z "$(git config user.email)" ]; then
	git config user.name perfguard
	git config user.email perfguard@users.noreply.github.com
fi

mode=check
if [ -n "${INPUT_MERGE:-}" ]; then
	mode=merge
elif $on_default_push && [ "${INPUT_PUSH_BASELINES:-true}" = true ]; then
	mode=baseline
fi

status=0
case "$mode" in
merge)
	mapfile -t inputs < <(compgen -G "$INPUT_MERGE" | sort)
	if [ ${#inputs[@]} -eq 0 ]; then
		echo "perfguard action: no file matches merge: $INPUT_MERGE" >&2
		status=2
	elif grep -q '"kind": *"perfguard-check"' "${inputs[0]}"; then
		"$pg" merge "${suite[@]}" "${reports[@]}" "${inputs[@]}"
		status=$?
	else
		# Results sets of `run --shard`: one complete baseline.
		files=()
		reports=()
		merged="$tmp/perfguard-merged-results.json"
		"$pg" merge "${suite[@]}" -o "$merged" "${inputs[@]}" &&
			"$pg" baseline update "${suite[@]}" --from "$merged" \
				--allow-dirty --push origin
		status=$?
	fi
	;;
baseline)
	files=()
	reports=()
	if [ -n "$shard" ]; then
		results="perfguard-results$suffix.json"
		"$pg" run "${suite[@]}" --shard "$shard" -o "$results"
		status=$?
		files=("$results")
	else
		"$pg" baseline update "${suite[@]}" --push origin
		status=$?
	fi
	;;
check)
	args=(check "${suite[@]}" "${reports[@]}")
	[ -n "${INPUT_AGAINST:-}" ] && args+=(--against "$INPUT_AGAINST")
	[ -n "${INPUT_BASELINE:-}" ] && args+=(--baseline "$INPUT_BASELINE")
	[ -n "$shard" ] && args+=(--shard "$shard")
	"$pg" "${args[@]}"
	status=$?
	;;
esac
result_status=$status
# A shard's own verdict controls false discoveries over its part only:
# the merge job's verdict is the one that fails the workflow. `check
# --shard` itself exits 0 on regressions (3 when something failed to run);
# older binaries exited 1, which this still masks.
if [ "$mode" = check ] && [ -n "$shard" ] && [ "$status" -eq 1 ]; then
	echo "perfguard action: shard $shard found regressions; the merge" \
		"job decides" >&2
	status=0
fi

# --summary writes the file only: the job page gets it too.
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -s "$summary" ]; then
	cat "$summary" >>"$GITHUB_STEP_SUMMARY"
fi

case $result_status in
0) result=pass ;;
1) result=regression ;;
*) result=error ;;
esac
# A shard's result output tells what it saw of its part (its report's own
# exit_code), while its job passes and the merge job decides.
if [ "$mode" = check ] && [ -n "$shard" ] && [ "$result" = pass ] &&
	[ -s "$json" ]; then
	own=$(grep -o '"exit_code": *[0-9]*' "$json" | head -n1 |
		grep -o '[0-9]*$')
	[ "$own" = 1 ] && result=regression
fi
present=()
for f in "${files[@]}"; do
	[ -e "$f" ] && present+=("$f")
done
{
	echo "result=$result"
	echo "exit-code=$result_status"
	for kind in junit json html summary; do
		v=""
		case $kind in
		junit) v=${junit:-} ;;
		json) v=$json ;;
		html) v=${html:-} ;;
		summary) v=$summary ;;
		esac
		[ -n "$v" ] && [ -e "$v" ] || v=""
		echo "$kind=$v"
	done
	if [ ${#present[@]} -gt 0 ]; then
		echo "artifact=perfguard-reports$suffix"
		echo "files<<PERFGUARD_EOF"
		printf '%s\n' "${present[@]}"
		echo "PERFGUARD_EOF"
	else
		echo "artifact="
	fi
} >>"$out"
exit "$status"
