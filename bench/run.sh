#!/bin/sh
# bench/run.sh: sesmime's benchmarks, library and command line, in one run.
#
#   bench/run.sh            # everything (about 17 minutes on 2 cores; the formail loops take most)
#   ROUNDS=15 TREE_ROUNDS=3 COUNT=5 bench/run.sh
#   SKIP_GO=1 SKIP_TREE=1 bench/run.sh
#
# Builds sesmime, bench/gocat (io.Copy(os.Stdout, os.Stdin): the floor of any
# Go command) and the helpers into a temporary directory, generates the
# inputs there (bench/msggen: multipart, base64 attachments, DKIM, folded
# Received, CRLF) and removes it at the end. Needs cat, formail (Debian
# procmail), reformail (Debian maildrop), and optionally /usr/bin/time
# (Debian time) and strace. bench/cmpcmd times the commands alternately in
# rounds and takes peak RSS from getrusage, as /usr/bin/time -v does.
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-15}
TREE_ROUNDS=${TREE_ROUNDS:-3}
TREE_N=${TREE_N:-10000}
COUNT=${COUNT:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesmime-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "## machine"
echo "nproc: $(nproc); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $(go version)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
echo

CGO_ENABLED=0 go build -o "$tmp/sesmime" ./cmd/sesmime
CGO_ENABLED=0 go build -o "$tmp/gocat" ./bench/gocat
CGO_ENABLED=0 go build -o "$tmp/injectmin" ./bench/injectmin
go build -o "$tmp/genmsg" ./bench/genmsg
go build -o "$tmp/cmpcmd" ./bench/cmpcmd
go build -o "$tmp/benchtab" ./bench/benchtab

if [ -z "${SKIP_GO:-}" ]; then
	echo "## library (go test -bench, $COUNT alternating runs, medians)"
	go test -c -o "$tmp/inject.test" ./inject
	for i in $(seq "$COUNT"); do
		"$tmp/inject.test" -test.run '^$' -test.bench . -test.benchmem -test.count 1
	done | grep '^Benchmark' | "$tmp/benchtab" | sed -n '/^| benchmark/,$p'
	echo
fi

opts="--config-set news --tag campaign=spring --tag variant=b"
echo "## command line, one message: stdin file -> stdout file ($ROUNDS alternating rounds)"
for size in 10 40; do
	"$tmp/genmsg" -size $((size << 20)) >"$tmp/in$size.eml"
	"$tmp/cmpcmd" -in "$tmp/in$size.eml" -out "$tmp/out.eml" -rounds "$ROUNDS" -base gocat -label "${size}MiB" \
		"cat=cat" "gocat=$tmp/gocat" "injectmin=$tmp/injectmin news" "sesmime=$tmp/sesmime inject $opts" | if [ "$size" = 10 ]; then cat; else sed 1,2d; fi
done
echo
echo "start-up alone (3 KB message):"
head -c 3000 "$tmp/in10.eml" >"$tmp/small.eml"
"$tmp/cmpcmd" -in "$tmp/small.eml" -out "$tmp/out.eml" -rounds "$ROUNDS" -base gocat -label 3KB \
	"cat=cat" "gocat=$tmp/gocat" "injectmin=$tmp/injectmin news" "sesmime=$tmp/sesmime inject $opts" "sesmime-version=$tmp/sesmime version"
echo
if command -v /usr/bin/time >/dev/null; then
	for size in 10 40; do
		rss=$(/usr/bin/time -v "$tmp/sesmime" inject $opts <"$tmp/in$size.eml" 2>&1 >"$tmp/out.eml" | awk -F': ' '/Maximum resident/ {print $2}')
		echo "/usr/bin/time -v, sesmime ${size}MiB: maximum resident set size ${rss} KiB"
	done
	echo
fi
if command -v strace >/dev/null; then
	echo "body copy system calls (strace -f -c), 10MiB:"
	for mode in file-file pipe-file file-pipe pipe-pipe; do
		st="$tmp/strace.$mode"
		case $mode in
		file-file) strace -f -qq -c -e trace=copy_file_range,splice,sendfile,read,write -o "$st" "$tmp/sesmime" inject $opts <"$tmp/in10.eml" >"$tmp/out.eml" ;;
		pipe-file) cat "$tmp/in10.eml" | strace -f -qq -c -e trace=copy_file_range,splice,sendfile,read,write -o "$st" "$tmp/sesmime" inject $opts >"$tmp/out.eml" ;;
		file-pipe) strace -f -qq -c -e trace=copy_file_range,splice,sendfile,read,write -o "$st" "$tmp/sesmime" inject $opts <"$tmp/in10.eml" | cat >"$tmp/out.eml" ;;
		pipe-pipe) cat "$tmp/in10.eml" | strace -f -qq -c -e trace=copy_file_range,splice,sendfile,read,write -o "$st" "$tmp/sesmime" inject $opts | cat >"$tmp/out.eml" ;;
		esac
		printf '  %-9s %s\n' "$mode:" "$(awk '$NF ~ /^(read|write|splice|copy_file_range|sendfile)$/ {printf "%s %s  ", $NF, $4}' "$st")"
	done
	echo
fi

if [ -z "${SKIP_TREE:-}" ]; then
	# The tree in place: bench/tree.sh (journaled ext4 loop image, then this fs).
	ROUNDS=$TREE_ROUNDS TREE_N=$TREE_N bench/tree.sh
fi
