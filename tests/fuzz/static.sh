#!/bin/sh
# Static analysis: cppcheck and clang-tidy over src/, ui/ and sandbox/.
# Exits 0 when both report nothing, 1 on any finding, 2 when a tool or the
# build it needs is missing.
#
#     sh tests/fuzz/static.sh [BUILD-DIR]
#
# clang-tidy needs the build's own flags: compile_commands.json, made by
# running the build under bear. BUILD-DIR is a configured build tree (its
# config.h is used by both tools); when it has no compile_commands.json it
# is cleaned and rebuilt under bear. Without BUILD-DIR a temporary build is
# configured with CC=clang and removed afterwards (the source tree must
# then not be configured in place: make distclean there first).
#
# cppcheck: --enable=warning,performance,portability, suppressions (false
# positives only, each explained) in .cppcheck-suppressions, inline ones
# allowed. clang-tidy: the checks chosen, and why, are in .clang-tidy.
# Needs cppcheck, clang, clang-tidy and bear (Debian packages of the same
# names).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
jobs=${STATIC_JOBS:-2}

for tool in cppcheck clang-tidy bear clang; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "static: $tool is missing (apt-get install $tool)" >&2
		exit 2
	}
done

tmp=""
# shellcheck disable=SC2317
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 2' HUP INT TERM

if [ $# -ge 1 ]; then
	build=$(cd "$1" && pwd) || exit 2
else
	if [ -f "$top/config.status" ]; then
		echo "static: the source tree is configured in place; run make distclean there" \
		    "or give a build folder" >&2
		exit 2
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/kmsrecover-static.XXXXXX") || exit 2
	build=$tmp
	echo "== static: configuring a clang build in $build"
	(cd "$build" && "$top/configure" CC=clang -q >configure.log 2>&1) || {
		tail -20 "$build/configure.log"
		exit 2
	}
fi
[ -f "$build/config.h" ] || { echo "static: $build is not configured" >&2; exit 2; }
if [ ! -s "$build/compile_commands.json" ]; then
	echo "== static: building under bear for compile_commands.json"
	# -k: a link failure elsewhere does not matter, every compile does.
	(cd "$build" && make clean >/dev/null 2>&1; bear -- make -k -j"$jobs" >bear.log 2>&1)
	[ -s "$build/compile_commands.json" ] || {
		echo "static: bear made no compile_commands.json; see $build/bear.log" >&2
		exit 2
	}
fi

status=0
cd "$top" || exit 2

echo "== cppcheck"
# The AM_CPPFLAGS defines need values only, not the real ones.
if ! cppcheck --enable=warning,performance,portability --error-exitcode=1 --inline-suppr \
    --suppressions-list=.cppcheck-suppressions --std=c11 --quiet \
    -I src -I ui -I "$build" --include="$build/config.h" \
    -DLOCALEDIR='"/usr/share/locale"' -DSYSCONFDIR='"/etc"' -DLOCALSTATEDIR='"/var"' \
    -DPKGLIBEXECDIR='"/usr/libexec/kmsrecover"' \
    src ui sandbox; then
	status=1
	echo "static: cppcheck found the above"
fi

files=$(printf '%s\n' src/*.c ui/*.c ui/curses/*.c sandbox/*.c)
echo "== clang-tidy ($(echo "$files" | wc -l) files)"
out=$(mktemp "${TMPDIR:-/tmp}/kmsrecover-tidy.XXXXXX") || exit 2
# One file a process, $jobs at a time; the findings in file order.
# shellcheck disable=SC2016
echo "$files" |
	xargs -P "$jobs" -I{} sh -c 'clang-tidy -p "$1" --quiet "$2" >"$3.$$.$(echo "$2" | tr / _)" 2>&1 || echo fail >"$3.failed"' \
	    sh "$build" {} "$out"
cat "$out".*.* 2>/dev/null | grep -E 'warning:|error:' | sort -u -t: -k1,1 -k2,2n
if [ -e "$out.failed" ] || cat "$out".*.* 2>/dev/null | grep -qE 'warning:|error:'; then
	status=1
	echo "static: clang-tidy found the above (full output: $out.*)"
else
	rm -f "$out" "$out".*
fi
rm -f "$out"

if [ $status -eq 0 ]; then
	echo "static: nothing found"
fi
exit $status
