#!/bin/sh
# make bench-relay: sesmime-relay against a baseline in the same run, ROUNDS
# alternating rounds, SESSIONS concurrent sessions, SIZE-byte messages, N
# messages per run, one message per connection.
#   floor:   client -> smtp-sink
#   relay:   client -> sesmime-relay (smtp+plain) -> smtp-sink
#   api:     client -> sesmime-relay (ses+v2) -> fake SES API (awsses/fakeses)
# Each round runs all three paths with Postfix's smtp-source (rate only), then
# with daemon/internal/smtpload as fast as it goes (rate and latency at full
# load), then with one smtpload run at a fixed RATE per path (RN messages
# each, the three paths in turn transaction by transaction: latency where
# every path keeps up, the relay's own cost). Prints one line per run and two
# tables: medians, per-round ratios to the floor and per-round added latency
# (the path's p50/p99 minus the floor's), median (min to max) over rounds.
set -eu
ROUNDS=${ROUNDS:-5}
N=${N:-2000}
SESSIONS=${SESSIONS:-16}
SIZE=${SIZE:-10240}
RATE=${RATE:-100}
RN=${RN:-500}
cd "$(dirname "$0")/.."
. bench/relaylib.sh

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

echo "start: $(uptime)"
src() { # name port: smtp-source, msgs/s
  s=$(date +%s.%N)
  smtp-source -s $SESSIONS -m $N -l $SIZE -f bench@example.com -t sink@example.org 127.0.0.1:$2 >/dev/null
  e=$(date +%s.%N)
  r=$(echo "$N / ($e - $s)" | bc -l)
  printf 'src-%s %s %.2f\n' "$1" "$ROUND" "$r" >> "$tmp/results"
  printf 'round %s smtp-source %-6s %6.0f msg/s\n' "$ROUND" "$1" "$r"
}
load() { # kind -addr ... [flags]: smtpload, per target: msgs/s p50 p99 (ms)
  k=$1; shift
  out=$("$tmp/smtpload" -sessions $SESSIONS -size $SIZE "$@")
  echo "$out" | awk -v k="$k" -v r="$ROUND" '{for(i=1;i<=NF;i++){split($i,kv,"=");v[kv[1]]=kv[2]} print k "-" v["target"], r, v["rate"], v["p50_ms"], v["p99_ms"]}' >> "$tmp/results"
  echo "$out" | sed "s/^/round $ROUND smtpload $k /"
}
for ROUND in $(seq $ROUNDS); do
  la=$(cut -d' ' -f1 /proc/loadavg); echo "load $la" >> "$tmp/results"
  echo "round $ROUND: 1-minute load average $la"
  src floor $SINK; src relay $RELAY; src api $API
  for t in floor=127.0.0.1:$SINK relay=127.0.0.1:$RELAY api=127.0.0.1:$API; do load load -addr $t -n $N; done
  load rate -addr floor=127.0.0.1:$SINK,relay=127.0.0.1:$RELAY,api=127.0.0.1:$API -n $RN -rate $RATE
done
echo "end:   $(uptime)"
rss() { awk '/VmHWM/ {print $2}' /proc/$1/status 2>/dev/null || echo "?"; }
# med NAME COL: median of column COL over the rounds.
med() { awk -v p="$1" -v c="$2" '$1==p{print $c}' "$tmp/results" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}'; }
# paired BASE NAME COL OP: per-round NAME op BASE (OP "/" ratio, "-" difference),
# so load from other processes that shifts a whole round cancels out.
paired() { awk -v b="$1" -v p="$2" -v c="$3" -v op="$4" '$1==b{f[$2]=$c} $1==p{r[$2]=$c} END{for(k in r) print (op=="/" ? r[k]/f[k] : r[k]-f[k])}' "$tmp/results" | sort -n |
  awk '{a[NR]=$1} END {printf "%.2f (%.2f to %.2f)", a[int((NR+1)/2)], a[1], a[NR]}'; }
name() { case $1 in floor) echo "→ smtp-sink (floor)";; relay) echo "→ sesmime-relay (smtp+plain) → smtp-sink";; api) echo "→ sesmime-relay (ses+v2) → fake SES API";; esac; }
echo
echo "Full load, $SESSIONS sessions, $SIZE-byte messages, $N per run:"
echo
echo "| path | smtp-source msg/s | ratio to floor | smtpload msg/s | ratio to floor | smtpload p50 / p99 (ms) | peak RSS |"
echo "|---|---|---|---|---|---|---|"
printf '| %s | %s | 1.00 | %s | 1.00 | %s / %s | – |\n' "$(name floor)" "$(med src-floor 3)" "$(med load-floor 3)" "$(med load-floor 4)" "$(med load-floor 5)"
for p in relay api; do
  pid=$RPID; [ $p = api ] && pid=$APID
  printf '| %s | %s | %s | %s | %s | %s / %s | %s kB |\n' "$(name $p)" \
    "$(med src-$p 3)" "$(paired src-floor src-$p 3 /)" "$(med load-$p 3)" "$(paired load-floor load-$p 3 /)" \
    "$(med load-$p 4)" "$(med load-$p 5)" "$(rss $pid)"
done
echo
echo "Latency at $RATE msg/s offered to each path, $SESSIONS sessions, $RN per path and round, paths interleaved (from each transaction's scheduled start):"
echo
echo "| path | msg/s | p50 (ms) | p99 (ms) | added p50 (ms) | added p99 (ms) |"
echo "|---|---|---|---|---|---|"
printf '| %s | %s | %s | %s | – | – |\n' "$(name floor)" "$(med rate-floor 3)" "$(med rate-floor 4)" "$(med rate-floor 5)"
for p in relay api; do
  printf '| %s | %s | %s | %s | %s | %s |\n' "$(name $p)" "$(med rate-$p 3)" "$(med rate-$p 4)" "$(med rate-$p 5)" \
    "$(paired rate-floor rate-$p 4 -)" "$(paired rate-floor rate-$p 5 -)"
done
echo
echo "(medians over $ROUNDS rounds; ratios and added latency: median (min to max) of the per-round values;"
echo " 1-minute load average at the rounds' starts $(awk '$1=="load"{print $2}' "$tmp/results" | sort -n | awk '{a[NR]=$1} END {printf "%s to %s", a[1], a[NR]}') on $(nproc) cores)"
