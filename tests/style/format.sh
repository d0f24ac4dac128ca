#!/bin/sh
# The C sources follow .clang-format: clang-format --dry-run --Werror on
# every .c and .h file of the source tree (not config.h or other build
# outputs), one TAP point a file. To fix one: clang-format -i FILE.
. "$top_srcdir/tests/lib.sh"

command -v clang-format >/dev/null 2>&1 ||
	skip_all "clang-format is not installed (Debian package clang-format)"

cd "$top_srcdir" || exit 1
files=$(find src ui sandbox tests -name '*.[ch]' -type f ! -name config.h | LC_ALL=C sort)
[ -n "$files" ] || skip_all "no C sources under $top_srcdir"
for f in $files; do
	if clang-format --dry-run --Werror "$f" >"$T/format.out" 2>&1; then
		ok 0 "$f follows .clang-format"
	else
		ok 1 "$f follows .clang-format (clang-format -i $f)"
		head -20 "$T/format.out" | sed 's/^/# /'
	fi
done

done_testing
