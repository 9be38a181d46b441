#!/bin/sh
# bench/tree.sh: sesmime -i over a tree of TREE_N ~4 KiB messages (10
# directories), against `cp -r TREE COPY && sync -f COPY` on the same file
# system (the floor) and a formail loop, in alternating rounds.
#
#   bench/tree.sh                       # journaled ext4 loop image, then this machine's fs
#   ROUNDS=3 TREE_N=10000 OLD=path/to/old/sesmime bench/tree.sh
#   SKIP_LOCAL=1 bench/tree.sh          # the loop image only
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
			case $c in
			cp) cp -r "$d/tree" "$d/copy" && sync -f "$d/copy" ;;
			sesmime-j1) "$tmp/sesmime" inject -i -r -j 1 --config-set news "$d/tree" 2>/dev/null ;;
			sesmime-j2) "$tmp/sesmime" inject -i -r -j 2 --config-set news "$d/tree" 2>/dev/null ;;
			old-j1) "$OLD" inject -i -r -j 1 --config-set news "$d/tree" 2>/dev/null ;;
			old-j2) "$OLD" inject -i -r -j 2 --config-set news "$d/tree" 2>/dev/null ;;
			formail) (cd "$d" && sh "$tmp/loop.sh" "$FORMAIL_N") ;;
			esac
			t1=$(now)
			# formail runs over FORMAIL_N files: its time is scaled to TREE_N.
			[ "$c" = formail ] && t1=$(echo "$t0 + ($t1 - $t0) * $TREE_N / $FORMAIL_N" | bc)
			echo "$r $c $(echo "$t1 - $t0" | bc)" >>"$tmp/times"
		done
	done
	echo "| command | rounds | median s | ratio to cp+sync (per round, median) |"
	echo "|---|---:|---:|---:|"
	for c in $cmds; do
		awk '$2 == "cp" { cp[$1] = $3 } $2 == c { print $3, $3 / cp[$1] }' c="$c" "$tmp/times" >"$tmp/one"
		n=$(wc -l <"$tmp/one")
		m=$(((n + 1) / 2))
		t=$(cut -d' ' -f1 "$tmp/one" | sort -g | sed -n "${m}p")
		q=$(cut -d' ' -f2 "$tmp/one" | sort -g | sed -n "${m}p")
		printf '| %s | %d | %.3f | %.2f× |\n' "$c" "$n" "$t" "$q"
	done
	rm -rf "$d/pristine" "$d/tree" "$d/copy"
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
