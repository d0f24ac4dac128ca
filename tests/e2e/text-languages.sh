#!/bin/sh
# The text frontend in every language of po/LINGUAS: `kmsrecover demo
# --frontend text` answered through standard input as a serial console
# would, in the language's own words for yes and no. The prompts the
# catalog gives are there (and are not the English ones), the recovery
# succeeds, and no line of prose is wider than 79 columns (a serial
# console has 80).
. "$top_srcdir/tests/lib.sh"

export KMSRECOVER_LOCALEDIR="${KMSRECOVER_LOCALEDIR:-$top_builddir/locale}"
unset LANGUAGE LC_ALL LC_MESSAGES
LANG=C.UTF-8
export LANG
command -v gettext >/dev/null 2>&1 || skip_all "the gettext program is not installed (gettext-base)"

# msg LL MSGID: what the built catalog says for MSGID in LL.
msg() { TEXTDOMAINDIR=$KMSRECOVER_LOCALEDIR LANGUAGE=$1 gettext -e -d kmsrecover "$2"; }
# first LL MSGID: the first eight characters of its translation.
first() { msg "$1" "$2" | sed -n '1s/^\(........\).*/\1/p'; }
# has LL FILE MSGID TEXT DESCRIPTION: TEXT (made from MSGID's translation)
# is in FILE, and the catalog does translate MSGID.
has() {
	if [ "$(msg "$1" "$3")" = "$3" ]; then
		ok 1 "$5 (the catalog does not translate \"$3\")"
	elif grep -qF -- "$4" "$2"; then
		ok 0 "$5"
	else
		ok 1 "$5"
		echo "# not in the output: $4"
	fi
}

for L in $(grep -v '^#' "$top_srcdir/po/LINGUAS"); do
	if [ ! -e "$KMSRECOVER_LOCALEDIR/$L/LC_MESSAGES/kmsrecover.mo" ]; then
		ok 1 "$L: the catalog is built in $KMSRECOVER_LOCALEDIR"
		continue
	fi
	D=$T/$L
	yes=$(msg "$L" yes) no=$(msg "$L" no)
	# backup: the one found on the media; the password: the startup disk;
	# steps 1 to 7 and "Recover now?": yes; keep the quarantine: no.
	printf '1\n2\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n' "$yes" "$yes" "$yes" "$yes" "$yes" "$yes" "$yes" "$yes" "$no" |
		LANGUAGE=$L TERM=dumb "$KMSRECOVER" demo --frontend text --records 5 --dir "$D" >"$D.out" 2>&1
	rc=$?
	is "$rc" 0 "$L: the demo recovery through the text frontend exits 0"
	[ "$rc" = 0 ] || sed 's/^/#   /' "$D.out" | tail -20
	keys_match "$D"
	ok $? "$L: the recovered server serves the original keys"
	"$KMSIM" stop --run "$D/server/run" >/dev/null 2>&1

	has "$L" "$D.out" 'Where is the backup of Kmsdata?' \
		"$(msg "$L" 'Where is the backup of Kmsdata?')" "$L: the backup is asked in $L"
	has "$L" "$D.out" 'How will you give the ORIGINAL startup password?' \
		"$(msg "$L" 'Read the &startup disk (KMSPWD.INI)' | sed 's/ *(&.)$//; s/&//')" "$L: the password's source is offered in $L"
	has "$L" "$D.out" 'Step %1$d of 7: %2$s\n' \
		"$(msg "$L" 'Step %1$d of 7: %2$s\n' | sed -n '1s/%1\$d/3/; 1s/%2\$s.*//p')" "$L: the steps are numbered in $L"
	has "$L" "$D.out" 'Move the files out of Kmsdata?' \
		"$(first "$L" 'Move the files out of Kmsdata?')" "$L: step 3 asks in $L"
	# The brackets may be the same as in English ([y/N] where the answer is y too).
	no_default=$(msg "$L" '%1$s [y/N]%2$s' | sed 's/%1\$s *//; s/%2\$s//')
	grep -qF -- "$no_default" "$D.out"
	ok $? "$L: a destructive step's default, No, shown as $no_default"
	has "$L" "$D.out" 'The KM Server is recovered and running on the original data.' \
		"$(first "$L" 'The KM Server is recovered and running on the original data.')" \
		"$L: the summary in $L"
	# A hotkey the catalog gives after the text, "(&T)", means nothing where
	# answers are typed: the numbered choices do not show it.
	! grep -E '^ +[0-9]+\) .*\([A-Za-z]\)( - |$)' "$D.out" >"$T/marks"
	ok $? "$L: the numbered choices show no hotkey marker" || sed 's/^/#   /' "$T/marks"
	# The words typed are the language's own: the English ones are not needed.
	[ "$yes" != yes ]
	ok $? "$L: the catalog has its own word for yes ($yes)"

	# A command to copy (the demo's "kmsim stop --run PATH") is never
	# wrapped, however long its path: that line alone is not measured. A
	# path is never split either: a line may run over with the path it
	# ends with, so what comes before that path is measured.
	wide=$(grep -v '^  [^ ]*kmsim stop --run [^ ]*$' "$D.out" | sed 's|[^ ]*/[^ ]*$||' |
		LC_ALL=C.UTF-8 wc -L)
	if [ "$wide" -le 79 ]; then ok 0 "$L: no line is wider than 79 columns"; else
		ok 1 "$L: no line is wider than 79 columns (one is $wide)"
		LC_ALL=C.UTF-8 awk 'length($0) > 60' "$D.out" | head -5 | sed 's/^/#   /'
	fi
done

done_testing
