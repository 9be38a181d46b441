#!/usr/bin/env bash
# fuzz.sh: run every fuzz target of the given packages for FUZZTIME each.
#
#   scripts/fuzz.sh ./internal/headerblock ./parse ./inject
#
# FUZZTIME (default 30s) and FUZZMINIMIZETIME (default 5s) set the budgets.
# A target fails when the fuzzer finds an input (it is then written to
# PKG/testdata/fuzz/TARGET/, so plain `go test` replays it). Go 1.26's fuzz
# coordinator can also fail a target with a bare "context deadline
# exceeded" at the end of -fuzztime without finding anything (a race in
# internal/fuzz, golang/go#75804, fixed in Go 1.27): that is reported as a
# flake, not a failure, when no new input was written.
set -u
GO=${GO:-go}
passed=0 failed=0 flaked=0
for p in "$@"; do
	for f in $($GO test -list '^Fuzz' "$p" | grep '^Fuzz'); do
		dir="$p/testdata/fuzz/$f"
		before=$(ls "$dir" 2>/dev/null | sort)
		echo "fuzz $p $f (${FUZZTIME:-30s})"
		log=$(mktemp)
		$GO test -run '^$' -fuzz "^$f\$" -fuzztime "${FUZZTIME:-30s}" \
			-fuzzminimizetime "${FUZZMINIMIZETIME:-5s}" "$p" >"$log" 2>&1
		rc=$?
		grep -v '^fuzz: elapsed' "$log" | tail -n 20
		after=$(ls "$dir" 2>/dev/null | sort)
		if [ $rc -eq 0 ]; then
			passed=$((passed + 1))
		elif [ "$before" = "$after" ] && grep -q 'context deadline exceeded' "$log"; then
			echo "flake: $f stopped with 'context deadline exceeded' and wrote no input (golang/go#75804)"
			flaked=$((flaked + 1))
		else
			echo "FAIL: $f (new inputs in $dir: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' '))"
			failed=$((failed + 1))
		fi
		rm -f "$log"
	done
done
echo "fuzz: $passed passed, $failed failed, $flaked skipped"
[ $failed -eq 0 ]
