#!/bin/sh
# Runs each libFuzzer target for a bounded time over a copy of its seed
# corpus (never writing into the source tree), with its dictionary
# (tests/fuzz/TARGET.dict) when there is one, and fails when any of them
# crashes, leaks, trips a sanitizer, times out or runs out of memory.
#
#     sh tests/fuzz/run.sh BUILD/tests/fuzz SRC/tests/fuzz/corpus [TARGET...]
#     sh tests/fuzz/run.sh --ci
#
# `make fuzz` runs the first form (configure --enable-fuzzing CC=clang
# first). The targets default to all four. --ci, for continuous
# integration, configures a fresh --enable-fuzzing CC=clang build of this
# source tree in a temporary folder, builds the four targets and runs them
# for about a minute in all: most of it on fuzz-backup, whose every run
# reads a whole archive, and 10 s on each parser, which run thousands of
# times a second; the build is removed afterwards. It needs the Debian
# packages clang and libclang-rt-14-dev (libFuzzer and the sanitizers'
# runtimes) besides the build's own. Environment:
#     FUZZ_SECONDS  seconds per target (default 15, so a minute in all;
#                   with --ci it replaces the per-target times)
#     FUZZ_WORKDIR  where the corpus copies and crash inputs go (default: a
#                   new folder under $TMPDIR, removed when nothing crashed)
#     FUZZ_JOBS     make -j for --ci (default 2)
#
# A crash is reported with the input's path, its size and its bytes,
# gzipped, in base64 (so a CI log is enough to reproduce it):
#     base64 -d | gunzip >crash && BUILD/tests/fuzz/fuzz-TARGET crash
# Add it to corpus/TARGET/ as crash-<what> once fixed; every later run then
# replays it first. The last line is a one-line summary ("fuzz: clean: ..."
# or "fuzz: FAILED: ..."). Exits 0 when all ran clean, 1 on any finding, 2
# on a usage or setup error.
set -u

usage() {
	echo "usage: $0 FUZZ-BINARY-DIR CORPUS-DIR [TARGET...]" >&2
	echo "       $0 --ci" >&2
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
all="fuzz-profile fuzz-startup-disk fuzz-manifest fuzz-backup"
ci=0
build=""
if [ "${1:-}" = --ci ]; then
	[ $# -eq 1 ] || usage
	ci=1
	shift
else
	[ $# -ge 2 ] || usage
	bindir=$1
	corpus=$2
	shift 2
fi
targets=${*:-$all}
case ${FUZZ_SECONDS:-15} in '' | *[!0-9]*) echo "$0: FUZZ_SECONDS must be a number" >&2; exit 2 ;; esac

# Seconds for target: FUZZ_SECONDS when set; with --ci the budget above.
seconds_of() {
	if [ -n "${FUZZ_SECONDS:-}" ] || [ $ci = 0 ]; then
		echo "${FUZZ_SECONDS:-15}"
		return
	fi
	case $1 in
	fuzz-backup) echo 30 ;;
	*) echo 10 ;;
	esac
}

# --ci: a fresh fuzzing build of this tree, removed on the way out.
if [ $ci = 1 ]; then
	for tool in clang make; do
		command -v "$tool" >/dev/null 2>&1 || {
			echo "fuzz: $tool is missing (apt-get install clang libclang-rt-14-dev)" >&2
			exit 2
		}
	done
	top=$(cd "$here/../.." && pwd)
	build=$(mktemp -d "${TMPDIR:-/tmp}/kmsrecover-fuzz-build.XXXXXX") || exit 2
	trap 'rm -rf "$build"' EXIT
	trap 'exit 2' HUP INT TERM
	make_targets=""
	for t in $targets; do
		make_targets="$make_targets tests/fuzz/$t"
	done
	echo "== fuzz: configuring and building the targets in $build"
	# shellcheck disable=SC2086
	if ! (cd "$build" && "$top/configure" --enable-fuzzing CC=clang -q >build.log 2>&1 &&
	    make -j"${FUZZ_JOBS:-2}" $make_targets >>build.log 2>&1); then
		tail -20 "$build/build.log"
		echo "fuzz: FAILED: the fuzzing build failed (clang and libclang-rt-14-dev installed?)"
		exit 2
	fi
	bindir=$build/tests/fuzz
	corpus=$top/tests/fuzz/corpus
fi
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
failed=""
begin=$(date +%s)
for t in $targets; do
	seconds=$(seconds_of "$t")
	bin=$bindir/$t
	if [ ! -x "$bin" ]; then
		echo "$0: $bin is not built (configure --enable-fuzzing CC=clang; make)" >&2
		status=2
		failed="$failed $t(not built)"
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
		failed="$failed $t(exit $rc)"
		echo "fuzz: $t FAILED (exit $rc) after $runs runs:"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz-[a-z-]+: )' "$log" | head -20
		report_crash "$log"
		echo "fuzz: full log: $log"
		keep=1
	fi
	echo "fuzz: $t: $runs runs in $((end - start))s"
	summary="$summary${summary:+, }$t $runs runs"
done

if [ $keep = 0 ]; then
	rm -rf "$work"
else
	echo "fuzz: corpora, logs and crash inputs are in $work"
fi
if [ $status = 0 ]; then
	echo "fuzz: clean: $summary in $(($(date +%s) - begin))s"
else
	echo "fuzz: FAILED:$failed; $summary in $(($(date +%s) - begin))s"
fi
exit $status
