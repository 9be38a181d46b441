#!/usr/bin/env bash
# smtp-source -> private Postfix -> discarding sink, without and with
# sesmime-milter (smtpd_milters + non_smtpd_milters), 10 KB messages, 16
# sessions, alternating rounds. Needs root and postfix. Results: bench/README.md.
#   BENCH_MESSAGES=500 BENCH_ROUNDS=5 bench/milter.sh
set -euo pipefail
cd "$(dirname "$0")/../daemon"
exec go test -run '^$' -bench '^BenchmarkPostfix$' -benchtime 1x -timeout 30m ./milter
