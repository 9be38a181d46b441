#!/bin/sh
# make bench-peers: sesmime-relay (ses+v2 and ses+v1 upstreams) against the
# Go relays people use instead, on the fake SES API, in one run.
#   PEERS_DIR/aws-smtp-relay   github.com/blueimp/aws-smtp-relay
#   PEERS_DIR/ses-smtpd-proxy  github.com/mcrute/ses-smtpd-proxy
# (how to build them: bench/README.md, "Peers"). Every relay reaches the
# fake the same way, over HTTPS as it would reach SES: HTTPS_PROXY and
# AWS_CA_BUNDLE point it at daemon/internal/fakeses-serve's proxy (the
# peers take no endpoint URL). Each relay signs with its own access key,
# and after every run the fake's count of accepted sends for that key must
# have grown by the run's message count, so no relay is measured failing
# fast.
# ROUNDS rounds, each running every relay with Postfix's smtp-source (rate
# only) and daemon/internal/smtpload (rate and latency), SESSIONS
# concurrent sessions, N SIZE-byte messages per run, one message per
# connection; the relays' order rotates from round to round. Prints one
# line per run, then medians, per-round ratios sesmime-relay/peer (median,
# min to max), each relay's CPU time per message (user + system, from
# /proc/PID/stat around each run: on a shared machine the rate mixes in
# the harness and the neighbours, the CPU time is the relay's own), the
# fake's CPU time per message with each relay (its proxy's TLS included:
# what shares the machine with the relay) and each relay's peak RSS (VmHWM)
# over the whole run.
set -eu
ROUNDS=${ROUNDS:-5}
N=${N:-2000}
SESSIONS=${SESSIONS:-16}
SIZE=${SIZE:-10240}
: "${PEERS_DIR:?set PEERS_DIR to the directory of the peer binaries (bench/README.md, Peers)}"
[ -d "$PEERS_DIR" ] || { echo "peers.sh: PEERS_DIR $PEERS_DIR is not a directory" >&2; exit 2; }
PEERS_DIR=$(cd "$PEERS_DIR" && pwd)
for b in aws-smtp-relay ses-smtpd-proxy; do
  [ -x "$PEERS_DIR/$b" ] || { echo "peers.sh: no executable $PEERS_DIR/$b" >&2; exit 2; }
done
cd "$(dirname "$0")/.."
. bench/relaylib.sh
command -v smtp-source >/dev/null || { echo "peers.sh: smtp-source missing (apt-get install -y postfix)" >&2; exit 2; }

"$tmp/fakeses-serve" -proxy "$tmp/ca.pem" > "$tmp/fake" 2> "$tmp/fake.log" & pids="$pids $!" FAKE=$!
for i in $(seq 50); do [ "$(wc -l < "$tmp/fake")" -ge 2 ] && break; sleep 0.1; done
PROXY=$(sed -n 2p "$tmp/fake")
# sent KEY: how many sends the fake accepted from relays signing with KEY.
sent() { python3 -c "import sys,urllib.request
for l in urllib.request.urlopen('$PROXY/sent').read().decode().splitlines():
    k,n=l.split()
    if k==sys.argv[1]: print(n); break
else: print(0)" "$1"; }

# Every relay gets the same AWS settings but the access key, and nothing
# from the environment's own AWS configuration (env execs the relay, so $!
# is the relay's PID).
NAMES="v2 v1 blueimp mcrute"
start() { # name port
  case $1 in
  v2) set -- "$1" "$2" AKIDSESMIMEV2 "$tmp/sesmime-relay" --listen "127.0.0.1:$2" --upstream ses+v2://us-east-1 --rate 1000000 --config-set bench ;;
  v1) set -- "$1" "$2" AKIDSESMIMEV1 "$tmp/sesmime-relay" --listen "127.0.0.1:$2" --upstream ses+v1://us-east-1 --rate 1000000 --config-set bench ;;
  blueimp) set -- "$1" "$2" AKIDBLUEIMP "$PEERS_DIR/aws-smtp-relay" -a "127.0.0.1:$2" -e bench ;;
  mcrute) set -- "$1" "$2" AKIDMCRUTE "$PEERS_DIR/ses-smtpd-proxy" -disable-prometheus -configuration-set-name bench "127.0.0.1:$2" ;;
  esac
  n=$1 p=$2 k=$3; shift 3
  env -i PATH="$PATH" HOME="$tmp" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID="$k" AWS_SECRET_ACCESS_KEY=bench \
    AWS_CONFIG_FILE="$tmp/none" AWS_SHARED_CREDENTIALS_FILE="$tmp/none" AWS_EC2_METADATA_DISABLED=true \
    HTTPS_PROXY="$PROXY" AWS_CA_BUNDLE="$tmp/ca.pem" "$@" > "$tmp/$n.log" 2>&1 &
  pids="$pids $!"
  echo "$n $p $k $!" >> "$tmp/relays"
}
for n in $NAMES; do start "$n" "$(port)"; done
while read -r n p k pid; do wait_port "$p"; done < "$tmp/relays"
field() { awk -v n="$1" -v c="$2" '$1==n{print $c}' "$tmp/relays"; }
name() { case $1 in v2) echo "sesmime-relay (ses+v2)";; v1) echo "sesmime-relay (ses+v1)";;
  blueimp) echo "blueimp/aws-smtp-relay";; mcrute) echo "mcrute/ses-smtpd-proxy";; esac; }

# check NAME BEFORE: the fake must have accepted N more sends from NAME.
check() {
  got=$(( $(sent "$(field "$1" 3)") - $2 ))
  if [ "$got" -ne "$N" ]; then
    echo "peers.sh: $(name "$1"): $got of $N messages reached the fake SES; log:" >&2
    tail -5 "$tmp/$1.log" >&2
    exit 1
  fi
}
# cpu NAME: the relay's user+system CPU so far, in clock ticks.
CLK=$(getconf CLK_TCK)
cpu() { ticks "$(field "$1" 4)"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# percpu KIND NAME ROUND TICKS0: the relay's CPU per message of that run, in us.
percpu() { echo "cpu-$1-$2 $3 $(echo "($(cpu "$2") - $4) * 1000000 / $CLK / $N" | bc -l)" >> "$tmp/results"; }
src() { # name: smtp-source, msgs/s; also the fake's (and its proxy's) CPU per message
  before=$(sent "$(field "$1" 3)") c0=$(cpu "$1") f0=$(ticks "$FAKE")
  s=$(date +%s.%N)
  smtp-source -s "$SESSIONS" -m "$N" -l "$SIZE" -f bench@example.com -t sink@example.org "127.0.0.1:$(field "$1" 2)" >/dev/null
  e=$(date +%s.%N)
  check "$1" "$before"
  percpu src "$1" "$ROUND" "$c0"
  echo "fake-$1 $ROUND $(echo "($(ticks "$FAKE") - $f0) * 1000000 / $CLK / $N" | bc -l)" >> "$tmp/results"
  r=$(echo "$N / ($e - $s)" | bc -l)
  printf 'src-%s %s %.2f\n' "$1" "$ROUND" "$r" >> "$tmp/results"
  printf 'round %s smtp-source %-8s %6.0f msg/s\n' "$ROUND" "$1" "$r"
}
load() { # name: smtpload, msgs/s p50 p99 (ms)
  before=$(sent "$(field "$1" 3)") c0=$(cpu "$1")
  out=$("$tmp/smtpload" -sessions "$SESSIONS" -size "$SIZE" -n "$N" -addr "$1=127.0.0.1:$(field "$1" 2)")
  check "$1" "$before"
  percpu load "$1" "$ROUND" "$c0"
  echo "$out" | awk -v r="$ROUND" '{for(i=1;i<=NF;i++){split($i,kv,"=");v[kv[1]]=kv[2]} print "load-" v["target"], r, v["rate"], v["p50_ms"], v["p99_ms"]}' >> "$tmp/results"
  echo "$out" | sed "s/^/round $ROUND smtpload /"
}

echo "start: $(uptime)"
for ROUND in $(seq "$ROUNDS"); do
  la=$(cut -d' ' -f1 /proc/loadavg); echo "load $la" >> "$tmp/results"
  echo "round $ROUND: 1-minute load average $la"
  # Rotate the order so that no relay always runs first or last.
  order=$(echo $NAMES | awk -v r="$ROUND" '{for(i=0;i<NF;i++) printf "%s ", $(((i+r-1)%NF)+1)}')
  for n in $order; do src "$n"; done
  for n in $order; do load "$n"; done
done
echo "end:   $(uptime)"
rss() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo "?"; }
med() { awk -v p="$1" -v c="$2" '$1==p{print $c}' "$tmp/results" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}'; }
# paired BASE NAME COL: per-round NAME/BASE, median (min to max).
paired() { awk -v b="$1" -v p="$2" -v c="$3" '$1==b{f[$2]=$c} $1==p{r[$2]=$c} END{for(k in r) print r[k]/f[k]}' "$tmp/results" | sort -n |
  awk '{a[NR]=$1} END {printf "%.2f (%.2f–%.2f)", a[int((NR+1)/2)], a[1], a[NR]}'; }
echo
echo "$SESSIONS sessions, $SIZE-byte messages, $N per run, every relay over HTTPS through the fake's proxy:"
echo
echo "| relay | smtp-source msg/s | smtpload msg/s | smtpload p50 / p99 (ms) | relay CPU per message (us), smtp-source / smtpload | fake SES CPU per message (us), smtp-source | peak RSS |"
echo "|---|---|---|---|---|---|---|"
for n in $NAMES; do
  printf '| %s | %s | %s | %s / %s | %s / %s | %s | %s kB |\n' "$(name "$n")" "$(med "src-$n" 3)" "$(med "load-$n" 3)" \
    "$(med "load-$n" 4)" "$(med "load-$n" 5)" "$(med "cpu-src-$n" 3)" "$(med "cpu-load-$n" 3)" "$(med "fake-$n" 3)" "$(rss "$(field "$n" 4)")"
done
echo
echo "| per round | msg/s ratio, smtp-source | msg/s ratio, smtpload | CPU per message, peer / sesmime-relay, smtpload |"
echo "|---|---|---|---|"
for s in v2 v1; do for p in blueimp mcrute; do
  printf '| %s / %s | %s | %s | %s |\n' "$(name "$s")" "$(name "$p")" "$(paired "src-$p" "src-$s" 3)" "$(paired "load-$p" "load-$s" 3)" \
    "$(paired "cpu-load-$s" "cpu-load-$p" 3)"
done; done
echo
echo "(medians over $ROUNDS rounds; ratios: median (min–max) of the per-round values; every run's $N"
echo " messages counted at the fake; 1-minute load average at the rounds' starts"
echo " $(awk '$1=="load"{print $2}' "$tmp/results" | sort -n | awk '{a[NR]=$1} END {printf "%s to %s", a[1], a[NR]}') on $(nproc) cores)"
