#!/bin/sh
# The text frontend's output, as it goes into a pipe, a file or a
# terminal: prose wrapped at the width (the terminal's, else COLUMNS, else
# 80), a path never split however long, "?" at a question listing what it
# takes, a refused answer naming every answer, and the banner on how to
# answer only where something is asked.
. "$top_srcdir/tests/lib.sh"

command -v script >/dev/null || { echo "Bail out! script (bsdutils) is needed"; exit 1; }

# A world whose Kmsdata is deeper than a line of 132 columns is wide.
w="$T/w"
deep="$T/$(printf '%060d' 0 | tr 0 a)/$(printf '%060d' 0 | tr 0 b)/server"
make_world "$w" 4 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar "$w/media/usb/kmsdata.tar"
"$KMSIM" stop --run "$w/server/run" >/dev/null
mkdir -p "$deep" && mv "$w/server/Kmsdata" "$deep/" || { echo "Bail out! cannot move Kmsdata"; exit 1; }
sed -i "s|$w/server/Kmsdata|$deep/Kmsdata|g" "$w/profile"
"$KMSIM" start --data "$deep/Kmsdata" --run "$w/server/run" \
	--startup-disk "$w/new/KMSPWD.INI" >/dev/null || { echo "Bail out! kmsim start failed"; exit 1; }
kmsdata="$deep/Kmsdata"

# whole FILE: the Kmsdata path is there, and every line holding a piece of
# it (its long folder name) holds all of it.
whole() {
	grep -qF -- "$kmsdata" "$1" && ! grep -F "$(printf '%060d' 0 | tr 0 a)" "$1" |
		grep -vqF -- "$kmsdata"
}
# prose FILE: the widest line once the path a line may end with is taken off.
prose() { tr -d '\r' <"$1" | sed 's|[^ ]*/[^ ]*$||' | LC_ALL=C.UTF-8 wc -L; }

# task 1 (recover); backup: candidate 1; password: 2 (startup disk); steps 1
# to 7: y; keep the quarantine.
answers='1\n1\n2\ny\ny\ny\ny\ny\ny\ny\ny\nn\n'

# Into a pipe, COLUMNS unset: 80 columns.
{
	printf "$answers" | KMSRECOVER_MEDIA_ROOTS="$w/media" env -u COLUMNS "$KMSRECOVER" \
		--profile "$w/profile" --frontend text 2>&1
	echo "exit $?" >"$T/rc"
} | cat >"$T/pipe"
is "$(cat "$T/rc")" "exit 0" "a recovery into a pipe exits 0"
whole "$T/pipe"
ok $? "into a pipe: the Kmsdata path ($(printf %s "$kmsdata" | wc -c) characters) is never split"
[ -n "$(grep -c -- "$kmsdata" "$T/pipe" | grep -v '^[01]$')" ]
ok $? "and it is named on several lines, each time whole"
wide=$(prose "$T/pipe")
[ "$wide" -le 79 ] && [ "$wide" -ge 70 ]
ok $? "into a pipe: prose is wrapped to 79 columns (widest $wide)"
grep -qE "^  Quarantine: $kmsdata\.pre-recovery-[0-9TZ]+$" "$T/pipe"
ok $? "the summary's quarantine path is on one line with its label"

# Into a file, COLUMNS=132: the same recovery again, on lines up to 131.
printf "$answers" | KMSRECOVER_MEDIA_ROOTS="$w/media" COLUMNS=132 "$KMSRECOVER" \
	--profile "$w/profile" --frontend text >"$T/file" 2>&1
is "$?" 0 "a recovery into a file with COLUMNS=132 exits 0"
whole "$T/file"
ok $? "into a file at 132 columns: the Kmsdata path is never split"
wide=$(prose "$T/file")
[ "$wide" -le 131 ] && [ "$wide" -gt 80 ]
ok $? "at COLUMNS=132 prose goes past 80 columns but not past 131 (widest $wide)"
keys_match "$w"
ok $? "the recovered server serves the original keys"

# COLUMNS that is no width is not believed; a terminal's own width is
# believed over COLUMNS. The welcome screen is enough: quit at once.
printf 'q\n' | COLUMNS=wide "$KMSRECOVER" --profile "$w/profile" --frontend text >"$T/bad" 2>&1
wide=$(prose "$T/bad")
[ "$wide" -le 79 ] && [ "$wide" -ge 70 ]
ok $? "COLUMNS=wide: 80 columns (widest $wide)"
printf 'q\n' >"$T/q"
COLUMNS=132 TERM=dumb script -qec "stty cols 100 rows 40; '$KMSRECOVER' --profile '$w/profile' \
	--frontend text <'$T/q'" /dev/null >"$T/tty" 2>&1
wide=$(prose "$T/tty")
[ "$wide" -le 99 ] && [ "$wide" -gt 80 ]
ok $? "on a terminal 100 wide: its width, not COLUMNS=132 (widest $wide)"

# "?" at each kind of question, a refused number and a refused yes/no,
# then quit at step 1 (nothing changed).
printf '?\n9\n1\n?\n1\n2\n?\nx\nq\n' | KMSRECOVER_MEDIA_ROOTS="$w/media" "$KMSRECOVER" \
	--profile "$w/profile" --frontend text >"$T/help" 2>&1
is "$?" 1 "quit after the help: exit 1"
like "$T/help" "^This question takes:" "? says what a question takes"
like "$T/help" "^  1-4: the choice with that number" "at a choice: its numbers"
like "$T/help" "^  Enter: the default \(Recover the KM Server from a backup\)" \
	"and what Enter takes"
like "$T/help" "^  1: the one found" "at the backup: the one found on the media"
like "$T/help" "^  Enter: the default \($w/media/usb/kmsdata.tar\)" "and that Enter takes it"
like "$T/help" "^  y: yes" "at a yes/no question: y"
like "$T/help" "^  n: no" "and n"
like "$T/help" "^  b: back to the previous question" "and b, where Back is offered"
like "$T/help" "^  q: quit" "and q"
is "$(grep -c '^Choose 1-4 \[1\]:' "$T/help")" 3 "the choice is asked again after ? and after 9"
like "$T/help" "Please answer with a number from 1 to 4, or q \(quit\); \? shows help\." \
	"a refused number names the numbers and q"
like "$T/help" "Please answer y \(yes\), n \(no\), b \(back\) or q \(quit\); \? shows help\." \
	"a refused yes/no names y, n, b and q"
is "$(grep -c 'Answer each question' "$T/help")" 1 "the banner on how to answer comes once"
service_running "$w"
ok $? "the service still runs"

# English letters are answers in another language too (y at step 1 there).
if [ -e "${KMSRECOVER_LOCALEDIR:-$top_builddir/locale}/de/LC_MESSAGES/kmsrecover.mo" ]; then
	printf '1\n1\n2\ny\nq\n' | KMSRECOVER_MEDIA_ROOTS="$w/media" LANGUAGE=de LANG=C.UTF-8 \
		"$KMSRECOVER" --profile "$w/profile" --frontend text >"$T/de" 2>&1
	like "$T/de" "Schritt 2 von 7" "in German, y answers yes: step 2 comes"
else
	ok 0 "# SKIP the German catalog is not built"
fi

# verify asks nothing: no banner on how to answer.
"$KMSRECOVER" verify --backup "$w/media/usb/kmsdata.tar" --profile "$w/profile" \
	--frontend text </dev/null >"$T/verify" 2>&1
is "$?" 0 "verify through the text frontend exits 0"
unlike "$T/verify" "Answer each question" "verify prints no banner on how to answer"

done_testing
