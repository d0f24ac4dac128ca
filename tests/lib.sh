# Shared by the shell tests: TAP output, a private temp folder, helpers to
# build demo worlds. Sourced; expects KMSRECOVER and KMSIM from the harness
# (Makefile.am's AM_TESTS_ENVIRONMENT), falling back to the build tree.
: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
: "${KMSRECOVER:=$top_builddir/kmsrecover}"
: "${KMSIM:=$top_builddir/sandbox/kmsim}"
export KMSRECOVER_KMSIM="${KMSRECOVER_KMSIM:-$KMSIM}"

tap_n=0
tap_failed=0
T=$(mktemp -d "${TMPDIR:-/tmp}/kmsrecover-test.XXXXXX")
tap_cleanup() {
	[ -n "${KEEP_TEST_DIR:-}" ] && { echo "# kept $T"; return; }
	# Stop any kmsim a test left running under $T.
	for pidfile in $(find "$T" -name kmsim.pid 2>/dev/null); do
		kill "$(cat "$pidfile")" 2>/dev/null || true
	done
	chmod -R u+w "$T" 2>/dev/null || true
	rm -rf "$T"
}
trap tap_cleanup EXIT

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
done_testing() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

# A listing of a tree that changes when any file's content, mode or name does.
tree_digest() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %m\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}
