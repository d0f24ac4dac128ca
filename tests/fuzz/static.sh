#!/bin/sh
# Static analysis: cppcheck and clang-tidy over src/, ui/ and sandbox/.
# Prints each finding, then one summary line ("static: clean ..." or
# "static: N findings ..."). Exits 0 when both report nothing, 1 on any
# finding, 2 when a tool or the build it needs is missing.
#
#     sh tests/fuzz/static.sh [BUILD-DIR]
#
# Needs, beyond the build's own dependencies, the Debian packages
# clang-tidy, cppcheck and bear (clang-tidy brings clang-14 with it; the
# compiler is clang, clang-14 or cc, the first found).
#
# clang-tidy needs the build's own flags: compile_commands.json, made by
# running the build under bear. BUILD-DIR is a configured build tree (its
# config.h is used by both tools); when it has no compile_commands.json it
# is cleaned and rebuilt under bear. Without BUILD-DIR a temporary build is
# configured with clang and removed afterwards (the source tree must then
# not be configured in place: make distclean there first).
#
# cppcheck: --enable=warning,performance,portability; a false positive is
# silenced where it is (cppcheck-suppress, with the reason on the line
# above) or, for a whole file, in .cppcheck-suppressions. clang-tidy: the
# checks chosen, and why, are in .clang-tidy. STATIC_JOBS sets how many
# clang-tidy processes run at once (default 2).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
jobs=${STATIC_JOBS:-2}

for tool in cppcheck clang-tidy bear; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "static: $tool is missing (apt-get install $tool)" >&2
		exit 2
	}
done
# The compiler bear records: clang's flags are what clang-tidy understands.
tidy_version=$(clang-tidy --version | sed -n 's/.*LLVM version \([0-9]*\).*/\1/p' | head -1)
cc=""
for c in clang "clang-$tidy_version" cc; do
	if command -v "$c" >/dev/null 2>&1; then
		cc=$c
		break
	fi
done
[ -n "$cc" ] || { echo "static: no C compiler (apt-get install clang-tidy brings one)" >&2; exit 2; }

tmp=""
out=""
# shellcheck disable=SC2317
cleanup() {
	[ -z "$tmp" ] || rm -rf "$tmp"
	[ -z "$out" ] || rm -f "$out" "$out".*
}
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
	echo "== static: configuring a $cc build in $build"
	(cd "$build" && "$top/configure" CC="$cc" -q >configure.log 2>&1) || {
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

cd "$top" || exit 2
out=$(mktemp "${TMPDIR:-/tmp}/kmsrecover-static.XXXXXX") || exit 2

echo "== cppcheck"
# The AM_CPPFLAGS defines need values only, not the real ones. One line a
# finding, in a file of its own, so that they can be counted.
cppcheck --enable=warning,performance,portability --error-exitcode=1 --inline-suppr \
    --suppressions-list=.cppcheck-suppressions --std=c11 --quiet \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
    $(for d in src/*/ ui ui/curses; do printf ' -I %s' "$d"; done) -I "$build" --include="$build/config.h" \
    -DLOCALEDIR='"/usr/share/locale"' -DSYSCONFDIR='"/etc"' -DLOCALSTATEDIR='"/var"' \
    -DPKGLIBEXECDIR='"/usr/libexec/kmsrecover"' \
    src ui sandbox 2>"$out.cppcheck"
cppcheck_rc=$?
cat "$out.cppcheck"
cppcheck_n=$(grep -cE '^.+:[0-9]+:[0-9]+: [a-z]+: ' "$out.cppcheck")
# A failure that printed no finding (a crash, a bad option) still fails.
[ "$cppcheck_rc" -eq 0 ] || [ "$cppcheck_n" -gt 0 ] || cppcheck_n=1

files=$(printf '%s\n' src/*/*.c ui/*.c ui/curses/*.c sandbox/*/*.c)
nfiles=$(echo "$files" | wc -l)
echo "== clang-tidy ($nfiles files)"
# One file a process, $jobs at a time; the findings in file order.
# shellcheck disable=SC2016
echo "$files" |
	xargs -P "$jobs" -I{} sh -c 'clang-tidy -p "$1" --quiet "$2" >"$3.tidy.$(echo "$2" | tr / _)" 2>&1 ||
	    echo "$2" >>"$3.failed"' \
	    sh "$build" {} "$out"
# A header's finding comes once, however many files include it.
cat "$out".tidy.* 2>/dev/null | grep -E '(warning|error):' | sort -t: -k1,1 -k2,2n -k3,3n |
	uniq >"$out.findings"
cat "$out.findings"
tidy_n=$(wc -l <"$out.findings")
if [ -e "$out.failed" ] && [ "$tidy_n" -eq 0 ]; then
	# clang-tidy failed on a file without a finding to show: show why.
	while read -r f; do
		echo "static: clang-tidy failed on $f:"
		tail -5 "$out.tidy.$(echo "$f" | tr / _)"
	done <"$out.failed"
	tidy_n=$(wc -l <"$out.failed")
fi

total=$((cppcheck_n + tidy_n))
if [ "$total" -eq 0 ]; then
	echo "static: clean (cppcheck; clang-tidy over $nfiles files)"
	exit 0
fi
echo "static: $total findings (cppcheck $cppcheck_n, clang-tidy $tidy_n over $nfiles files)"
exit 1
