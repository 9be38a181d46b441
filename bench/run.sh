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
# Seconds of quiet before each timed tree run: ext4 without a journal skips
# inodes freed in the last 30 s when it allocates one (recently_deleted), so
# a run right after another tool's deletions would pay for them.
SETTLE=${SETTLE:-31}
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
	echo "## command line, a tree of $TREE_N 4 KiB messages, X-SES-CONFIGURATION-SET replaced in place ($TREE_ROUNDS alternating rounds; formail and reformail in the first only)"
	"$tmp/genmsg" -size 4096 -tree "$tmp/pristine" -n "$TREE_N"
	cat >"$tmp/loop.sh" <<'LOOP'
#!/bin/sh
# $1: formail or reformail; each file rewritten to a temporary and renamed.
find tree -name '*.eml' | while read -r f; do
	$1 -I "X-SES-CONFIGURATION-SET: news" <"$f" >"$f.tmp" && mv "$f.tmp" "$f"
done
LOOP
	cd "$tmp"
	# The tree is restored by overwriting each file in place (no inode is
	# freed), then left alone for $SETTLE s.
	cp -a pristine tree
	./cmpcmd -rounds "$TREE_ROUNDS" -once formail,reformail -bytes $((TREE_N * 4096)) -base formail -label "${TREE_N}x4KiB" \
		-prepare "cp -a pristine/. tree/ && sync && sleep $SETTLE" \
		"formail=sh loop.sh formail" "reformail=sh loop.sh reformail" \
		"sesmime-j1=./sesmime inject -i -r -j 1 --config-set news tree" \
		"sesmime-j2=./sesmime inject -i -r -j 2 --config-set news tree" 2>/dev/null
	if command -v strace >/dev/null; then
		cp -a pristine/. tree/ && sync && sleep "$SETTLE"
		echo
		echo "where sesmime -i -j1 waits (strace -f -w -c: wall time in each call, strace slows each call; futex and nanosleep are idle runtime threads):"
		strace -f -qq -w -c -o strace.tree ./sesmime inject -i -r -j 1 --config-set news tree 2>/dev/null
		awk 'NR>2 && $1 ~ /^[0-9.]+$/ && $NF != "total"' strace.tree | head -8 | awk '{printf "  %-12s %5s%%  %s s  %s calls\n", $NF, $1, $2, $4}'
	fi
	cd - >/dev/null
fi
