#!/bin/sh
# Runs each libFuzzer target for a bounded time over a copy of its seed
# corpus (never writing into the source tree), with its dictionary
# (tests/fuzz/TARGET.dict) when there is one, and fails when any of them
# crashes, leaks, trips a sanitizer, times out or runs out of memory.
#
#     sh tests/fuzz/run.sh BUILD/tests/fuzz SRC/tests/fuzz/corpus [TARGET...]
#
# `make fuzz` runs it (configure --enable-fuzzing CC=clang first). The
# targets default to all four. Environment:
#     FUZZ_SECONDS  seconds per target (default 15, so a minute in all)
#     FUZZ_WORKDIR  where the corpus copies and crash inputs go (default: a
#                   new folder under $TMPDIR, removed when nothing crashed)
#
# A crash is reported with the input's path, its size and its bytes,
# gzipped, in base64 (so a CI log is enough to reproduce it):
#     base64 -d | gunzip >crash && BUILD/tests/fuzz/fuzz-TARGET crash
# Add it to corpus/TARGET/ as crash-<what> once fixed; every later run then
# replays it first. Exits 0 when all ran clean, 1 on any finding, 2 on a
# usage or setup error.
set -u

usage() {
	echo "usage: $0 FUZZ-BINARY-DIR CORPUS-DIR [TARGET...]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
bindir=$1
corpus=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-fuzz-profile fuzz-startup-disk fuzz-manifest fuzz-backup}
seconds=${FUZZ_SECONDS:-15}
case $seconds in '' | *[!0-9]*) echo "$0: FUZZ_SECONDS must be a number" >&2; exit 2 ;; esac
[ -d "$corpus" ] || { echo "$0: no corpus folder $corpus" >&2; exit 2; }

if [ -n "${FUZZ_WORKDIR:-}" ]; then
	work=$FUZZ_WORKDIR
	keep=1
	mkdir -p "$work" || exit 2
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/kmsrecover-fuzz.XXXXXX") || exit 2
	keep=0
fi

# The largest input each target is given: a profile or a manifest is a
# page or two, a startup disk file a few lines (its 1 KiB line limit is
# within reach), a backup a few tar blocks of a tiny Kmsdata.
max_len() {
	case $1 in
	fuzz-profile) echo 16384 ;;
	fuzz-startup-disk) echo 4096 ;;
	fuzz-manifest) echo 16384 ;;
	fuzz-backup) echo 65536 ;;
	*) echo 4096 ;;
	esac
}

# Messages in English, whatever the caller's locale: the targets check them.
LC_ALL=C
LANGUAGE=
export LC_ALL LANGUAGE
unset KMSRECOVER_FAULT KMSRECOVER_KILL_AT
# UBSan only reports unless told to stop; a report must be a crash here.
UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
ASAN_OPTIONS=detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
export UBSAN_OPTIONS ASAN_OPTIONS

# Prints where the input that made a target fail is, and its bytes when small.
report_crash() {
	log=$1
	found=0
	sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | sort -u >"$log.units"
	while read -r f; do
		[ -f "$f" ] || continue
		found=1
		size=$(wc -c <"$f")
		echo "fuzz: crash input: $f ($size bytes)"
		if [ "$size" -le 65536 ] && command -v base64 >/dev/null 2>&1; then
			echo "fuzz: its bytes, gzipped, in base64:"
			gzip -9nc <"$f" | base64
		fi
	done <"$log.units"
	[ $found = 1 ] || echo "fuzz: no input was written; see $log"
}

status=0
summary=""
for t in $targets; do
	bin=$bindir/$t
	if [ ! -x "$bin" ]; then
		echo "$0: $bin is not built (configure --enable-fuzzing CC=clang; make)" >&2
		status=2
		continue
	fi
	mkdir -p "$work/corpus/$t" "$work/artifacts/$t" || exit 2
	[ -d "$corpus/$t" ] && cp -R "$corpus/$t/." "$work/corpus/$t/"
	log=$work/$t.log
	echo "== $t: ${seconds}s, max_len $(max_len "$t"), corpus $(find "$work/corpus/$t" -type f | wc -l) files"
	start=$(date +%s)
	dict=""
	[ -f "$here/$t.dict" ] && dict="-dict=$here/$t.dict"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	    -max_len="$(max_len "$t")" -print_final_stats=1 $dict \
	    -artifact_prefix="$work/artifacts/$t/" "$work/corpus/$t" >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{n += $1} END {print n + 0}')
	if [ $rc -ne 0 ]; then
		status=1
		echo "fuzz: $t FAILED (exit $rc) after $runs runs:"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz-[a-z-]+: )' "$log" | head -20
		report_crash "$log"
		echo "fuzz: full log: $log"
		keep=1
	fi
	echo "fuzz: $t: $runs runs in $((end - start))s"
	summary="$summary$t $runs runs $((end - start))s rc=$rc
"
done

echo "== fuzz summary"
printf '%s' "$summary"
if [ $keep = 0 ]; then
	rm -rf "$work"
else
	echo "fuzz: corpora, logs and crash inputs are in $work"
fi
exit $status
