#!/usr/bin/env bash
# corpus-inplace.sh: the public corpus rewritten in place by
# `sesmime inject -i -r -j N` (a copy of it, in a temporary folder), then
# every file judged against its original by the independent checker.
#
#   scripts/corpus-inplace.sh [JOBS...]    # default: 1 2
#
# A file sesmime refuses (exit 1 with an error naming it) must be left
# byte-identical; it is counted as "refused". Prints, per JOBS,
# "N passed, N failed, N refused" and exits 1 if any file failed.
set -eu
cd "$(dirname "$0")/.."
CORPUS=${CORPUS:-../shared/corpus/public}
CHECK=${CHECK:-../shared/verify/check_inject.py}
[ -d "$CORPUS" ] || { echo "no corpus at $CORPUS" >&2; exit 2; }
make -s build
bad=0
for j in ${@:-1 2}; do
	tmp=$(mktemp -d)
	mkdir "$tmp/tree" "$tmp/res"
	cp "$CORPUS"/*.eml "$tmp/tree/"
	rc=0
	./bin/sesmime inject -i -r -j "$j" --config-set cs1 --tag campaign=spring --tag team=growth \
		"$tmp/tree" 2>"$tmp/err" || rc=$?
	: >"$tmp/list"
	refused=0 changed=0
	for f in "$tmp"/tree/*.eml; do
		n=$(basename "$f")
		if grep -qF "$n:" "$tmp/err"; then
			refused=$((refused + 1))
			cmp -s "$f" "$CORPUS/$n" || { echo "FAIL $n: refused but changed"; changed=$((changed + 1)); }
			continue
		fi
		printf '%s\0%s\0%s\0' "$n" "$CORPUS/$n" "$f" >>"$tmp/list"
	done
	python3 "$CHECK" --batch "$tmp/list" --batch-out "$tmp/res" --mode replace \
		--config-set cs1 --tag campaign=spring --tag team=growth
	passed=$(find "$tmp/res" -name '*.passed' | wc -l)
	failed=$(find "$tmp/res" -name '*.failed' | wc -l)
	cat "$tmp"/res/*.failed 2>/dev/null || true
	failed=$((failed + changed))
	echo "-j $j: exit $rc, $passed passed, $failed failed, $refused refused"
	[ "$failed" -eq 0 ] || bad=1
	rm -rf "$tmp"
done
exit $bad
