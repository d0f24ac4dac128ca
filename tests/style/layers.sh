#!/bin/sh
# The layer rule (DESIGN.md, "Layers"; HACKING): each folder of src/ and ui/
# may use only itself and the layers below it. The build already refuses an
# #include of a higher layer (each library has its own include path); this
# test checks the rest, on the sources and on the built libraries:
#   1. every #include "..." of a layer names a header of that layer or of
#      one it may use;
#   2. with nm: every symbol a layer's library leaves undefined and the
#      project defines is defined in the same layer or one it may use;
#   3. no library of src/ prints or exits (printf, puts, exit, stdout,
#      stderr...): it returns its result and the frontend speaks;
#   4. no two files call each other (a file that needs what calls it is
#      in the wrong place, or the pair shares a piece that belongs below
#      both).
# Then the check itself is shown failing on planted violations of each.
. "$top_srcdir/tests/lib.sh"

command -v nm >/dev/null 2>&1 || skip_all "nm is not installed (Debian package binutils)"

# layer, its folder, its library (in the build tree), the layers it may use.
LAYERS='base src/base src/base/libbase.a base
frontend src/frontend src/frontend/libfrontend.a base,frontend
system src/system src/system/libsystem.a base,system
backup src/backup src/backup/libbackup.a base,system,backup
procedure src/procedure src/procedure/libprocedure.a base,frontend,system,backup,procedure
ui ui ui/libui.a base,frontend,ui
cli src/cli - base,frontend,system,backup,procedure,ui,cli'

# check_includes SRCROOT: each layer's #include "..." lines against the table.
check_includes() {
	_root=$1
	echo "$LAYERS" | while read -r _layer _dir _lib _may; do
		[ -d "$_root/$_dir" ] || continue
		find "$_root/$_dir" -name '*.[ch]' | LC_ALL=C sort | while read -r _f; do
			sed -n 's/^[ \t]*#[ \t]*include[ \t]*"\([^"]*\)".*/\1/p' "$_f" | while read -r _h; do
				[ "$_h" = config.h ] && continue
				_found=
				for _l in $(echo "$_may" | tr , ' '); do
					_d=$(echo "$LAYERS" | awk -v l="$_l" '$1 == l { print $2 }')
					if [ -n "$(find "$_root/$_d" -name "$(basename "$_h")" 2>/dev/null | head -1)" ]; then
						_found=$_l
						break
					fi
				done
				[ -n "$_found" ] && continue
				_owner=unknown
				for _d in $(echo "$LAYERS" | awk '{ print $2 }'); do
					[ -n "$(find "$_root/$_d" -name "$(basename "$_h")" 2>/dev/null | head -1)" ] &&
						_owner=$_d
				done
				echo "${_f#"$_root"/} includes $_h ($_owner): layer $_layer may use only $_may"
			done
		done
	done
}

# nm_table BUILDROOT SRCROOT: "layer file kind symbol" for every symbol of
# every layer library (kind D defined, U undefined); file is the source's
# path without .c (an archive member is named for its file only: the path
# comes from the layer's folder in SRCROOT).
nm_table() {
	echo "$LAYERS" | while read -r _layer _dir _lib _may; do
		[ "$_lib" = - ] && continue
		[ -f "$1/$_lib" ] || { echo "$_layer - MISSING $_lib"; continue; }
		(cd "$2" && find "$_dir" -name '*.c') >"$T/sources"
		nm -A "$1/$_lib" 2>/dev/null | awk -v layer="$_layer" -v sources="$T/sources" '
		BEGIN {
			while ((getline f < sources) > 0) {
				b = f; sub(/.*\//, "", b); sub(/\.c$/, "", b); sub(/\.c$/, "", f); path[b] = f
			}
		}
		{
			split($1, p, ":"); member = p[2]
			sub(/^.*_a-/, "", member); sub(/\.o$/, "", member)
			file = member in path ? path[member] : member
			if (NF == 3 && $2 ~ /^[TDBRC]$/) print layer, file, "D", $3
			else if (NF == 3 && $2 == "U") print layer, file, "U", $3
		}'
	done
}

# check_calls BUILDROOT SRCROOT: checks 2, 3 and 4 on the built libraries.
check_calls() {
	nm_table "$1" "$2" >"$T/nm.table"
	awk -v layers="$LAYERS" '
	BEGIN {
		n = split(layers, lines, "\n")
		for (i = 1; i <= n; i++) { split(lines[i], f, " "); may[f[1]] = "," f[4] "," }
		split("printf vprintf puts putchar exit perror stdout stderr __printf_chk __vprintf_chk", b, " ")
		for (i in b) banned[b[i]] = 1
	}
	$3 == "MISSING" { print "the library " $4 " is not built"; bad = 1; next }
	$3 == "D" { deflayer[$4] = $1; deffile[$4] = $2; next }
	{ use[NR] = $0 }
	END {
		for (i in use) {
			split(use[i], u, " ")
			if (u[4] in banned && u[1] != "ui")
				print u[2] ".c (" u[1] ") uses " u[4] ": a library of src/ returns its result and does not print or exit"
			if (!(u[4] in deflayer)) continue
			if (index(may[u[1]], "," deflayer[u[4]] ",") == 0)
				print u[2] ".c (" u[1] ") calls " u[4] " of " deffile[u[4]] ".c (" deflayer[u[4]] "): layer " u[1] " may use only" may[u[1]]
			if (deffile[u[4]] != u[2]) calls[u[2] " " deffile[u[4]]] = 1
		}
		for (c in calls) {
			split(c, ab, " ")
			if (ab[1] < ab[2] && (ab[2] " " ab[1]) in calls)
				print ab[1] ".c and " ab[2] ".c call each other"
		}
	}' "$T/nm.table" | LC_ALL=C sort -u
}

# The tree as it is.
check_includes "$top_srcdir" >"$T/includes"
[ ! -s "$T/includes" ]
ok $? "every #include is of the layer's own or a lower layer's header"
sed 's/^/# /' "$T/includes"
check_calls "$top_builddir" "$top_srcdir" >"$T/calls"
[ ! -s "$T/calls" ]
ok $? "every call goes to the same or a lower layer, src/ neither prints nor exits, no two files call each other"
sed 's/^/# /' "$T/calls"
[ "$(awk '$3 == "D"' "$T/nm.table" | wc -l)" -gt 100 ]
ok $? "nm read the layers' libraries ($(awk '$3 == "D"' "$T/nm.table" | wc -l) symbols defined)"

# Planted violations: the check must find each.
P=$T/planted
mkdir -p "$P/src/base" "$P/src/procedure" "$P/src/system" "$P/ui" "$P/src/frontend" "$P/src/backup" "$P/src/cli"
printf '#include "engine.h"\nint base_up(void) { return engine_x(); }\n' >"$P/src/base/bad.c"
printf 'int engine_x(void);\n' >"$P/src/procedure/engine.h"
check_includes "$P" >"$T/planted-includes"
like "$T/planted-includes" '^src/base/bad.c includes engine.h \(src/procedure\)' \
	"planted: base including a procedure header is found, naming file and header"

# Libraries built from planted objects: base calls up into procedure and
# prints; system's two files call each other.
CC=${CC:-cc}
planted_lib() { # planted_lib LIB FILE.c...
	_lib=$1
	shift
	for _c in "$@"; do
		_o=$(dirname "$_lib")/$(basename "$(dirname "$_lib")" | sed 's/^/x_/')_a-$(basename "$_c" .c).o
		$CC -c -o "$_o" "$_c" || return 1
		ar cr "$_lib" "$_o"
	done
}
cat >"$P/src/base/up.c" <<'C'
#include <stdio.h>
int procedure_run(void);
int base_up(void) { printf("hello\n"); return procedure_run(); }
C
printf 'int procedure_run(void) { return 0; }\n' >"$P/src/procedure/run.c"
printf 'int b(void);\nint a(void) { return b(); }\n' >"$P/src/system/one.c"
printf 'int a(void);\nint b(void) { return a(); }\n' >"$P/src/system/two.c"
printf 'int fe(void) { return 0; }\n' >"$P/src/frontend/fe.c"
printf 'int bk(void) { return 0; }\n' >"$P/src/backup/bk.c"
printf 'int ui(void) { return 0; }\n' >"$P/ui/ui.c"
planted_lib "$P/src/base/libbase.a" "$P/src/base/up.c" &&
	planted_lib "$P/src/procedure/libprocedure.a" "$P/src/procedure/run.c" &&
	planted_lib "$P/src/system/libsystem.a" "$P/src/system/one.c" "$P/src/system/two.c" &&
	planted_lib "$P/src/frontend/libfrontend.a" "$P/src/frontend/fe.c" &&
	planted_lib "$P/src/backup/libbackup.a" "$P/src/backup/bk.c" &&
	planted_lib "$P/ui/libui.a" "$P/ui/ui.c"
ok $? "planted: the libraries are built"
check_calls "$P" "$P" >"$T/planted-calls"
like "$T/planted-calls" '^src/base/up.c \(base\) calls procedure_run of src/procedure/run.c \(procedure\)' \
	"planted: a call from base up into procedure is found"
like "$T/planted-calls" '^src/base/up.c \(base\) uses (printf|puts)' \
	"planted: a library of src/ that prints is found"
like "$T/planted-calls" '^src/system/one.c and src/system/two.c call each other' \
	"planted: two files that call each other are found"

done_testing
