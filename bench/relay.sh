#!/bin/sh
# make bench-relay: messages per second through sesmime-relay against a
# baseline in the same run, ROUNDS alternating rounds, 16 sessions, 10 KB.
#   floor:   smtp-source -> smtp-sink
#   relay:   smtp-source -> sesmime-relay (smtp+plain) -> smtp-sink
#   api:     smtp-source -> sesmime-relay (ses+v2) -> fake SES API (awsses/fakeses)
# Prints one line per run and a table of medians with ratios to the floor.
set -eu
ROUNDS=${ROUNDS:-3}
N=${N:-2000}
SESSIONS=${SESSIONS:-16}
SIZE=${SIZE:-10240}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
(cd daemon && go build -o "$tmp/sesmime-relay" ./cmd/sesmime-relay && go build -o "$tmp/fakeses-serve" ./internal/fakeses-serve)
PATH=/usr/sbin:$PATH
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for i in $(seq 100); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }

SINK=$(port); smtp-sink -u nobody 127.0.0.1:$SINK 256 >/dev/null 2>&1 & pids="$pids $!"; wait_port $SINK
RELAY=$(port)
"$tmp/sesmime-relay" --listen 127.0.0.1:$RELAY --upstream smtp+plain://127.0.0.1:$SINK --config-set bench --tag run=bench >/dev/null & pids="$pids $!"
"$tmp/fakeses-serve" > "$tmp/url" & pids="$pids $!"
sleep 0.5; URL=$(cat "$tmp/url")
API=$(port)
AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 \
  "$tmp/sesmime-relay" --listen 127.0.0.1:$API --upstream ses+v2://us-east-1 --endpoint-url "$URL" --rate 1000000 --config-set bench >/dev/null & pids="$pids $!"
RPID=$(echo $pids | awk '{print $2}'); APID=$(echo $pids | awk '{print $4}')
wait_port $RELAY; wait_port $API

run() { # name port -> msgs/s
  s=$(date +%s.%N)
  smtp-source -s $SESSIONS -m $N -l $SIZE -f bench@example.com -t sink@example.org 127.0.0.1:$2 >/dev/null
  e=$(date +%s.%N)
  r=$(echo "$N / ($e - $s)" | bc -l)
  printf '%s %s %.2f\n' "$1" "$ROUND" "$r" >> "$tmp/results"
  printf '%-8s %8.0f msg/s\n' "$1" "$r"
}
for ROUND in $(seq $ROUNDS); do
  run floor $SINK; run relay $RELAY; run api $API
done
rss() { awk '/VmHWM/ {print $2}' /proc/$1/status 2>/dev/null || echo "?"; }
# Paired ratios: each round's relay and api runs against that round's floor,
# so load from other processes that shifts a whole round cancels out.
echo
echo "| path | msg/s (median of $ROUNDS) | ratio to floor: median (min-max) of per-round ratios | peak RSS |"
echo "|---|---|---|---|"
med() { grep "^$1 " "$tmp/results" | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]}'; }
ratios() { awk -v p="$1" '$1=="floor"{f[$2]=$3} $1==p{r[$2]=$3} END{for(k in r) print r[k]/f[k]}' "$tmp/results" | sort -n |
  awk '{a[NR]=$1} END {printf "%.2f (%.2f-%.2f)", a[int((NR+1)/2)], a[1], a[NR]}'; }
printf '| smtp-source → smtp-sink (floor) | %s | 1.00 | – |\n' "$(med floor)"
printf '| smtp-source → sesmime-relay (smtp+plain) → smtp-sink | %s | %s | %s kB |\n' "$(med relay)" "$(ratios relay)" "$(rss $RPID)"
printf '| smtp-source → sesmime-relay (ses+v2) → fake SES API | %s | %s | %s kB |\n' "$(med api)" "$(ratios api)" "$(rss $APID)"
