# relaylib.sh: what bench/relay.sh and bench/peers.sh share, sourced from
# the repository's root: a temporary directory and the processes to stop
# with it (append each PID to $pids), the daemon module's sesmime-relay,
# fakeses-serve and smtpload built into it, Postfix's tools on PATH, and
# port / wait_port for loopback listeners.
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
(cd daemon && go build -o "$tmp/sesmime-relay" ./cmd/sesmime-relay && go build -o "$tmp/fakeses-serve" ./internal/fakeses-serve &&
  go build -o "$tmp/smtpload" ./internal/smtpload)
PATH=/usr/sbin:$PATH
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for i in $(seq 100); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }
