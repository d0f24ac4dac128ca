#!/bin/sh
# The command line: help, version, usage errors (exit 2, naming the option),
# batch mode refusing before anything changes, profile errors naming the line.
. "$top_srcdir/tests/lib.sh"

"$KMSRECOVER" --help >"$T/help" 2>&1
ok $? "--help exits 0"
like "$T/help" "Usage: kmsrecover" "--help shows the usage"
for opt in --profile --frontend --backup --startup-disk --alpha-file --backup-passphrase-file \
	--yes --dry-run --resume --rollback --remove-quarantine --report-json --language; do
	like "$T/help" -- "$opt" "--help documents $opt"
done
like "$T/help" "Exit status" "--help lists the exit codes"

# --help fits a console of 80 columns in every language; each language's
# is its own, not English. The default profile's path has a line of its
# own, as long as the installation's sysconfdir makes it (make distcheck's
# is long): that line alone is not measured.
for lang in en $(grep -v '^#' "$top_srcdir/po/LINGUAS"); do
	LANGUAGE=$lang LC_ALL=C.UTF-8 "$KMSRECOVER" --help >"$T/help.$lang" 2>&1
	wide=$(grep -v '^ *[^ ]*kmsrecover\.conf$' "$T/help.$lang" | LC_ALL=C.UTF-8 wc -L)
	[ "$wide" -le 79 ]
	ok $? "--help in $lang: no line wider than 79 columns (the widest: $wide)"
	[ "$wide" -le 79 ] || LC_ALL=C.UTF-8 awk 'length($0) > 79' "$T/help.$lang" | sed 's/^/#   /'
	grep -q "^ *[^ ]*kmsrecover.conf" "$T/help.$lang"
	ok $? "--help in $lang: names the default profile"
	[ "$lang" = en ] || ! cmp -s "$T/help.en" "$T/help.$lang"
	ok $? "--help in $lang: is translated"
done

"$KMSRECOVER" --version >"$T/version"
ok $? "--version exits 0"
like "$T/version" "^kmsrecover [0-9]" "--version names the program and version"

"$KMSRECOVER" --bogus >"$T/out" 2>&1
is "$?" 2 "an unknown option exits 2"
"$KMSRECOVER" frobnicate >"$T/out" 2>&1
is "$?" 2 "an unknown command exits 2"
like "$T/out" "frobnicate" "the unknown command is named"
"$KMSRECOVER" verify >"$T/out" 2>&1
is "$?" 2 "verify without --backup exits 2"
like "$T/out" -- "--backup" "and names --backup"
"$KMSRECOVER" --resume --rollback >"$T/out" 2>&1
is "$?" 2 "--resume with --rollback exits 2"

make_world "$T/w" 5 || { echo "Bail out! make_world failed"; exit 1; }
before=$(server_state "$T/w")

"$KMSRECOVER" --profile "$T/w/profile" --frontend batch --backup "$T/w/original" \
	--startup-disk "$T/w/media/usb" >"$T/out" 2>&1
is "$?" 2 "batch without --yes exits 2"
like "$T/out" -- "--yes" "and names --yes"
"$KMSRECOVER" --profile "$T/w/profile" --frontend batch --yes \
	--startup-disk "$T/w/media/usb" >"$T/out" 2>&1
is "$?" 2 "batch without --backup exits 2"
like "$T/out" -- "--backup" "and names --backup"
"$KMSRECOVER" --profile "$T/w/profile" --frontend batch --yes --backup "$T/w/original" \
	>"$T/out" 2>&1
is "$?" 2 "batch without a password source exits 2"
like "$T/out" -- "--alpha-file" "and names --alpha-file"
is "$(server_state "$T/w")" "$before" "usage errors changed nothing"
service_running "$T/w"
ok $? "the service still runs"

printf '[service]\nmanager = command\ntimeout = soon\n' >"$T/bad.conf"
"$KMSRECOVER" --profile "$T/bad.conf" --frontend batch --yes >"$T/out" 2>&1
is "$?" 2 "a bad profile exits 2"
like "$T/out" "bad.conf:3" "the error names the file and line"
like "$T/out" "timeout" "and the key"
"$KMSRECOVER" --profile "$T/missing.conf" --frontend batch --yes >"$T/out" 2>&1
is "$?" 2 "a missing profile exits 2"
like "$T/out" "missing.conf" "naming it"

# One truth for the default profile's path: --help says it, the man page
# (made for this build) says the same.
default=$(sed -n 's/^ *\([^ ]*kmsrecover\.conf\)$/\1/p' "$T/help.en" | head -1)
[ -n "$default" ] && [ -f "$top_builddir/doc/kmsrecover.8" ] &&
	grep -qF "$default" "$top_builddir/doc/kmsrecover.8"
ok $? "the man page names the default profile --help names ($default)"
# The man page is read as troff reads it: no warning (a line of text that
# starts with '.' is taken for a request and lost).
if command -v groff >/dev/null 2>&1; then
	groff -man -ww -z "$top_builddir/doc/kmsrecover.8" >"$T/groff.err" 2>&1
	[ ! -s "$T/groff.err" ]
	ok $? "groff reads the man page without a warning" || sed 's/^/# /' "$T/groff.err"
	# Every option --help gives is in the man page.
	for opt in $("$KMSRECOVER" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -- "$(printf '%s' "$opt" | sed 's/-/\\\\-/g')" "$top_builddir/doc/kmsrecover.8" ||
			echo "$opt" >>"$T/missing"
	done
	[ ! -s "$T/missing" ]
	ok $? "every option --help names is in the man page" || sed 's/^/# missing: /' "$T/missing"
else
	echo "# groff is not installed: the man page's troff is not checked"
fi
grep -n 'kmsrecover\.conf' "$top_builddir/doc/kmsrecover.8" | grep -vF "$default" | grep -q /etc/
[ $? -ne 0 ]
ok $? "and no other path for it"

# No profile: before anything else, said so, with the defaults in use.
if [ -e "$default" ]; then
	ok 0 "# SKIP $default exists on this machine: the no-profile case cannot be made here"
else
	"$KMSRECOVER" backup --frontend batch --yes --alpha-file /dev/null -o "$T/x.tar.zst" \
		</dev/null >"$T/out" 2>&1
	like "$T/out" "No profile was found at $default, so the built-in defaults are used" \
		"without a profile, kmsrecover says so first, naming the path it tried"
	head -1 "$T/out" | grep -q "No profile was found"
	ok $? "and before anything else"
fi

"$KMSRECOVER" --language xx --help >"$T/out" 2>&1
is "$?" 2 "--language xx is a usage error"
like "$T/out" 'unknown language "xx" for --language; kmsrecover speaks: en, de' \
	"naming the languages there are"

# Standard input that is not a terminal is never read for answers: a
# refused --backup is exit 3, not a question answered by what was piped in.
echo "$T/other.tar.gz" | "$KMSRECOVER" verify --backup /nope.tgz >"$T/out" 2>&1
is "$?" 3 "verify --backup /nope.tgz with a line piped in: exit 3"
like "$T/out" "Backup: /nope.tgz" "the summary names the backup given"
unlike "$T/out" "other.tar.gz" "what was piped in is not read"
"$KMSRECOVER" --frontend curses --yes </dev/null >"$T/out" 2>&1
is "$?" 2 "--yes with the wizard is a usage error"
like "$T/out" "--yes is for unattended runs" "saying what --yes is for"

done_testing
