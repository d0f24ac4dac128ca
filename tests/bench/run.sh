#!/bin/sh
# make bench: how fast kmsrecover reads a backup into staging, how long the
# service is down, how much memory it takes, against the tools an operator
# would otherwise use (bsdtar, sha256sum, mv, rm). Run from the build tree
# (make bench does); prints a table of medians over BENCH_RUNS runs (5) with
# their minimum and maximum, each target beside its figure.
#
#   BENCH_QUICK=1        sizes divided by 16 (a minute or two, to try things)
#   BENCH_RUNS=N         runs of each measure (at least 5 for the table)
#   BENCH_SIZES=...      realistic small (the default: both)
#   BENCH_FORMATS=...    tar tar.gz tar.zst zip (the default: all four)
#   BENCH_SMALL_FORMATS  those the small tree is also staged from (tar: its
#                        time is the disk's 100,000 files, not the format's)
#   BENCH_TMPDIR=DIR     where the data goes (default /tmp; needs ~14 GB)
#   BENCH_KEEP=1         keep the data folder (it is removed otherwise)
#   BENCH_REPORT=FILE    only print the report of an earlier run's figures
#   BENCH_READ=SECONDS   the wizard's reading time on each screen (3)
#   BENCH_ONLY=console   only the batch recoveries and the console's measures
#
# The figures go to bench-results.txt in the build tree as they come, the
# report to bench-report.txt.
#
# The data (tests/bench/mkdata.c, a fixed seed): "realistic" is a KM
# Server's Kmsdata, one 512 MiB Kmsmdb.edb and 40 edb*.log of 5 MiB;
# "small" is 100,000 files of 4 KiB in 100 folders. Each is archived with
# MANIFEST.sha256 last (as kmsrecover's own backups have it).
# tests/bench/driver.c times one backend call (staging, validating, the
# quarantine) with the frontend a recovery would give it, and runs the
# other commands for their wall time and peak RSS (wait4). The machine is
# shared and noisy: compare the ratios, which come from one run of each
# measure taken side by side, and re-run when the spread (min..max) is wide.
set -u
LC_ALL=C
export LC_ALL

bench_src=$(cd "$(dirname "$0")" && pwd)
builddir=$(pwd)
KMSRECOVER=$builddir/kmsrecover
KMSIM=$builddir/sandbox/kmsim/kmsim
runs=${BENCH_RUNS:-5}
sizes=${BENCH_SIZES:-realistic small}
formats=${BENCH_FORMATS:-tar tar.gz tar.zst zip}
scale=1
need_kb=14000000
if [ -n "${BENCH_QUICK:-}" ]; then
	scale=16
	need_kb=1000000
fi
started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

say() { printf '%s\n' "bench: [$(($(date +%s) - started)) s] $*" >&2; }
die() { say "$*"; exit 1; }

# The report: medians [min..max] of each measure; ratios are the medians
# of the per-run ratios (each run's two figures were taken side by side).
# The results file starts with "# key value" lines saying how it was made.
report() { # report RESULTS
	awk '
function sort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
}
# collect(KEY[, KEY2[, OP]]): the runs of KEY (+ or / KEY2), sorted into x[]; their count
function collect(k, k2, op,    r, n, val) {
	n = 0
	for (r = 1; r <= runs; r++) {
		if (!((k, r) in v) || (k2 != "" && !((k2, r) in v)))
			continue
		val = v[k, r]
		if (op == "+") val += v[k2, r]
		else if (op == "/") val = v[k2, r] > 0 ? val / v[k2, r] : 0
		x[++n] = val
	}
	sort(x, n)
	return n
}
function med(n) { return n == 0 ? 0 : n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
function fig(k, k2, op,    n) {
	n = collect(k, k2, op)
	if (n == 0) return "-"
	return sprintf("%.2f [%.2f-%.2f]", med(n), x[1], x[n])
}
function figms(k,    n) {
	n = collect(k)
	if (n == 0) return "-"
	return sprintf("%.1f [%.1f-%.1f] ms", med(n) * 1000, x[1] * 1000, x[n] * 1000)
}
function ratio(k, k2, op,    n) { n = collect(k, k2, op); return n == 0 ? -1 : med(n) }
function mark(r, limit) { return r < 0 ? "" : r <= limit ? "ok" : "MISSED" }
function mib(kb) { return kb / 1024 }
$1 == "#" {
	key = $2
	$1 = $2 = ""
	sub(/^ +/, "")
	meta[key] = $0
	next
}
{
	v[$1, $2] = $3
	v[$1 ".cpu", $2] = $5
	v[$1 ".sys", $2] = $6
	if ($4 + 0 > rss[$1] + 0)
		rss[$1] = $4
}
END {
	runs = meta["runs"]
	scale = meta["scale"]
	host = ("host" in meta) ? meta["host"] : "host not recorded"
	if ("load_end" in meta)
		host = host ", " meta["load_end"] " at the end"
	ns = split(meta["sizes"], S, " ")
	nf = split(meta["formats"], F, " ")
	printf "kmsrecover benchmark: %s; %d runs of each; seconds as median [min-max]%s\n\n", host, runs, (scale > 1 ? sprintf("; QUICK (sizes / %d)", scale) : "")
	print "1. Read once into staging, every SHA-256 checked, made durable (syncfs),"
	print "   against bsdtar alone, bsdtar and sync -f, and bsdtar && sha256sum -c"
	printf "%-17s %-19s %-19s %-13s %-19s %-7s %-19s %s\n", "archive", "kmsrecover", "bsdtar -xf", "ratio <=1.10", "bsdtar + sync -f", "ratio", "bsdtar && sha -c", "ratio <=0.75"
	for (i = 1; i <= ns; i++) for (j = 1; j <= nf; j++) {
		c = S[i] "." F[j]
		if (collect(c ".stage") == 0)
			continue
		r1 = ratio(c ".stage", c ".bsdtar", "/")
		for (r = 1; r <= runs; r++)
			if ((c ".bsdtar", r) in v) {
				v[c ".bs", r] = v[c ".bsdtar", r] + v[c ".sync", r]
				v[c ".bh", r] = v[c ".bsdtar", r] + v[c ".shacheck", r]
				v[c ".bhs", r] = v[c ".bh", r] + v[c ".sync", r]
			}
		r2 = ratio(c ".stage", c ".bs", "/")
		r3 = ratio(c ".stage", c ".bh", "/")
		r4 = ratio(c ".stage", c ".bhs", "/")
		printf "%-17s %-19s %-19s %-13s %-19s %-7s %-19s %s\n", c, fig(c ".stage"), fig(c ".bsdtar"), sprintf("%.2f %s", r1, mark(r1, 1.10)), fig(c ".bs"), sprintf("%.2f", r2), fig(c ".bh"), sprintf("%.2f %s", r3, mark(r3, 0.75))
		if (r1 > 1.10)
			why1 = why1 sprintf("   %s: bsdtar leaves its files in the page cache, kmsrecover waits until they are on disk; sync -f after bsdtar took %s s; with it the ratio is %.2f %s%s\n", c, fig(c ".sync"), r2, mark(r2, 1.10), r2 <= 1.10 ? "" : sprintf("; the rest is CPU time on 2 cores: kmsrecover %s s (SHA-256 of the archive as stored and of every file, on threads of their own), bsdtar %s s", fig(c ".stage.cpu"), fig(c ".bsdtar.cpu")))
		if (r3 > 0.75)
			why3 = why3 sprintf("   %s: bsdtar -xf alone takes %s s (reading and decompressing, bsdtar -xOf >/dev/null: %s s; in the kernel, making the files: %s s, kmsrecover: %s s), paid by both; sha256sum -c adds %s s, kmsrecover also makes the files durable (sync -f after bsdtar: %s s); against bsdtar && sha256sum -c && sync -f the ratio is %.2f %s\n", c, fig(c ".bsdtar"), fig(c ".streamx"), fig(c ".bsdtar.sys"), fig(c ".stage.sys"), fig(c ".shacheck"), fig(c ".sync"), r4, mark(r4, 0.75))
	}
	if (why1 != "")
		printf "Where the first target is missed (the disk, measured):\n%s", why1
	if (why3 != "")
		printf "Where the last target is missed (what both pay, measured):\n%s", why3
	print ""
	print "2. kmsrecover verify (read through, change nothing) against bsdtar -xOf A | sha256sum"
	printf "%-17s %-19s %-19s %-7s %-19s %s\n", "archive", "kmsrecover verify", "bsdtar | sha256sum", "ratio", "bsdtar -xOf >null", "ratio"
	for (i = 1; i <= ns; i++) for (j = 1; j <= nf; j++) {
		c = S[i] "." F[j]
		printf "%-17s %-19s %-19s %-7s %-19s %.2f\n", c, fig(c ".verify"), fig(c ".stream"), sprintf("%.2f", ratio(c ".verify", c ".stream", "/")), fig(c ".streamx"), ratio(c ".verify", c ".streamx", "/")
	}
	print ""
	print "3. Downtime: the downtime_seconds of the report, stop request to service running (kmsim),"
	print "   and the whole batch recovery (tar) with its peak RSS"
	printf "%-17s %-19s %-12s %-19s %s\n", "Kmsdata", "downtime", "target <=2", "whole recovery", "peak RSS"
	for (i = 1; i <= ns; i++) {
		c = S[i]
		d[i] = ratio(c ".downtime")
		printf "%-17s %-19s %-12s %-19s %.1f MiB\n", c, fig(c ".downtime"), mark(d[i], 2), fig(c ".recover"), mib(rss[c ".recover"])
	}
	print "   (the downtime ends once the service has been seen running for 1 s: a start that falls"
	print "   back to stopped in that second, a refused password, is a failed start)"
	if (ns == 2 && d[1] > 0 && d[2] > 0) {
		spread = (d[1] > d[2] ? d[1] / d[2] : d[2] / d[1]) - 1
		printf "downtimes within %.1f %% of each other (target <=10 %%): %s\n", spread * 100, mark(spread, 0.10)
	}
	print ""
	print "4. Quarantine (step 3) of a Kmsdata of 100,000 files, against mv and rm -rf"
	printf "%-17s %-19s %-19s %-13s %-19s %s\n", "", "kmsrecover", "mv", "ratio <=1.20", "rm -rf", "ratio"
	rq = ratio("quarantine", "quarantine.mv", "/")
	printf "%-17s %-19s %-19s %-13s %-19s %.4f\n", "small", figms("quarantine"), figms("quarantine.mv"), sprintf("%.2f %s", rq, mark(rq, 1.2)), fig("quarantine.rm") " s", ratio("quarantine", "quarantine.rm", "/")
	print ""
	print "5. The curses gauge: the same read through (validate, tar, 5 times in a row) under tmux"
	print "   with the wizard against batch; wall time, and the CPU time of the reading (steadier"
	print "   on a busy machine)"
	printf "%-17s %-19s %-19s %-16s %s\n", "", "wizard", "batch", "cost <=3 %", "CPU cost"
	for (i = 1; i <= ns; i++) {
		c = S[i]
		rg = ratio(c ".gauge.curses", c ".gauge.batch", "/")
		rc = ratio(c ".gauge.curses.cpu", c ".gauge.batch.cpu", "/")
		printf "%-17s %-19s %-19s %-16s %s\n", c, fig(c ".gauge.curses"), fig(c ".gauge.batch"), (rg < 0 ? "-" : sprintf("%+.1f %% %s", (rg - 1) * 100, mark(rg, 1.03))), (rc < 0 ? "-" : sprintf("%+.1f %% %s", (rc - 1) * 100, mark(rc, 1.03)))
	}
	print ""
	print "6. A person at the console: the wizard driven in tmux, " meta["read"] " s of reading on each screen, its"
	print "   downtime against the batch downtime (section 3); with --pause-between-steps for comparison; and"
	print "   the backup read under the wizard on a terminal drained at 960 B/s (9600 baud) against a fast one"
	printf "%-17s %-19s %-19s %-15s %-19s %-19s %-19s %s\n", "Kmsdata", "wizard downtime", "batch downtime", "<= batch+0.5", "paused downtime", "read, 960 B/s", "read, fast", "ratio <=1.10"
	for (i = 1; i <= ns; i++) {
		c = S[i]
		if (collect(c ".console.wizard") == 0 && collect(c ".console.slow") == 0)
			continue
		dw = ratio(c ".console.wizard") - ratio(c ".downtime")
		rs = ratio(c ".console.slow", c ".console.fast", "/")
		printf "%-17s %-19s %-19s %-15s %-19s %-19s %-19s %s\n", c, fig(c ".console.wizard"), fig(c ".downtime"), sprintf("%+.2f %s", dw, mark(dw < 0 ? 0 : dw, 0.5)), fig(c ".console.paused"), fig(c ".console.slow"), fig(c ".console.fast"), (rs < 0 ? "-" : sprintf("%.2f %s", rs, mark(rs, 1.10)))
	}
	print ""
	print "7. Peak resident memory of each kmsrecover run (target <=24 MiB whatever the size)"
	worst = 0
	for (i = 1; i <= ns; i++) for (j = 1; j <= nf; j++) {
		c = S[i] "." F[j]
		printf "%-17s staging %5s MiB  verify %5.1f MiB\n", c, (rss[c ".stage"] > 0 ? sprintf("%.1f", mib(rss[c ".stage"])) : "-"), mib(rss[c ".verify"])
		if (rss[c ".stage"] > worst) worst = rss[c ".stage"]
		if (rss[c ".verify"] > worst) worst = rss[c ".verify"]
	}
	for (i = 1; i <= ns; i++) {
		if (rss[S[i] ".recover"] > worst) worst = rss[S[i] ".recover"]
		if (rss[S[i] ".gauge.curses"] > worst) worst = rss[S[i] ".gauge.curses"]
	}
	printf "largest: %.1f MiB %s\n", mib(worst), mark(worst, 24 * 1024)
	printf "\n(%s s in all)\n", meta["elapsed"]
}' "$1" || return 1
}

if [ -n "${BENCH_REPORT:-}" ]; then
	report "$BENCH_REPORT"
	exit
fi

[ -x "$KMSRECOVER" ] && [ -x "$KMSIM" ] || die "run me from the build tree (make bench)"
for tool in bsdtar sha256sum tmux cc; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is needed"
done

B=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/kmsrecover-bench.XXXXXX") || die "no temporary folder"
# A tmux server of its own for each gauge run (kmsbench-PID-N): the one
# before may still be exiting when the next starts, and a client that
# reaches a dying server says "server exited unexpectedly".
tmux_socket="kmsbench-$$"
tmux_n=0
cleanup() {
	while [ "$tmux_n" -gt 0 ]; do
		tmux -L "$tmux_socket-$tmux_n" kill-server >/dev/null 2>&1
		tmux_n=$((tmux_n - 1))
	done
	for pidfile in "$B"/world-*/server/run/kmsim.pid; do
		[ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
	done
	if [ -n "${BENCH_KEEP:-}" ]; then
		say "kept $B"
	else
		chmod -R u+w "$B" 2>/dev/null
		rm -rf "$B"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

avail=$(df -Pk "$B" | awk 'NR == 2 { print $4 }')
[ "$avail" -ge "$need_kb" ] ||
	die "$B has ${avail} KiB free; the benchmark needs about ${need_kb} KiB (BENCH_TMPDIR, BENCH_QUICK)"

# The tools: the data generator, and the driver built against this tree's
# libraries with the flags configure chose (sanitizers included).
mkvar() { sed -n "s/^$1 = //p" "$builddir/Makefile" | head -1; }
srcdir=$(mkvar abs_top_srcdir)
cc -O2 -std=c11 -o "$B/mkdata" "$bench_src/mkdata.c" || die "cannot build mkdata"
# shellcheck disable=SC2046
$(mkvar CC) -std=c11 -pthread $(mkvar SAN_CFLAGS) -I"$builddir" $(for d in base frontend system backup; do
	printf ' -I%s/src/%s' "$srcdir" "$d"; done) -I"$srcdir/ui" \
	$(mkvar LIBARCHIVE_CFLAGS) $(mkvar NCURSESW_CFLAGS) -o "$B/driver" "$bench_src/driver.c" \
	"$builddir/ui/libui.a" $(for d in procedure backup system frontend base; do
	printf ' %s/src/%s/lib%s.a' "$builddir" "$d" "$d"; done) $(mkvar LIBARCHIVE_LIBS) \
	$(mkvar OPENSSL_LIBS) $(mkvar LIBINTL) $(mkvar NCURSESW_LIBS) || die "cannot build the driver"
DRIVER=$B/driver

# measure KEY COMMAND...: runs COMMAND under the driver, appends
# "KEY run seconds rss cpu sys" to the results; fails when COMMAND does.
measure() {
	key=$1
	shift
	if ! "$DRIVER" "$B/m.out" exec "$@" >"$B/m.log" 2>&1; then
		say "failed: $*"
		sed 's/^/    /' "$B/m.log" | tail -5 >&2
		return 1
	fi
	read -r secs rss _ _ cpu sys <"$B/m.out"
	echo "$key $run $secs $rss $cpu $sys" >>"$results"
}

# backend KEY DRIVER-ARGS...: a timed backend call (see driver.c).
backend() {
	key=$1
	shift
	if ! "$DRIVER" "$B/m.out" "$@" >"$B/m.log" 2>&1; then
		say "failed: driver $*"
		tail -5 "$B/m.log" >&2
		return 1
	fi
	read -r secs rss _ _ cpu sys <"$B/m.out"
	echo "$key $run $secs $rss $cpu $sys" >>"$results"
}

# The data: a tree per size, its manifest, an archive per format.
make_tree() { # make_tree SIZE
	say "making the $1 tree"
	"$B/mkdata" "$1" "$B/tree-$1" "$scale" || die "mkdata failed"
	mkdir -p "$B/meta-$1"
	(cd "$B/tree-$1" && find . -type f | sed 's|^\./||' | sort | xargs sha256sum --) \
		>"$B/meta-$1/MANIFEST.sha256" || die "sha256sum failed"
}

# list TREE [DIR NAME...]: a bsdtar -T list, the tree's entries sorted.
list() {
	tree=$1
	shift
	printf -- '-C\n%s\n' "$tree"
	(cd "$tree" && find . -mindepth 1 | sed 's|^\./||' | sort)
	while [ $# -ge 2 ]; do
		printf -- '-C\n%s\n%s\n' "$1" "$2"
		shift 2
	done
}

make_archive() { # make_archive LISTFILE FORMAT OUT
	case $2 in
	tar) opt= ;;
	tar.gz) opt=-z ;;
	tar.zst) opt=--zstd ;;
	zip) opt="--format zip" ;;
	*) die "unknown format $2" ;;
	esac
	# shellcheck disable=SC2086
	bsdtar $opt -cf "$3" -n -T "$1" || die "bsdtar cannot make $3"
}

for size in $sizes; do
	make_tree "$size"
	list "$B/tree-$size" "$B/meta-$size" MANIFEST.sha256 >"$B/list-$size"
	for fmt in $formats; do
		say "archiving $size as $fmt"
		make_archive "$B/list-$size" "$fmt" "$B/$size.$fmt"
	done
done

# Trees made by a measure are not removed at once: ext4 will not reuse an
# inode deleted less than 30 s ago, so creating files right after removing
# 100,000 costs several times as much. They go to the trash (a rename), which
# is emptied between phases, then left alone for half a minute.
trash() { # trash TREE...
	for t in "$@"; do
		[ -e "$t" ] || continue
		trash_n=$((trash_n + 1))
		mv "$t" "$B/trash/$trash_n"
	done
}
empty_trash() { # empty_trash [many]: many files went, wait before creating more
	rm -rf "$B/trash"
	mkdir "$B/trash"
	settle
	[ $# -eq 0 ] || trash_emptied=$(date +%s)
}
# Until the disk is idle (our own writeback and deletions settled), at most 30 s.
settle() {
	sync
	_dev=$(df -P "$B" | awk 'NR == 2 { sub(".*/", "", $1); print $1 }')
	[ -r "/sys/block/$_dev/inflight" ] || return 0
	_n=0 _quiet=0
	while [ "$_n" -lt 300 ] && [ "$_quiet" -lt 5 ]; do
		read -r _r _w <"/sys/block/$_dev/inflight"
		if [ "$_r" -eq 0 ] && [ "$_w" -eq 0 ]; then _quiet=$((_quiet + 1)); else _quiet=0; fi
		sleep 0.1
		_n=$((_n + 1))
	done
}
recently_emptied() { # waits out ext4's 30 s after a mass deletion
	[ -n "${trash_emptied:-}" ] || return 0
	left=$((trash_emptied + 31 - $(date +%s)))
	[ "$left" -gt 0 ] && sleep "$left"
	trash_emptied=
}

# Staging against bsdtar (then sha256sum -c, then sync -f) on one archive;
# the two go first in turn. The trees go to the trash.
bench_extract() { # bench_extract SIZE FORMAT
	a=$B/$1.$2
	k=$1.$2
	mkdir -p "$B/x"
	if [ $((run % 2)) -eq 1 ]; then
		bench_stage "$a" "$k" && bench_bsdtar "$a" "$k"
	else
		bench_bsdtar "$a" "$k" && bench_stage "$a" "$k"
	fi
}
# Before each timed write of a tree: the same memory for both, whatever
# the runs before left. The trees already written stay in the page cache
# (the trash), and once it is full every new page must first be taken
# back from them: the same bsdtar -xf of the realistic tree took 0.6 s of
# kernel time in free memory and 2.7 s in a full one. As root the clean
# pages are dropped (after settle's sync, all of them are clean), then the
# archive is read back in, so that it is read from memory as before.
fresh() { # fresh ARCHIVE
	settle
	if [ -w /proc/sys/vm/drop_caches ]; then
		echo 1 >/proc/sys/vm/drop_caches
		cat "$1" >/dev/null
	fi
}
bench_stage() { # bench_stage ARCHIVE KEY
	fresh "$1"
	backend "$2.stage" stage batch "$1" "$B/x" staged || return 1
	if [ "$2" = small.tar ]; then
		bench_quarantine "$B/x/staged"
	else
		trash "$B/x/staged"
	fi
}
bench_bsdtar() { # bench_bsdtar ARCHIVE KEY
	fresh "$1"
	mkdir "$B/x/bsdtar"
	measure "$2.bsdtar" bsdtar -xf "$1" -C "$B/x/bsdtar" || return 1
	measure "$2.shacheck" sh -c 'cd "$1" && sha256sum --quiet -c MANIFEST.sha256' sh \
		"$B/x/bsdtar" || return 1
	measure "$2.sync" sync -f "$B/x/bsdtar"
	trash "$B/x/bsdtar"
}

# Reading through: kmsrecover verify against its stream equivalents.
bench_read() { # bench_read SIZE FORMAT
	a=$B/$1.$2
	k=$1.$2
	measure "$k.verify" "$KMSRECOVER" verify --frontend batch --backup "$a" || return 1
	measure "$k.stream" sh -c 'bsdtar -xOf "$1" | sha256sum >/dev/null' sh "$a"
	measure "$k.streamx" sh -c 'bsdtar -xOf "$1" >/dev/null' sh "$a"
}

# A staged 100,000-file tree, used as a Kmsdata: kmsrecover's quarantine
# (step 3) against mv; the tree is kept for rm -rf (the KB's "delete all
# files"), timed when the trees are removed.
bench_quarantine() { # bench_quarantine TREE
	q=$B/q$run
	mkdir -p "$q"
	mv "$1" "$q/Kmsdata"
	settle
	backend quarantine quarantine "$q/Kmsdata" Kmsdata.pre-recovery
	rmdir "$q/Kmsdata" && mv "$q/Kmsdata.pre-recovery" "$q/Kmsdata"
	settle
	measure quarantine.mv mv "$q/Kmsdata" "$q/Kmsdata.moved"
	mv "$q/Kmsdata.moved" "$q/Kmsdata"
}
bench_rm() {
	for q in "$B"/q[0-9]*; do
		[ -d "$q/Kmsdata" ] || continue
		run=${q##*/q}
		settle
		measure quarantine.rm rm -rf "$q/Kmsdata"
		rm -rf "$q"
	done
}

# The gauge: the same read through (validate: no disk writes, so the
# disk's noise stays out) with the wizard in a real terminal, and batch;
# the two go first in turn. Each reads the archive gauge_times times in a
# row: one read of the page cache is over in well under a second, too
# short to tell a few per cent from the noise.
gauge_times=5
bench_gauge() { # bench_gauge SIZE
	if [ $((run % 2)) -eq 1 ]; then
		bench_gauge_batch "$1" && bench_gauge_curses "$1"
	else
		bench_gauge_curses "$1" && bench_gauge_batch "$1"
	fi
}
bench_gauge_batch() { # bench_gauge_batch SIZE
	backend "$1.gauge.batch" validate batch "$B/$1.tar" "$gauge_times"
}
bench_gauge_curses() { # bench_gauge_curses SIZE
	a=$B/$1.tar
	tmux_n=$((tmux_n + 1))
	tmux -L "$tmux_socket-$tmux_n" -f /dev/null new-session -d -x 100 -y 30 \
		"TERM=tmux-256color '$DRIVER' '$B/g.out' validate curses '$a' $gauge_times 2>'$B/g.log'; tmux wait-for -S gauge" ||
		return 1
	tmux -L "$tmux_socket-$tmux_n" wait-for gauge
	[ -s "$B/g.out" ] || { say "the wizard run failed:"; cat "$B/g.log" >&2; return 1; }
	read -r secs rss _ _ cpu sys <"$B/g.out"
	rm -f "$B/g.out"
	echo "$1.gauge.curses $run $secs $rss $cpu $sys" >>"$results"
}

# A whole batch recovery against a kmsim world whose Kmsdata is the tree
# (kmsim's own database in its kmsim/ folder): the report's downtime.
make_world() { # make_world SIZE
	w=$B/world-$1
	mkdir -p "$w/server" "$w/media/usb" "$w/new" "$w/state" "$w/orig" "$w/meta"
	"$KMSIM" init --data "$w/orig/kmsim" --records 20 --iterations 1000 \
		--startup-disk "$w/media/usb/KMSPWD.INI" >/dev/null || die "kmsim init failed"
	(cat "$B/meta-$1/MANIFEST.sha256" && cd "$w/orig" && sha256sum kmsim/*) \
		>"$w/meta/MANIFEST.sha256"
	{
		list "$B/tree-$1"
		printf -- '-C\n%s\nkmsim\n' "$w/orig"
		(cd "$w/orig" && ls -1d kmsim/*)
		printf -- '-C\n%s\nMANIFEST.sha256\n' "$w/meta"
	} >"$w/list"
	make_archive "$w/list" tar "$w/backup.tar"
	"$KMSIM" init --data "$w/server/Kmsdata/kmsim" --records 3 --iterations 1000 \
		--startup-disk "$w/new/KMSPWD.INI" >/dev/null || die "kmsim init failed"
	"$KMSIM" start --data "$w/server/Kmsdata/kmsim" --run "$w/server/run" \
		--startup-disk "$w/new/KMSPWD.INI" >/dev/null || die "kmsim start failed"
	cat >"$w/profile" <<PROFILE
[service]
manager = command
name = MSExchangeKMS
start = "$KMSIM" start --data "$w/server/Kmsdata/kmsim" --run "$w/server/run"
stop = "$KMSIM" stop --run "$w/server/run"
status = "$KMSIM" status --run "$w/server/run"
timeout = 60
[kmsdata]
path = $w/server/Kmsdata
expect = kmsim/Kmsmdb.edb
[secret]
handoff = stdin
verify = "$KMSIM" check --data %d/kmsim
[recovery]
state-dir = $w/state
PROFILE
}

bench_recover() { # bench_recover SIZE
	w=$B/world-$1
	settle
	recently_emptied
	measure "$1.recover" "$KMSRECOVER" --profile "$w/profile" --frontend batch --yes \
		--backup "$w/backup.tar" --startup-disk "$w/media/usb" --keep-quarantine \
		--report-json "$w/report.json" || return 1
	down=$(sed -n 's/.*"downtime_seconds": \([0-9.]*\).*/\1/p' "$w/report.json")
	echo "$1.downtime $run ${down:-nan} 0" >>"$results"
	trash "$w"/server/Kmsdata.pre-recovery-*
}

# The console (issue of a person at the keyboard): the wizard driven in
# tmux with BENCH_READ seconds of reading on every screen, and its downtime
# from the JSON report, in the default order and with --pause-between-steps
# (the batch recovery's is SIZE.downtime); and the backup read under the
# wizard on a pseudo-terminal drained at 960 bytes a second (a 9600-baud
# serial console) against one drained as fast as it comes (console.py).
read_secs=${BENCH_READ:-3}
console_wait() { # console_wait SOCKET TEXT: until the screen shows TEXT (60 s at most)
	n=0
	until tmux -L "$1" capture-pane -p 2>/dev/null | grep -qF -- "$2"; do
		n=$((n + 1))
		[ "$n" -ge 600 ] && { say "the wizard never showed: $2"; return 1; }
		sleep 0.1
	done
}
bench_console_wizard() { # bench_console_wizard SIZE KEY [--pause-between-steps]
	w=$B/world-$1
	key=$2
	shift 2
	tmux_n=$((tmux_n + 1))
	sock="$tmux_socket-$tmux_n"
	rm -f "$w/console.json"
	tmux -L "$sock" -f /dev/null new-session -d -x 80 -y 24 \
		"TERM=tmux-256color '$KMSRECOVER' recover --profile '$w/profile' --backup '$w/backup.tar' --startup-disk '$w/media/usb' --keep-quarantine --report-json '$w/console.json' $* 2>'$B/c.log'; tmux wait-for -S console" ||
		return 1
	for step in 'Welcome:Enter' 'NEW alpha string:Enter' 'Step 1 of 7:Enter' \
		'Step 2 of 7:Enter' 'Move the files out of Kmsdata?:y' 'Step 4 of 7:Enter' \
		'Step 5 of 7:Enter' 'Step 6 of 7:Enter' 'Step 7 of 7:Enter' 'Recover now?:y' \
		'The KM Server is recovered:Enter'; do
		text=${step%:*}
		[ "$text" = 'Recover now?' ] && [ $# -gt 0 ] && continue
		console_wait "$sock" "$text" || { tmux -L "$sock" kill-server; return 1; }
		# (The last screen is not read: the service runs again by then.)
		[ "$text" = 'The KM Server is recovered' ] || sleep "$read_secs"
		tmux -L "$sock" send-keys "${step##*:}"
	done
	tmux -L "$sock" wait-for console
	down=$(sed -n 's/.*"downtime_seconds": \([0-9.]*\).*/\1/p' "$w/console.json")
	[ -n "$down" ] || { say "the wizard's recovery failed:"; cat "$B/c.log" >&2; return 1; }
	echo "$key $run $down 0" >>"$results"
	trash "$w"/server/Kmsdata.pre-recovery-*
}
bench_console_read() { # bench_console_read SIZE RATE KEY
	w=$B/world-$1
	settle
	secs=$(/usr/bin/python3 "$bench_src/console.py" "$2" "$w/state/journal" -- \
		"$KMSRECOVER" recover --profile "$w/profile" --backup "$w/backup.tar" \
		--startup-disk "$w/media/usb" --keep-quarantine 2>"$B/c.log")
	# Nothing changed but the staged copy: it goes to the trash (kmsrecover's
	# own roll back would delete 100,000 files, and the next read would pay
	# ext4's price for creating files after that), the journal is closed.
	trash "$w"/server/Kmsdata.staged-*
	[ -e "$w/state/journal" ] && mv "$w/state/journal" "$w/state/journal.done-bench-$run-$2"
	[ -n "$secs" ] || { say "the slow console's run failed:"; cat "$B/c.log" >&2; return 1; }
	echo "$3 $run $secs 0" >>"$results"
}
bench_console() { # bench_console SIZE: the four, in an order that alternates
	if [ $((run % 2)) -eq 1 ]; then
		bench_console_read "$1" 0 "$1.console.fast" && bench_console_read "$1" 960 "$1.console.slow"
	else
		bench_console_read "$1" 960 "$1.console.slow" && bench_console_read "$1" 0 "$1.console.fast"
	fi || return 1
	bench_console_wizard "$1" "$1.console.wizard" &&
		bench_console_wizard "$1" "$1.console.paused" --pause-between-steps
}

results=$builddir/bench-results.txt
{
	echo "# host $(uname -sr), $(nproc) cores, load $load_start at the start"
	echo "# runs $runs"
	echo "# scale $scale"
	echo "# sizes $sizes"
	echo "# formats $formats"
	echo "# read $read_secs"
} >"$results"
mkdir "$B/trash"
trash_n=0
run=0
# repeat WHAT FUNCTION ARGS...: RUNS runs of FUNCTION.
repeat() {
	what=$1
	shift
	say "$what: $runs runs"
	run=1
	while [ "$run" -le "$runs" ]; do
		"$@" || die "$what failed"
		run=$((run + 1))
	done
}
for size in $sizes; do
	[ "${BENCH_ONLY:-}" = console ] && break
	# Writing: every format of the realistic tree; for the small tree, the
	# disk's time is the files' and not the format's: tar (BENCH_SMALL_FORMATS).
	disk_formats=$formats
	[ "$size" = small ] && disk_formats=${BENCH_SMALL_FORMATS:-tar}
	for fmt in $disk_formats; do
		case " $formats " in *" $fmt "*) ;; *) continue ;; esac
		repeat "$size.$fmt, staging" bench_extract "$size" "$fmt"
		[ "$size" = small ] || empty_trash
	done
	for fmt in $formats; do
		repeat "$size.$fmt, reading" bench_read "$size" "$fmt"
	done
	case " $formats " in
	*" tar "*) repeat "$size.tar, the gauge" bench_gauge "$size" ;;
	esac
	if [ "$size" = small ]; then
		say "small: rm -rf"
		bench_rm
		empty_trash many
	fi
done
for size in $sizes; do
	make_world "$size"
	repeat "$size, recoveries" bench_recover "$size"
	repeat "$size, at the console" bench_console "$size"
	empty_trash many
	"$KMSIM" stop --run "$B/world-$size/server/run" >/dev/null 2>&1
	empty_trash many
done

echo "# load_end load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results"
echo "# elapsed $(($(date +%s) - started))" >>"$results"
report "$results" >"$builddir/bench-report.txt" || die "the report failed; the figures are in $results"
cat "$builddir/bench-report.txt"
