#!/usr/bin/env bash
# inplace-repro.sh: run issue 13's eight reproducers against a fresh
# bin/sesmime and print one PASS/FAIL line per reproducer with its numbers.
# Needs root (other users, ACLs, trusted.* xattrs, an ext4 loop image), go,
# python3, setfacl/getfacl, setfattr/getfattr, setpriv, mkfs.ext4.
#
#   scripts/inplace-repro.sh            # all eight, at the issue's scale
#   ONLY="2 7" scripts/inplace-repro.sh # some of them
#   TRIALS=8 DIRS=4 PER=300 ROUNDS=8    # the scale of 1 and 3
#   KEEP=1                              # keep the work directory
#
# Exit status: the number of reproducers that failed. Details of a failure
# are printed indented under its line.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ONLY=${ONLY:-1 2 3 4 5 6 7 8}
TRIALS=${TRIALS:-8}
DIRS=${DIRS:-4}
PER=${PER:-300}
ROUNDS=${ROUNDS:-8}
NOBODY=65534
export GOWORK=off LC_ALL=C

[ "$(id -u)" = 0 ] || { echo "inplace-repro: needs root" >&2; exit 2; }
for c in go python3 setfacl getfacl setfattr getfattr setpriv mkfs.ext4 timeout fallocate; do
	command -v "$c" >/dev/null || { echo "inplace-repro: $c not found" >&2; exit 2; }
done

T=$(mktemp -d /tmp/inplace-repro.XXXXXX)
chmod 755 "$T"
MOUNTS=()
PIDS=()
cleanup() {
	local p m
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	[ -e "$T/r3/out/iw.pid" ] && kill "$(cat "$T/r3/out/iw.pid")" 2>/dev/null
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
	if [ "${KEEP:-}" = 1 ]; then echo "work directory kept: $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILS=0
RESULTS=()
# result N NAME OK TEXT [DETAILS]: print and keep the line for reproducer N.
result() {
	local line took
	took="$(ms "$T0" "$(now)") ms"
	if [ "$3" = 1 ]; then line="PASS $1 $2 ($took): $4"; else line="FAIL $1 $2 ($took): $4"; FAILS=$((FAILS + 1)); fi
	echo "$line"
	[ "$3" = 1 ] || [ -z "${5:-}" ] || printf '%s\n' "$5" | head -20 | sed 's/^/    /'
}
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); } # ms START END
# "${ASNOBODY[@]}" CMD runs CMD as nobody; a command, not a function, so
# that CMD & gives CMD's own pid.
ASNOBODY=(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups)

# --- helpers written into the work directory -----------------------------

cat >"$T/gen.py" <<'EOF'
# gen.py tree ROOT NDIRS NPER LO HI SEED TAG: NDIRS directories (0: ROOT
#   itself) of NPER messages, sizes log-uniform in [LO, HI] bytes.
# gen.py list ROOT < "NAME SIZE TAG" lines: one message each.
# Every message's body lines name it, and it ends in END-<its id>.
import math, os, random, sys

def message(ident, size):
    head = (f"From: sender@example.com\r\nTo: rcpt@example.org\r\n"
            f"Subject: message {ident}\r\nMessage-ID: <{ident}@example.com>\r\n"
            f"Date: Thu, 03 Dec 2026 07:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=us-ascii\r\n\r\n").encode()
    end = f"END-{ident}\r\n".encode()
    line = f"{ident} body line ".encode()
    body, n = [], 0
    room = size - len(head) - len(end)
    while n < room:
        l = line + f"{len(body):06d} ".encode() + b"x" * 40 + b"\r\n"
        l = l[:max(0, room - n - 2)] + b"\r\n" if n + len(l) > room else l
        body.append(l)
        n += len(l)
    return head + b"".join(body) + end

def write(path, ident, size):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(message(ident, size))

if sys.argv[1] == "tree":
    root, ndirs, nper, lo, hi, seed, tag = sys.argv[2:9]
    rnd = random.Random(int(seed))
    for d in range(max(1, int(ndirs))):
        for i in range(int(nper)):
            sub = f"d{d}/" if int(ndirs) > 0 else ""
            size = int(math.exp(rnd.uniform(math.log(int(lo)), math.log(int(hi)))))
            ident = f"{tag}-d{d}-m{i:03d}-{rnd.getrandbits(32):08x}"
            write(f"{root}/{sub}m{i:03d}.eml", ident, size)
else:
    for l in sys.stdin:
        name, size, tag = l.split()
        write(f"{sys.argv[2]}/{name}", f"{tag}-{name}", int(size))
EOF

cat >"$T/check.py" <<'EOF'
# check.py OLD NEW CUR: is every file of CUR its own OLD or NEW content?
# Prints "old new victims foreign temps" and each victim to stderr.
import os, re, sys
old, new, cur = sys.argv[1:4]
def files(root):
    for d, _, fs in os.walk(root):
        for f in fs:
            yield os.path.relpath(os.path.join(d, f), root)
def read(p):
    with open(p, "rb") as f:
        return f.read()
end = re.compile(rb"END-(\S+)\r\n\Z")
nold = nnew = foreign = 0
victims = []
for rel in sorted(files(old)):
    o, n = read(f"{old}/{rel}"), read(f"{new}/{rel}")
    try:
        c = read(f"{cur}/{rel}")
    except FileNotFoundError:
        victims.append(f"{rel}: missing")
        continue
    if c == o:
        nold += 1
    elif c == n:
        nnew += 1
    else:
        own, m = end.search(o).group(1), end.search(c)
        if m and m.group(1) != own:
            foreign += 1
            victims.append(f"{rel} ({len(o)} bytes): holds {m.group(1).decode()} ({len(c)} bytes)")
        else:
            victims.append(f"{rel} ({len(o)} bytes): mixed, {len(c)} bytes")
temps = [r for r in files(cur) if os.path.basename(r).startswith(".sesmime-")]
print(nold, nnew, len(victims), foreign, len(temps))
for v in victims + [f"temporary file left: {t}" for t in temps]:
    print(v, file=sys.stderr)
EOF

# watch: an unprivileged reader. "watch inotify OUT DIR..." reads every
# file an inotify event names in DIR... and rescans them all the time;
# "watch lines OUT" reads the files named on stdin (inotifywait's output).
# Each read takes up to 256 KiB; one holding "SECRET" is a leak. On
# SIGTERM it writes "events reads temps denied leaks watch-errors" to OUT.
mkdir "$T/watch"
cat >"$T/watch/main.go" <<'EOF'
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

var events, reads, temps, denied, leaks, watchErrs atomic.Int64
var leaked atomic.Value

func read(p string) {
	f, err := os.Open(p)
	if err != nil {
		denied.Add(1)
		return
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	n, _ := io.ReadFull(f, buf)
	reads.Add(1)
	if strings.HasPrefix(filepath.Base(p), ".sesmime-") {
		temps.Add(1)
	}
	if bytes.Contains(buf[:n], []byte("SECRET")) {
		leaks.Add(1)
		leaked.Store(p)
	}
}

func main() {
	out := os.Args[2]
	switch os.Args[1] {
	case "inotify":
		fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		wd := map[int32]string{}
		dirs := os.Args[3:]
		for _, d := range dirs {
			w, err := syscall.InotifyAddWatch(fd, d, syscall.IN_CREATE|syscall.IN_MODIFY|syscall.IN_ATTRIB|syscall.IN_MOVED_TO|syscall.IN_CLOSE_WRITE)
			if err != nil {
				watchErrs.Add(1)
				continue
			}
			wd[int32(w)] = d
		}
		go func() {
			buf := make([]byte, 64<<10)
			for {
				n, err := syscall.Read(fd, buf)
				if err == syscall.EINTR {
					continue
				} else if err != nil {
					return
				}
				for off := 0; off+syscall.SizeofInotifyEvent <= n; {
					ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
					name := bytes.TrimRight(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+int(ev.Len)], "\x00")
					off += syscall.SizeofInotifyEvent + int(ev.Len)
					if d, ok := wd[ev.Wd]; ok && len(name) > 0 {
						events.Add(1)
						read(filepath.Join(d, string(name)))
					}
				}
			}
		}()
		go func() {
			for {
				for _, d := range dirs {
					ents, _ := os.ReadDir(d)
					for _, e := range ents {
						read(filepath.Join(d, e.Name()))
					}
				}
			}
		}()
	case "lines":
		go func() {
			s := bufio.NewScanner(os.Stdin)
			for s.Scan() {
				events.Add(1)
				read(s.Text())
			}
		}()
	}
	time.AfterFunc(30*time.Minute, func() { os.Exit(3) }) // if nobody stops it
	os.WriteFile(out+".ready", nil, 0o644)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	l, _ := leaked.Load().(string)
	os.WriteFile(out, fmt.Appendf(nil, "%d %d %d %d %d %d %s\n", events.Load(), reads.Load(), temps.Load(), denied.Load(), leaks.Load(), watchErrs.Load(), l), 0o644)
}
EOF

# --- build -----------------------------------------------------------------

START=$(now)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || COMMIT="$COMMIT+dirty"
if ! make -C "$ROOT" -s build >"$T/build.log" 2>&1; then
	echo "inplace-repro: make build failed:" >&2
	cat "$T/build.log" >&2
	exit 2
fi
cp "$ROOT/bin/sesmime" "$T/sesmime"
S=$T/sesmime
chmod 755 "$S"
if ! (cd "$T/watch" && go build -o "$T/watchbin" main.go) >"$T/build.log" 2>&1; then
	echo "inplace-repro: building the watcher failed:" >&2
	cat "$T/build.log" >&2
	exit 2
fi
echo "inplace-repro: sesmime at $COMMIT ($(go env GOVERSION), $(uname -r), $(date -u +%FT%TZ))"

# --- 1: two overlapping runs -----------------------------------------------

repro1() {
	local w=$T/r1 t c1 c2 e1 e2 r victims=0 foreign=0 temps=0 nold=0 nnew=0 bad=0 codes="" det="" big t0
	mkdir -p "$w"
	python3 "$T/gen.py" tree "$w/pristine" "$DIRS" "$PER" 2048 1048576 13 msg
	big=$(find "$w/pristine" -name '*.eml' -size +64k | wc -l)
	"$S" inject -r -o "$w/new" --config-set cs1 "$w/pristine" 2>"$w/err" || { result 1 "overlapping runs" 0 "-o to compute the new contents failed" "$(cat "$w/err")"; return; }
	t0=$(now)
	for t in $(seq "$TRIALS"); do
		rm -rf "$w/tree"
		cp -r "$w/pristine" "$w/tree"
		(cd "$w" && "$S" inject -i -r -j 4 --config-set cs1 tree 2>"$w/err1") &
		c1=$!
		(cd "$w" && "$S" inject -i -r -j 4 --config-set cs1 tree 2>"$w/err2") &
		c2=$!
		wait $c1
		e1=$?
		wait $c2
		e2=$?
		codes="$codes $e1/$e2"
		[ "$e1" -le 1 ] && [ "$e2" -le 1 ] || bad=$((bad + 1))
		r=$(python3 "$T/check.py" "$w/pristine" "$w/new" "$w/tree" 2>"$w/victims")
		set -- $r
		nold=$((nold + $1)) nnew=$((nnew + $2)) victims=$((victims + $3)) foreign=$((foreign + $4)) temps=$((temps + $5))
		[ -s "$w/victims" ] && det="$det$(sed "s/^/trial $t: /" "$w/victims")"$'\n'
		[ "$e1" = 0 ] && [ "$e2" = 0 ] || det="$det"trial\ $t:\ exit\ $e1/$e2:\ $(cat "$w/err1" "$w/err2" | head -5)$'\n'
	done
	local ok=0
	[ $victims = 0 ] && [ $temps = 0 ] && [ $bad = 0 ] && [ $((nold + nnew)) = $((TRIALS * DIRS * PER)) ] && ok=1
	result 1 "overlapping runs" $ok "$TRIALS trials x $((DIRS * PER)) files (2 KB-1 MB, $big over 64 KiB), two -i -r -j 4 runs at once: $victims victims ($foreign holding another message), $nnew new + $nold old, $temps temporary files left, exits$codes, $(ms "$t0" "$(now)") ms" "$det"
	rm -rf "$w"
}

# --- 2: a descriptor opened before the run -----------------------------------

repro2() {
	local w=$T/r2 i fd got bad=0 fds=() e rewritten ok=0 det=""
	mkdir -p "$w"
	python3 "$T/gen.py" tree "$w/d" 0 200 1024 8192 2 small
	cp -r "$w/d" "$w/old"
	cd "$w" || return
	exec 3<d/m064.eml
	for i in $(seq -f %03g 0 199); do
		exec {fd}<"d/m$i.eml"
		fds+=("$fd")
	done
	"$S" inject -i -r -j 1 --config-set cs1 d 2>"$w/err"
	e=$?
	got=$(cat <&3 | cmp - old/m064.eml 2>&1 && echo same)
	exec 3<&-
	for i in $(seq 0 199); do
		fd=${fds[$i]}
		cat <&"$fd" >"$w/got"
		if ! cmp -s "$w/got" "old/m$(printf %03d "$i").eml"; then
			bad=$((bad + 1))
			det="$det"m$(printf %03d "$i")": the descriptor read $(wc -c <"$w/got") bytes ending $(grep -a -o 'END-[^[:space:]]*' "$w/got" | tail -1)"$'\n'
		fi
		exec {fd}<&-
	done
	cd "$T" || return
	rewritten=$(grep -l '^X-SES-CONFIGURATION-SET: cs1' "$w"/d/*.eml | wc -l)
	[ "$got" = same ] && [ $bad = 0 ] && [ $e = 0 ] && [ "$rewritten" = 200 ] && ok=1
	result 2 "open descriptor" $ok "fd 3 on d/m064.eml reads the old m064: $([ "$got" = same ] && echo yes || echo "no ($got)"); descriptors on all 200 reading another message: $bad; $rewritten of 200 rewritten, exit $e" "$det$(cat "$w/err")"
	rm -rf "$w"
}

# --- 3: a reader watching the directories ------------------------------------

repro3() {
	local w=$T/r3 p1 p2 e codes="" r i ok=0 rewritten
	mkdir -p "$w/out"
	chmod 777 "$w/out"
	# Private and public directories alternate: a run goes from one to the
	# next (where a recycled temporary file would move with it).
	local d pubs=() privs=()
	for d in 0 1 2 3 4 5 6 7; do
		if [ $((d % 2)) = 0 ]; then
			python3 "$T/gen.py" tree "$w/tree/d$d-priv" 0 25 2048 300000 $d SECRET
			chmod 700 "$w/tree/d$d-priv"
			chmod 600 "$w/tree/d$d-priv"/*.eml
			privs+=("$w/tree/d$d-priv")
		else
			python3 "$T/gen.py" tree "$w/tree/d$d-pub" 0 25 2048 300000 $d public
			chmod 644 "$w/tree/d$d-pub"/*.eml
			pubs+=("$w/tree/d$d-pub")
		fi
	done
	"${ASNOBODY[@]}" "$T/watchbin" inotify "$w/out/go" "${pubs[@]}" "${privs[@]}" "$w/tree" &
	p1=$!
	PIDS+=("$p1")
	if command -v inotifywait >/dev/null; then
		"${ASNOBODY[@]}" sh -c 'echo $$ >"$0.pid"; exec inotifywait -m -q -e create,attrib,moved_to,close_write --format "%w%f" "$@" 2>"$0.err"' "$w/out/iw" "${pubs[@]}" |
			"${ASNOBODY[@]}" "$T/watchbin" lines "$w/out/iw" &
		p2=$!
		PIDS+=("$p2")
	fi
	for i in $(seq 50); do [ -e "$w/out/go.ready" ] && { [ -z "${p2:-}" ] || [ -e "$w/out/iw.ready" ]; } && break; sleep 0.1; done
	sleep 0.5
	for i in $(seq "$ROUNDS"); do
		(cd "$w" && "$S" inject -i -r -j 2 --config-set "cs$((i % 2 + 1))" tree 2>>"$w/err")
		codes="$codes$?"
	done
	rewritten=$(grep -l "^X-SES-CONFIGURATION-SET: cs$((ROUNDS % 2 + 1))" "$w"/tree/*/*.eml | wc -l)
	sleep 0.5
	kill "$p1"
	wait "$p1"
	local iw="" iwev=1
	if [ -n "${p2:-}" ]; then
		kill "$(cat "$w/out/iw.pid")" "$p2"
		wait "$p2"
		read -r ev rd tp dn lk we lf <"$w/out/iw"
		iwev=$ev
		iw="; inotifywait reader: $ev events, $rd reads ($tp of temporary files), $dn refused, $lk with secret bytes${lf:+ ($lf)}"
	fi
	read -r ev rd tp dn lk we lf <"$w/out/go"
	local leaks=$lk
	[ -n "$iw" ] && leaks=$((leaks + $(cut -d' ' -f5 "$w/out/iw")))
	[ "$leaks" = 0 ] && [ "$iwev" -gt 0 ] && [ "$we" = 4 ] && [ "$rd" -gt 0 ] && [ "$rewritten" = 200 ] && [ "$codes" = "$(printf '0%.0s' $(seq "$ROUNDS"))" ] && ok=1
	result 3 "watching reader" $ok "$ROUNDS root runs -i -r -j 2 over 4 private directories (0700, 25 x 0600 each) between 4 public ones (25 x 0644), a reader as nobody: inotify+rescan reader: $ev events, $rd reads ($tp of temporary files), $dn refused, $lk with secret bytes${lf:+ ($lf)}, watches on private directories refused: $we of 4$iw; $rewritten of 200 rewritten, exits $codes" "$(cat "$w/err")"
	rm -rf "$w"
}

# --- 4: ACL and xattrs -------------------------------------------------------

# canread UID GID FILE: can that user (no supplementary groups) read FILE?
canread() { setpriv --reuid="$1" --regid="$2" --clear-groups cat "$3" >/dev/null 2>&1 && echo yes || echo no; }

# meta4 FILE: what reproducer 4 compares: ACL, xattrs, mode and owner, and
# who can read FILE.
meta4() {
	(cd "$(dirname "$1")" && getfacl -n "$(basename "$1")" && getfattr -d -m - "$(basename "$1")") 2>&1
	stat -c 'mode/owner %a %u:%g' "$1"
	echo "nobody reads: $(canread $NOBODY $NOBODY "$1"), group reads: $(canread 4343 100 "$1")"
}

repro4() {
	local w=$T/r4 f m0 m1 ino0 ok=0 e rw=no
	mkdir -p "$w/d"
	printf 'f.eml 100000 acl\n' | python3 "$T/gen.py" list "$w/d"
	f=$w/d/f.eml
	chown 4242:100 "$f"
	chmod 600 "$f"
	if ! setfacl -m user:nobody:r,group::--- "$f" || ! setfattr -n user.origin -v mailbox "$f" || ! setfattr -n trusted.sesmime -v kept "$f"; then
		result 4 "ACL and xattrs" 0 "cannot set an ACL or xattrs in $w"
		return
	fi
	m0=$(meta4 "$f")
	ino0=$(stat -c %i "$f")
	"$S" inject -i -r -j 2 --config-set cs1 "$w/d" 2>"$w/err"
	e=$?
	m1=$(meta4 "$f")
	grep -q '^X-SES-CONFIGURATION-SET: cs1' "$f" && [ "$ino0" != "$(stat -c %i "$f")" ] && rw=yes
	[ "$m0" = "$m1" ] && [ $rw = yes ] && [ $e = 0 ] && echo "$m0" | grep -q 'nobody reads: yes, group reads: no' && ok=1
	result 4 "ACL and xattrs" $ok "0600 file (owner 4242, group 100), user:nobody:r, group::---, user.origin, trusted.sesmime: rewritten (new inode): $rw, exit $e; getfacl, getfattr -d -m - ($(echo "$m0" | grep -c '^[a-z]*\..*=') xattrs), $(echo "$m0" | tail -2 | tr '\n' ' ' | sed 's/ $//'): $([ "$m0" = "$m1" ] && echo identical after || echo "after: $(echo "$m1" | tail -2 | tr '\n' ' ')")" "$(diff <(echo "$m0") <(echo "$m1"))"$'\n'"$(cat "$w/err")"
	rm -rf "$w"
}

# --- 5: set-ID bits as a non-root user ---------------------------------------

repro5() {
	local w=$T/r5 m f e ok=1 out="" det="" n=0
	mkdir -p "$w/d"
	printf 'suid.eml 3000 s\nsgid.eml 3000 g\nboth.eml 3000 b\nboth-big.eml 200000 B\nsgid-700.eml 3000 h\n' | python3 "$T/gen.py" list "$w/d"
	chown -R $NOBODY:$NOBODY "$w/d"
	chmod 4755 "$w/d/suid.eml"
	chmod 2755 "$w/d/sgid.eml"
	chmod 6755 "$w/d/both.eml" "$w/d/both-big.eml"
	chmod 2700 "$w/d/sgid-700.eml"
	declare -A before ino
	for f in "$w"/d/*.eml; do before[$f]=$(stat -c %a "$f") ino[$f]=$(stat -c %i "$f"); done
	"${ASNOBODY[@]}" "$S" inject -i -r -j 2 --config-set cs1 "$w/d" 2>"$w/err"
	e=$?
	for f in "$w"/d/*.eml; do
		m=$(stat -c %a "$f")
		out="$out $(basename "$f" .eml) ${before[$f]}->$m"
		if [ "$m" != "${before[$f]}" ] || ! grep -q '^X-SES-CONFIGURATION-SET: cs1' "$f" || [ "$(stat -c %i "$f")" = "${ino[$f]}" ]; then
			ok=0
			det="$det$(basename "$f"): mode ${before[$f]} -> $m, $(grep -c '^X-SES-CONFIGURATION-SET: cs1' "$f") cs1 fields"$'\n'
		else
			n=$((n + 1))
		fi
	done
	[ $e = 0 ] || ok=0
	result 5 "set-ID bits" $ok "nobody runs -i on its own files:$out; $n of 5 rewritten with their mode, exit $e" "$det$(cat "$w/err")"
	rm -rf "$w"
}

# --- 6: a failing barrier (a Go test through atomicfile's seam) --------------

repro6() {
	local t0 e ok=0 out
	t0=$(now)
	out=$(cd "$ROOT" && go test ./cmd/sesmime -run '^TestBarrierFailureFailsBatch$' -count=1 -v 2>&1)
	e=$?
	echo "$out" | grep -q -- '--- PASS: TestBarrierFailureFailsBatch' && [ $e = 0 ] && ok=1
	result 6 "barrier error" $ok "go test ./cmd/sesmime -run TestBarrierFailureFailsBatch: $(echo "$out" | grep -o -- '--- [A-Z]*: TestBarrierFailureFailsBatch ([0-9.]*s)' || echo "exit $e"), $(ms "$t0" "$(now)") ms with the build" "$out"
}

# --- 7: FIFOs, devices and SIGTERM -------------------------------------------

repro7() {
	local w=$T/r7 ok=1 det="" out="" t0 t1 e err i
	mkdir -p "$w/tree" "$w/o"
	# -o's output lives on a tmpfs (2 GiB, so the 4 GiB copy below is still
	# under way when signalled), so a copy of /dev/zero cannot fill a disk.
	mount -t tmpfs -o size=2g tmpfs "$w/o" && MOUNTS+=("$w/o")
	mkfifo "$w/fifo.eml"
	ln -s ../fifo.eml "$w/tree/pipe.eml"
	ln -s /dev/zero "$w/tree/zero.eml"
	printf 'ok.eml 3000 ok\n' | python3 "$T/gen.py" list "$w/tree"
	cd "$w" || return
	local cases=(
		"-o o/1 fifo.eml"
		"--dry-run fifo.eml"
		"-o o/2 /dev/zero"
		"--dry-run /dev/zero"
		"-o o/3 tree/pipe.eml"
		"-o o/4 tree/zero.eml"
		"--dry-run tree/pipe.eml"
		"-o o/5 -r tree"
		"--dry-run -r tree"
	)
	local max=0
	for c in "${cases[@]}"; do
		t0=$(now)
		# shellcheck disable=SC2086
		(timeout -k 2 10 "$S" inject --config-set cs1 $c >"$w/stdout" 2>"$w/err") 2>/dev/null
		e=$?
		t1=$(ms "$t0" "$(now)")
		[ "$t1" -gt $max ] && max=$t1
		err=$(tr '\n' ' ' <"$w/err")
		local good=1
		case "$c" in
		*-r\ tree) grep -q 'not a regular file' "$w/err" && [ $e = 0 ] || good=0 ;;
		*) grep -q 'not a regular file' "$w/err" && [ $e = 1 ] || good=0 ;;
		esac
		[ "$t1" -lt 1000 ] || good=0
		[ $good = 1 ] || { ok=0; det="$det$c: exit $e after $t1 ms: $err"$'\n'; }
	done
	local wrote
	wrote=$(find o -type f | tr '\n' ' ')
	[ "$wrote" = "o/5/ok.eml " ] || { ok=0; det="${det}files written under -o: $wrote"$'\n'; }
	out="${#cases[@]} -o/--dry-run runs on a FIFO, /dev/zero, links to them, -r over links: refused, slowest $max ms"

	# SIGTERM in the middle of a huge input: a sparse 4 GiB file (-i, -o)
	# and a stdin that never ends.
	printf 'From: a@example.com\r\nSubject: big\r\n\r\n' >"$w/big.eml"
	truncate -s 4G "$w/big.eml"
	local mode pid grow ino0 ino1 sig=""
	ino0=$(stat -c '%i %s %Y' big.eml)
	for mode in -i -o stdin; do
		case $mode in
		-i) "$S" inject --config-set cs1 -i big.eml 2>"$w/err" & pid=$! grow=. ;;
		-o) "$S" inject --config-set cs1 -o o/6 big.eml 2>"$w/err" & pid=$! grow=o/6 ;;
		stdin) "$S" inject --config-set cs1 <(printf 'From: a@example.com\r\n\r\n'; cat /dev/zero) >/dev/null 2>"$w/err" & pid=$! grow= ;;
		esac
		PIDS+=("$pid")
		# Signal once the copy is under way.
		for i in $(seq 200); do
			if [ -z "$grow" ]; then sleep 0.3 && break; fi
			[ -n "$(find "$grow" -maxdepth 1 -name '.sesmime-*' -size +1M 2>/dev/null)" ] && break
			sleep 0.02
		done
		if ! kill -0 "$pid" 2>/dev/null; then
			ok=0
			det="$det$mode: exited before SIGTERM: $(cat "$w/err")"$'\n'
			continue
		fi
		t0=$(now)
		kill -TERM "$pid"
		wait "$pid"
		e=$?
		t1=$(ms "$t0" "$(now)")
		sig="$sig $mode ${t1} ms (exit $e)"
		[ "$t1" -lt 1000 ] && [ $e = 143 ] || { ok=0; det="$det$mode: exit $e ${t1} ms after SIGTERM: $(cat "$w/err")"$'\n'; }
	done
	ino1=$(stat -c '%i %s %Y' big.eml)
	local left
	left=$(find . o -name '.sesmime-*' | wc -l)
	[ "$ino0" = "$ino1" ] && [ "$left" = 0 ] && [ ! -e o/6/big.eml ] || { ok=0; det="${det}after SIGTERM: big.eml $ino0 -> $ino1, $left temporary files, o/6/big.eml $([ -e o/6/big.eml ] && echo exists)"$'\n'; }
	cd "$T" || return
	result 7 "FIFO, device, SIGTERM" $ok "$out; SIGTERM mid-copy:$sig; original untouched, $left temporary files left" "$det"
	umount "$w/o"
	rm -rf "$w"
}

# --- 8: a nearly full disk ---------------------------------------------------

repro8() {
	local w=$T/r8 trial ok=1 line="" det="" i size free freeafter e failed expect lost small big
	mkdir -p "$w"
	# 72 small messages (2-12 blocks) and 8 of 75 blocks, 40 blocks free:
	# only a few copies fit at once, a large one never does. Sizes leave
	# room in the last block for the new field, so space used stays put.
	# Trials: -j 1 and -j 2 (twice) with the large ones, -j 2 without.
	local j nbig
	for trial in 1 2 3 4; do
		j=$((trial == 1 ? 1 : 2)) nbig=$((trial == 4 ? 0 : 8))
		truncate -s 32M "$w/img"
		mkfs.ext4 -q -m 0 -b 4096 "$w/img"
		mkdir -p "$w/mnt"
		mount -o loop "$w/img" "$w/mnt" && MOUNTS+=("$w/mnt")
		: >"$w/expect"
		for i in $(seq -f %02g 0 79); do
			if [ $nbig != 0 ] && [ $((10#$i % 10)) = 3 ]; then size=$((75 * 4096 - 300)) && echo "m$i.eml" >>"$w/expect"; else size=$(((2 + 10#$i % 11) * 4096 - 300)); fi
			echo "m$i.eml $size full"
		done | python3 "$T/gen.py" list "$w/mnt/m"
		sync -f "$w/mnt"
		cp -r "$w/mnt/m" "$w/old"
		free=$(($(stat -f -c '%a*%S' "$w/mnt")))
		fallocate -l $((free - 40 * 4096)) "$w/mnt/filler"
		sync -f "$w/mnt"
		free=$(($(stat -f -c '%a*%S' "$w/mnt") / 1024))
		"$S" inject -i -r -j $j --config-set cs1 "$w/mnt/m" 2>"$w/err"
		e=$?
		sync -f "$w/mnt"
		freeafter=$(($(stat -f -c '%a*%S' "$w/mnt") / 1024))
		failed=$(sed -n 's|^sesmime: .*/\(m[0-9]*\.eml\): .*|\1|p' "$w/err" | sort -u | tr '\n' ' ')
		lost=0 small=0 big=0
		for i in $(seq -f %02g 0 79); do
			f=m$i.eml
			if grep -qx "$f" "$w/expect"; then
				cmp -s "$w/mnt/m/$f" "$w/old/$f" && big=$((big + 1)) || { lost=$((lost + 1)); det="$det$f (too big): not its old content"$'\n'; }
			elif [ "$("$S" inject --config-set cs1 <"$w/old/$f" 2>/dev/null | cmp - "$w/mnt/m/$f" 2>&1 && echo ok)" = ok ]; then
				small=$((small + 1))
			else
				cmp -s "$w/mnt/m/$f" "$w/old/$f" || { lost=$((lost + 1)); det="$det$f: neither old nor new"$'\n'; }
			fi
		done
		local temps
		temps=$(find "$w/mnt" -name '.sesmime-*' | wc -l)
		expect=$(sort "$w/expect" | tr '\n' ' ')
		[ "$failed" = "$expect" ] && [ $lost = 0 ] && [ $small = $((80 - nbig)) ] && [ $big = $nbig ] && [ $temps = 0 ] && [ $e = $((nbig == 0 ? 0 : 1)) ] || {
			ok=0
			local odd
			odd=$(comm -3 <(echo "$failed" | tr ' ' '\n' | sed '/^$/d') <(echo "$expect" | tr ' ' '\n' | sed '/^$/d') | tr -d '\t' | tr '\n' ' ')
			det="${det}trial $trial (-j $j): failed: $failed; expected: $expect; exit $e; not as expected: $odd"$'\n'"$(for f in $odd; do grep "/$f: " "$w/err"; done | head -6)"$'\n'
		}
		line="$line; -j $j, $nbig large: $(echo "$failed" | wc -w) failed ($(echo "$expect" | wc -w) expected, $(comm -3 <(echo "$failed" | tr ' ' '\n' | sed '/^$/d') <(echo "$expect" | tr ' ' '\n' | sed '/^$/d') | wc -l) differ), $small rewritten, $lost lost, $temps temporary files, ${free}->${freeafter} KiB free"
		umount "$w/mnt"
		rm -rf "$w/old" "$w/img"
	done
	result 8 "nearly full disk" $ok "80 files on ext4 with 160 KiB free, 8-48 KiB each or 8 of them 300 KiB${line}" "$det"
	rm -rf "$w"
}

for n in 1 2 3 4 5 6 7 8; do
	want $n && T0=$(now) && repro$n
done
echo "inplace-repro: $FAILS failed, $(ms "$START" "$(now)") ms"
exit $FAILS
