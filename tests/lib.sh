# Shared by the shell tests: TAP output, a private temp folder, helpers to
# build demo worlds. Sourced; expects KMSRECOVER and KMSIM from the harness
# (Makefile.am's AM_TESTS_ENVIRONMENT), falling back to the build tree.
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
: "${KMSRECOVER:=$top_builddir/kmsrecover}"
: "${KMSIM:=$top_builddir/sandbox/kmsim/kmsim}"
export KMSRECOVER_KMSIM="${KMSRECOVER_KMSIM:-$KMSIM}"

tap_n=0
tap_failed=0
T=$(mktemp -d "${TMPDIR:-/tmp}/kmsrecover-test.XXXXXX")
tap_cleanup() {
	[ -n "${KEEP_TEST_DIR:-}" ] && { echo "# kept $T"; return; }
	# Stop any kmsim a test left running under $T.
	for pidfile in $(find "$T" -name kmsim.pid 2>/dev/null); do
		pid=$(cat "$pidfile")
		kill "$pid" 2>/dev/null || continue
		sleep 0.2
		kill -9 "$pid" 2>/dev/null || true
	done
	chmod -R u+w "$T" 2>/dev/null || true
	rm -rf "$T"
}
trap tap_cleanup EXIT

# KMSRECOVER_VALGRIND=1 (make check-valgrind): every "$KMSRECOVER" the test
# runs goes through valgrind, its children (kmsim, openssl) not. Exit code 1
# means "recovery failed" to the tests, so valgrind reports with 99 instead,
# and done_testing fails the test on any log that holds an error, naming it.
# A run that kills itself on purpose (KMSRECOVER_KILL_AT) is checked for
# memory errors only: what it held when it was killed was not leaked.

# vg_wrapper PROGRAM WRAPPER LOGDIR: writes WRAPPER, which runs PROGRAM so.
vg_wrapper() {
	cat >"$2" <<WRAPPER
#!/bin/sh
leaks=full
[ -n "\${KMSRECOVER_KILL_AT:-}" ] && leaks=no
exec valgrind --leak-check=\$leaks --errors-for-leak-kinds=definite --error-exitcode=99 \\
	--child-silent-after-fork=yes --log-file="$3/%p.log" "$1" "\$@"
WRAPPER
	chmod 755 "$2"
}
real_kmsrecover=$KMSRECOVER
vg_logs=
if [ -n "${KMSRECOVER_VALGRIND:-}" ]; then
	command -v valgrind >/dev/null 2>&1 ||
		{ echo "Bail out! KMSRECOVER_VALGRIND is set but valgrind is not installed"; exit 1; }
	vg_logs="$top_builddir/tests/valgrind/$(basename "$0" .sh)"
	rm -rf "$vg_logs" && mkdir -p "$vg_logs" || exit 1
	vg_wrapper "$KMSRECOVER" "$T/kmsrecover-valgrind" "$vg_logs"
	KMSRECOVER="$T/kmsrecover-valgrind"
fi

# A valgrind log holds an error when its summary counts one, or (a run
# killed before its summary) when it reports a memory error.
vg_log_has_error() {
	grep -Eq '^==[0-9]+== ERROR SUMMARY: [1-9]' "$1" && return 0
	grep -Eq '^==[0-9]+== ERROR SUMMARY' "$1" && return 1
	grep -Eq '^==[0-9]+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|'\
'Syscall param|Mismatched free|Source and destination overlap)' "$1"
}
vg_check_logs() {
	[ -n "$vg_logs" ] || return 0
	bad=0
	for log in "$vg_logs"/*.log; do
		[ -f "$log" ] && vg_log_has_error "$log" || continue
		bad=$((bad + 1))
		echo "# valgrind: errors in $log:"
		sed -n '/== Command:/p;/== Parent PID:/,$p' "$log" | head -60 | sed 's/^/#   /'
	done
	[ "$bad" -eq 0 ]
	ok $? "valgrind: no memory error or definite leak in any run (logs in $vg_logs)"
}

ok() { # ok CONDITION-EXIT-STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}
check() { # check DESCRIPTION COMMAND...: ok when the command succeeds
	desc=$1; shift
	if "$@" >"$T/.check.out" 2>&1; then ok 0 "$desc"; else
		ok 1 "$desc"; sed 's/^/# /' "$T/.check.out" | head -20; fi
}
check_fails() { # check_fails DESCRIPTION COMMAND...: ok when the command fails
	desc=$1; shift
	if "$@" >"$T/.check.out" 2>&1; then ok 1 "$desc"; sed 's/^/# /' "$T/.check.out" | head -20;
	else ok 0 "$desc"; fi
}
is() { # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got: '$1'"; echo "#  want: '$2'"; fi
}
like() { # like FILE REGEX DESCRIPTION (grep -E)
	if grep -Eq -- "$2" "$1"; then ok 0 "$3"; else ok 1 "$3"; echo "# /$2/ not in $1:"; head -30 "$1" | sed 's/^/#   /'; fi
}
unlike() { # unlike FILE REGEX DESCRIPTION
	if grep -Eq -- "$2" "$1"; then ok 1 "$3"; grep -En -- "$2" "$1" | head -5 | sed 's/^/#   /'; else ok 0 "$3"; fi
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
done_testing() { vg_check_logs; echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# A listing of a tree that changes when any file's content, mode or name does.
tree_digest() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %m %T@\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}

# make_world DIR [RECORDS]: a rehearsal world built with kmsim alone (so the
# tests do not depend on `kmsrecover demo`): the original server's data
# copied to DIR/original (with MANIFEST.sha256), its startup disk in
# DIR/media/usb/KMSPWD.INI and its keys in DIR/fingerprints.original; then
# the rebuild, running on a NEW alpha string (DIR/new/KMSPWD.INI); and
# DIR/profile over it all. DIR/alpha.original holds the original string.
make_world() {
	w=$1 records=${2:-20}
	mkdir -p "$w/server" "$w/media/usb" "$w/new" "$w/state"
	"$KMSIM" init --data "$w/server/Kmsdata" --records "$records" --iterations 1000 \
		--startup-disk "$w/media/usb/KMSPWD.INI" >"$w/alpha.original" || return 1
	"$KMSIM" start --data "$w/server/Kmsdata" --run "$w/server/run" \
		--startup-disk "$w/media/usb/KMSPWD.INI" >/dev/null || return 1
	"$KMSIM" query --run "$w/server/run" --all >"$w/fingerprints.original" || return 1
	"$KMSIM" stop --run "$w/server/run" >/dev/null || return 1
	cp -a "$w/server/Kmsdata" "$w/original"
	(cd "$w/original" && sha256sum -- * >MANIFEST.sha256) || return 1
	"$KMSIM" init --force --data "$w/server/Kmsdata" --records 3 --iterations 1000 \
		--startup-disk "$w/new/KMSPWD.INI" >"$w/alpha.new" || return 1
	"$KMSIM" start --data "$w/server/Kmsdata" --run "$w/server/run" \
		--startup-disk "$w/new/KMSPWD.INI" >/dev/null || return 1
	cat >"$w/profile" <<PROFILE
[service]
manager = command
name = MSExchangeKMS
start = "$KMSIM" start --data "$w/server/Kmsdata" --run "$w/server/run"
stop = "$KMSIM" stop --run "$w/server/run"
status = "$KMSIM" status --run "$w/server/run"
timeout = 20
[kmsdata]
path = $w/server/Kmsdata
[secret]
handoff = stdin
verify = "$KMSIM" check --data %d
[recovery]
state-dir = $w/state
PROFILE
}

# archive DIR FORMAT OUT: the original server's data as a backup in FORMAT
# (tar, tar.gz, tar.zst, zip, 7z, ...), MANIFEST.sha256 at its root.
archive() {
	w=$1 fmt=$2 out=$3
	case $fmt in
	tar) (cd "$w/original" && bsdtar -cf "$out" -- *) ;;
	tar.gz) (cd "$w/original" && bsdtar -czf "$out" -- *) ;;
	tar.bz2) (cd "$w/original" && bsdtar -cjf "$out" -- *) ;;
	tar.xz) (cd "$w/original" && bsdtar -cJf "$out" -- *) ;;
	tar.zst) (cd "$w/original" && bsdtar --zstd -cf "$out" -- *) ;;
	tar.lz4) (cd "$w/original" && bsdtar --lz4 -cf "$out" -- *) ;;
	zip) (cd "$w/original" && bsdtar --format zip -cf "$out" -- *) ;;
	7z) (cd "$w/original" && bsdtar --format 7zip -cf "$out" -- *) ;;
	cpio) (cd "$w/original" && bsdtar --format cpio -cf "$out" -- *) ;;
	iso) (cd "$w/original" && bsdtar --format iso9660 -cf "$out" -- *) ;;
	topdir) (cd "$w" && cp -a original Kmsdata && mv Kmsdata/MANIFEST.sha256 . &&
		sed -i 's|  |  Kmsdata/|' MANIFEST.sha256 &&
		bsdtar -czf "$out" MANIFEST.sha256 Kmsdata && rm -rf Kmsdata MANIFEST.sha256) ;;
	*) return 1 ;;
	esac
}

# The state of the server side: Kmsdata and its siblings (not the run folder).
server_state() {
	(cd "$1/server" && ls -1 | grep -v '^run$' | LC_ALL=C sort) && tree_digest "$1/server/Kmsdata"
}

service_running() { "$KMSIM" status --run "$1/server/run" >/dev/null 2>&1; }
keys_match() { "$KMSIM" query --run "$1/server/run" --all | cmp -s - "$1/fingerprints.original"; }

# stop_spy PROFILE CALLS OUT: OUT is PROFILE with its stop command run
# through a wrapper that appends its arguments to CALLS first: after a run,
# CALLS exists only if the service was asked to stop.
stop_spy() {
	printf '#!/bin/sh\necho "$*" >>"%s"\nexec "%s" "$@"\n' "$2" "$KMSIM" >"$3.stop"
	chmod +x "$3.stop"
	sed "s|^stop = \"$KMSIM\"|stop = \"$3.stop\"|" "$1" >"$3"
}
