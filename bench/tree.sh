#!/bin/sh
# bench/tree.sh: sesmime -i over a tree of TREE_N ~4 KiB messages (10
# directories), against `cp -r TREE COPY && sync -f COPY` on the same file
# system (the floor) and a formail loop, in alternating rounds.
#
#   bench/tree.sh                       # journaled ext4 loop image, then this machine's fs
#   ROUNDS=3 TREE_N=10000 OLD=path/to/old/sesmime bench/tree.sh
#   SKIP_LOCAL=1 bench/tree.sh          # the loop image only
#   STRACE=1 bench/tree.sh              # also system calls per file (strace -c -f)
#
# The headline is a journaled ext4 loop image (truncate, mkfs.ext4 with
# defaults, mount -o loop; needs root); the second line is the machine's own
# file system under TMPDIR. Each round restores the tree from a pristine
# copy, syncs, then times every command once; ratios are per round against
# that round's cp+sync, and the median is printed. OLD adds another sesmime
# binary (say, a build of an earlier commit) as "old-j1"/"old-j2".
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
TREE_N=${TREE_N:-10000}
FORMAIL_N=${FORMAIL_N:-500} # one fork and exec per file: slow, so timed on part of the tree
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sesmime-tree.XXXXXX")
mnt="$tmp/mnt"
cleanup() {
	mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
CGO_ENABLED=0 go build -o "$tmp/sesmime" ./cmd/sesmime
go build -o "$tmp/genmsg" ./bench/genmsg
"$tmp/genmsg" -size 4096 -tree "$tmp/gen" -n "$TREE_N"
cat >"$tmp/loop.sh" <<'LOOP'
#!/bin/sh
find tree -name '*.eml' | head -n "$1" | while read -r f; do
	formail -I "X-SES-CONFIGURATION-SET: news" <"$f" >"$f.tmp" && mv "$f.tmp" "$f"
done
LOOP
# one.sh C D runs command C once on the tree under D.
cat >"$tmp/one.sh" <<'ONE'
#!/bin/sh
case $1 in
cp) cp -r "$2/tree" "$2/copy" && sync -f "$2/copy" ;;
sesmime-j1) "$tmp/sesmime" inject -i -r -j 1 --config-set news "$2/tree" 2>/dev/null ;;
sesmime-j2) "$tmp/sesmime" inject -i -r -j 2 --config-set news "$2/tree" 2>/dev/null ;;
old-j1) "$OLD" inject -i -r -j 1 --config-set news "$2/tree" 2>/dev/null ;;
old-j2) "$OLD" inject -i -r -j 2 --config-set news "$2/tree" 2>/dev/null ;;
formail) cd "$2" && sh "$tmp/loop.sh" "$FORMAIL_N" ;;
esac
ONE
export tmp OLD FORMAIL_N
# CPU time (user+sys of the command and its children) where GNU time is.
echo "0,0" >"$tmp/cpu"
cpu=
[ -x /usr/bin/time ] && cpu="/usr/bin/time -f %U,%S -o $tmp/cpu"
now() { date +%s.%N; }

# run FS_DIR LABEL: the rounds on the file system holding FS_DIR.
run() {
	d=$1
	rm -rf "$d/pristine" "$d/tree" "$d/copy"
	cp -a "$tmp/gen" "$d/pristine"
	cmds="cp sesmime-j1 sesmime-j2"
	[ -n "${OLD:-}" ] && cmds="$cmds old-j1 old-j2"
	command -v formail >/dev/null && cmds="$cmds formail"
	: >"$tmp/times"
	for r in $(seq "$ROUNDS"); do
		for c in $cmds; do
			[ "$c" = formail ] && [ "$r" -gt 1 ] && continue # slow: first round only
			rm -rf "$d/tree" "$d/copy"
			cp -a "$d/pristine" "$d/tree"
			sync -f "$d"
			t0=$(now)
			$cpu sh "$tmp/one.sh" "$c" "$d"
			t1=$(now)
			u=$(awk -F, '{ print $1 + $2 }' "$tmp/cpu")
			# formail runs over FORMAIL_N files: its time is scaled to TREE_N.
			[ "$c" = formail ] && t1=$(echo "$t0 + ($t1 - $t0) * $TREE_N / $FORMAIL_N" | bc) && u=$(echo "$u * $TREE_N / $FORMAIL_N" | bc)
			echo "$r $c $(echo "$t1 - $t0" | bc) $u" >>"$tmp/times"
		done
	done
	echo "| command | rounds | median s | ratio to cp+sync (per round, median) | median CPU s (user+sys) |"
	echo "|---|---:|---:|---:|---:|"
	for c in $cmds; do
		awk '$2 == "cp" { cp[$1] = $3 } $2 == c { print $3, $3 / cp[$1], $4 }' c="$c" "$tmp/times" >"$tmp/one"
		n=$(wc -l <"$tmp/one")
		m=$(((n + 1) / 2))
		t=$(cut -d' ' -f1 "$tmp/one" | sort -g | sed -n "${m}p")
		q=$(cut -d' ' -f2 "$tmp/one" | sort -g | sed -n "${m}p")
		u=$(cut -d' ' -f3 "$tmp/one" | sort -g | sed -n "${m}p")
		printf '| %s | %d | %.3f | %.2f× | %.2f |\n' "$c" "$n" "$t" "$q" "$u"
	done
	[ -n "${STRACE:-}" ] && syscalls "$d" "$cmds"
	rm -rf "$d/pristine" "$d/tree" "$d/copy"
}

# syscalls D CMDS: system calls per file of each command, from one run
# under strace -c -f (whose times mean nothing). The Go runtime's futex and
# nanosleep calls (scheduling) and the shells' own calls are left out.
syscalls() {
	echo
	echo "| command | calls per file | the most frequent (per file) |"
	echo "|---|---:|---|"
	for c in $2; do
		[ "$c" = formail ] && continue
		rm -rf "$1/tree" "$1/copy"
		cp -a "$1/pristine" "$1/tree"
		sync -f "$1"
		strace -c -f -o "$tmp/strace" sh "$tmp/one.sh" "$c" "$1"
		awk -v n="$TREE_N" -v c="$c" '$4 ~ /^[0-9]+$/ && $NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $NF != "futex" && $NF != "nanosleep" && $NF != "wait4" {
			calls[$NF] = $4; sum += $4 }
			END { for (s in calls) if (calls[s] >= n / 2) big = big sprintf("%s %.1f, ", s, calls[s] / n)
			printf "| %s | %.1f | %s |\n", c, sum / n, substr(big, 1, length(big) - 2) }' "$tmp/strace"
	done
}

echo "## $TREE_N x 4 KiB, 10 directories; $(nproc) CPUs; $(go version | cut -d' ' -f3); commit $(git rev-parse --short HEAD)"
if [ "$(id -u)" = 0 ]; then
	truncate -s 2G "$tmp/ext4.img"
	mkfs.ext4 -q -F "$tmp/ext4.img"
	mkdir "$mnt"
	mount -o loop "$tmp/ext4.img" "$mnt"
	echo
	echo "### journaled ext4 loop image (mkfs.ext4 defaults)"
	run "$mnt"
	umount "$mnt"
	rm -f "$tmp/ext4.img"
fi
[ -n "${SKIP_LOCAL:-}" ] && exit 0
echo
echo "### this machine's file system ($(df --output=fstype "$tmp" | tail -1), under ${TMPDIR:-/tmp})"
run "$tmp"
