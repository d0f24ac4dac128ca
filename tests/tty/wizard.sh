#!/bin/sh
# The curses wizard, driven in a real terminal (tmux) the way an operator
# drives it: `kmsrecover demo` through whole recoveries, with the startup
# disk and with a typed password, going Back, F1/F2 and their Esc twins, a
# refused password, resizing, No at step 3, quitting at step 3 and
# resuming, TERM=vt100, NO_COLOR, and Japanese. Each scenario has its own
# demo world under $T and checks what the screen shows (every screen also
# for its width and its frames), the world afterwards (the server's keys
# against the original's), the exit status, and that the terminal is sane
# again. Known engine bugs are TAP TODO tests.
#
# KEEP_TEST_DIR=1 keeps $T: kept/ holds every screen the test looked at
# (NNN-COLSxLINES.txt), capture-*.txt those kept for the README
# (tests/tty/screens/, copied by hand with the temporary folder's random
# part replaced by XXXXXX).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tty/lib.sh"


# todo STATUS DESCRIPTION REASON: a TAP test marked TODO (a known bug in
# the engine, not the wizard's): reported, not counted as a failure; the
# harness calls it an unexpected pass once the bug is fixed.
todo() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2 # TODO $3"; else echo "not ok $tap_n - $2 # TODO $3"; fi
}

# shows TEXT DESCRIPTION / hides TEXT DESCRIPTION: on the last screen.
shows() { like "$T/screen" "$1" "$2" || tty_diag "$T/screen"; }
hides() { unlike "$T/screen" "$1" "$2"; }


# How the pane ends: the exit status into FILE, then a shell in the same
# terminal, so the terminal can be looked at once the program has gone.
# The program's standard error goes to FILE.err (a sanitizer's report
# would be drawn over by the screen).
then_shell() { printf ' 2>%s; echo $? >%s; exec env PS1=%s sh -i' "$(q "$1.err")" "$(q "$1")" "'$ '"; }

# demo_start NAME [-x COLS] [-y LINES] [-t TERM] [-e VAR=VALUE]... [-- ARG...]:
# `kmsrecover demo --dir D ARG...` in a new terminal; D is its world and
# $D.exit gets the exit status.
demo_start() {
	name=$1
	shift
	opts='' envs='' args=''
	while [ $# -gt 0 ]; do
		case $1 in
		-x | -y | -t) opts="$opts $1 $2"; shift 2 ;;
		-e) envs="$envs $(q "$2")"; shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	for a in "$@"; do args="$args $(q "$a")"; done
	D=$T/$name
	broken=
	echo "# scenario: $name"
	# shellcheck disable=SC2086 # opts: options and numbers, split on purpose
	tmux_start $opts "env$envs $(q "$KMSRECOVER") demo --dir $(q "$D")$args$(then_shell "$D.exit")"
}

# run_start NAME [-x COLS] [-y LINES] [-t TERM]: kmsrecover itself on the
# world D, as an operator runs it after the demo (to resume); the exit
# status goes to $D.exit.2.
run_start() {
	name=$1
	shift
	broken=
	echo "# scenario: $name"
	# shellcheck disable=SC2068
	tmux_start $@ "env KMSRECOVER_MEDIA_ROOTS=$(q "$D/media") $(q "$KMSRECOVER") --profile $(q "$D/kmsrecover.conf")$(then_shell "$D.exit.2")"
}

# The alpha strings, from the startup disks (KMSPWD.INI has CRLF lines).
alpha_original() { tr -d '\r' <"$D/media/startup-disk/KMSPWD.INI" | sed -n 's/^pwd=//p'; }
alpha_new() { tr -d '\r' <"$D/rebuild-disk/KMSPWD.INI" | sed -n 's/^pwd=//p'; }

# The program has ended with STATUS (in FILE), and the terminal it leaves
# is sane: what is typed is echoed, a line is read on Enter, and stty
# reports the usual modes.
ended() { # ended STATUS [FILE]
	_file=${2:-$D.exit}
	if [ -n "$broken" ]; then
		ok 1 "$name: exits $1 (not reached)"
		return 1
	fi
	wait_file "$_file" >"$T/.wait" 2>&1 || cat "$T/.wait"
	is "$(cat "$_file" 2>/dev/null)" "$1" "$name: exits $1"
	unlike "$_file.err" 'Sanitizer|runtime error|Assertion' "$name: no sanitizer report on its standard error"
	# shellcheck disable=SC2016 # typed into the shell as it is
	tmux_type 'echo STTY=$(stty -a | tr " ;" "\n\n" | grep -cx -e icanon -e echo -e icrnl -e onlcr -e isig)'
	tmux_keys Enter
	# shellcheck disable=SC2016
	expect "$name: the shell after it echoes what is typed" 'echo STTY=$(stty -a'
	expect "$name: and reads lines with the usual modes" 'STTY=5'
}

keys_match_original() {
	"$KMSIM" query --run "$D/server/run" --all 2>/dev/null | cmp -s - "$D/fingerprints.original"
}

# all_fit: the screens a scenario looked at all fit (tests/tty/lib.sh).

# Keeps a copy of the last screen as $T/capture-NAME.txt (for the README).
keep() { cp "$T/screen" "$T/capture-$1.txt"; }

# The welcome screen, and the backup found on the demo's media.
welcome_and_backup() {
	expect "$name: welcome" 'kmsrecover - MSExchangeKMS - Welcome' &&
		shows '< Next >   < Quit >' "$name: welcome offers Next and Quit"
	tmux_keys Enter
	expect "$name: the backup is asked, with the one found on the media" \
		'media/backup-disk/kmsdata-backup.tar.gz' Down
	expect "$name: Down puts it in the field" 'kmsdata-backup.tar.gz ]' Enter
}

# The password from the startup disk.
password_from_disk() {
	expect "$name: how the password is given" 'How will you give the ORIGINAL startup password?' Down Enter
}

# The password typed: the masked field never shows it.
password_typed() {
	_alpha=$1
	expect "$name: how the password is given" 'How will you give the ORIGINAL startup password?' Enter
	expect "$name: the masked entry" 'The ORIGINAL alpha string:'
	tmux_type "$_alpha"
	expect "$name: typing shows stars" '[********'
	hides "$_alpha" "$name: the alpha string typed is not on the screen"
	[ -z "${reveal:-}" ] || password_reveal "$_alpha"
	tmux_keys Enter
}

# F4 shows what was typed, to check it against the paper; Esc 4 hides it.
password_reveal() {
	tmux_keys F4
	expect "$name: F4 shows the alpha string" "[$1"
	tmux_keys Escape 4
	expect "$name: Esc 4 hides it again" '[********' &&
		hides "$1" "$name: the alpha string is gone from the screen"
}

# Steps 1 to 7 answered Yes (3 with 'y': its default is No), from the
# warning before step 1 on.
steps_yes() {
	expect "$name: the warning about the NEW alpha string" "$H Warning $H" Enter
	expect "$name: step 1" 'Step 1 of 7: Check the reinstalled KM Server' &&
		shows '< Yes >   < No >   < Back >' "$name: step 1 has Yes, No and Back"
	tmux_keys Enter
	expect "$name: step 2" 'Step 2 of 7: Stop the KM Server service' Enter
	expect "$name: step 3, the destructive one" 'Move the files out of Kmsdata?' &&
		[ -n "$mono" ] && no_in_focus
	tmux_keys y
	expect "$name: step 4" 'Step 4 of 7: Restore Kmsdata' y
	expect "$name: step 5" 'Step 5 of 7: Select the KM Server service' Enter
	expect "$name: step 6" 'Step 6 of 7: Give the original startup password' &&
		{ [ "$name" != disk ] ||
			shows 'KMSPWD\.INI \(medium startup-disk\)' \
				"$name: step 6 names the KMSPWD.INI read and its medium"; }
	tmux_keys Enter
	expect "$name: step 7" 'Step 7 of 7: Start the KM Server service' Enter
	ready
}

# The last question, after step 7's: No by default; y goes ahead. (ready
# stopped: a resumed run, whose service an interrupted run stopped.)
ready() {
	expect "$name: the last question before the service goes down" 'Recover now?' &&
		shows 'at most about' "$name: it says how long the service will be down"
	[ "${1:-}" = stopped ] ||
		check "$name: nothing is stopped before it is answered" service_running "$D"
	tmux_keys y
}

# On a monochrome screen the focus is in reverse video: step 3 starts on No.
no_in_focus() {
	tmux_attrs
	reversed "$T/attrs" '< No >' && ! reversed "$T/attrs" '< Yes >'
	ok $? "$name: step 3 starts with No in focus"
	has_colour "$T/attrs"
	ok $((!$?)) "$name: no colour"
}

# The end: keep the quarantine (the default), the summary, OK.
finish() {
	expect "$name: the quarantine question" 'Remove the quarantine folder?' Enter
	expect "$name: the summary" 'The KM Server is recovered and running on the' &&
		shows 'kmsrecover - MSExchangeKMS - Finished' "$name: the title says Finished" &&
		shows "Keys: +all $keys keys match the original" "$name: all $keys keys match"
	tmux_keys Enter
}

# ---------------------------------------------------------------------------
# A whole recovery with the startup disk, at 80x24, 250 keys.
keys=250 mono=
demo_start disk
expect "disk: the demo builds its world first" 'kmsrecover - MSExchangeKMS - Welcome' && keep welcome
tmux_attrs
check "disk: colours on a colour terminal" has_colour "$T/attrs"
welcome_and_backup
keep backup
password_from_disk
steps_yes
finish
expect "disk: the demo says where things are" 'The demo world is in'
ended 0
check "disk: the server answers with the original's keys" keys_match_original
check "disk: the service runs" service_running "$D"
all_fit

# ---------------------------------------------------------------------------
# A typed password; F1 and F2 and their twins Esc 1 and Esc 2; going Back
# from steps 1 and 2 (Esc, then the Back button's hotkey); the quarantine
# removed at the end.
keys=20
demo_start typed -- --records 20
expect "typed: welcome" 'kmsrecover - MSExchangeKMS - Welcome' F2
expect "typed: F2 before the recovery starts" 'There is no transcript yet' Enter
welcome_and_backup
# Typed in lower case: the profile folds it (case = upper).
reveal=1
password_typed "$(alpha_original | tr '[:upper:]' '[:lower:]')"
reveal=
expect "typed: the warning about the NEW alpha string" "$H Warning $H" Enter
expect "typed: step 1" 'Step 1 of 7: Check the reinstalled KM Server' F1
expect "typed: F1 shows the help" 'kmsrecover - Help' &&
	shows 'Check the reinstalled KM Server' "typed: the help has the step's text" &&
	shows 'F10, Esc 0, Ctrl-X' "typed: and the keys"
keep help
tmux_keys Escape
expect_gone "typed: Esc closes the help" 'kmsrecover - Help' &&
	shows 'Step 1 of 7: Check the reinstalled KM Server' "typed: back at step 1"
tmux_keys Escape 1
expect "typed: Esc 1 shows the help too" 'kmsrecover - Help' q
expect "typed: q closes it" 'Step 1 of 7: Check the reinstalled KM Server' F2
expect "typed: F2 shows the transcript" 'kmsrecover - Transcript: ' &&
	shows 'password: unlocks' "typed: the transcript says the password unlocks the staged copy"
hides "$(alpha_original)" "typed: the transcript on screen does not hold the alpha string"
tmux_keys Escape
expect "typed: Esc closes the transcript" 'Step 1 of 7: Check the reinstalled KM Server' Escape 2
expect "typed: Esc 2 shows the transcript too" 'kmsrecover - Transcript: ' Escape
expect "typed: back at step 1" 'Step 1 of 7: Check the reinstalled KM Server' Enter
expect "typed: step 2" 'Step 2 of 7: Stop the KM Server service' Escape
expect "typed: Esc goes back to step 1 (its warning first)" "$H Warning $H" Enter
expect "typed: step 1 again" 'Step 1 of 7: Check the reinstalled KM Server' Enter
expect "typed: step 2 again" 'Step 2 of 7: Stop the KM Server service' b
expect "typed: the Back button (b) goes back too" "$H Warning $H" Enter
check "typed: going back changed nothing: the service still runs" service_running "$D"
expect "typed: step 1, a third time" 'Step 1 of 7: Check the reinstalled KM Server' Enter
expect "typed: step 2" 'Step 2 of 7: Stop the KM Server service' Enter
expect "typed: step 3" 'Move the files out of Kmsdata?' y
expect "typed: step 4" 'Step 4 of 7: Restore Kmsdata' y
expect "typed: step 5" 'Step 5 of 7: Select the KM Server service' Enter
expect "typed: step 6" 'Step 6 of 7: Give the original startup password' Enter
expect "typed: step 7" 'Step 7 of 7: Start the KM Server service' Enter
ready
expect "typed: the quarantine question" 'Remove the quarantine folder?' y
expect "typed: the summary" 'The KM Server is recovered and running on the' &&
	shows "Keys: +all $keys keys match the original" "typed: all $keys keys match"
keep summary
tmux_keys Enter
ended 0
check "typed: the server answers with the original's keys" keys_match_original
check_fails "typed: the quarantine is gone" sh -c "ls -d '$D'/server/Kmsdata.pre-recovery-* 2>/dev/null | grep ."
check_fails "typed: no transcript or report holds the alpha string" grep -rqF "$(alpha_original)" "$D/state"
all_fit

# ---------------------------------------------------------------------------
# A refused password (the rebuild's NEW alpha string), then the right one;
# NO_COLOR on a colour terminal.
mono=1
demo_start refused -e NO_COLOR=1 -- --records 20
welcome_and_backup
password_typed "$(alpha_new)"
expect "refused: the NEW alpha string is refused, naming Event 5057" 'Event 5057' &&
	shows "$H Error $H" "refused: in an error box"
hides 'Ctrl-C Stop|< Stop >' "refused: the finished work's Stop button is not left under it"
grep -A1 'Event 5057: The supplied password is not valid' "$T/screen" | tail -n 1 | grep -q '└'
ok $? "refused: the service's output is framed without a blank line after it"
tmux_attrs
has_colour "$T/attrs"
ok $((!$?)) "refused: NO_COLOR: no colour"
keep refused
tmux_keys Enter
expect "refused: the password is asked again" 'Give the ORIGINAL startup password again' Enter
expect "refused: the masked entry again" 'The ORIGINAL alpha string:'
tmux_type "$(alpha_original)"
tmux_keys Enter
check "refused: nothing changed meanwhile: the service still runs" service_running "$D"
steps_yes
finish
ended 0
check "refused: the server answers with the original's keys" keys_match_original
all_fit
mono=

# ---------------------------------------------------------------------------
# Resizing mid-recovery: larger, too small (keys do nothing then), back.
demo_start resize -- --records 20
welcome_and_backup
password_from_disk
expect "resize: the warning" "$H Warning $H" Enter
expect "resize: step 1" 'Step 1 of 7: Check the reinstalled KM Server'
tmux_resize 100 30
tap_wait "resize: at 100x30 the panes grow" wait_frame &&
	shows 'Step 1 of 7: Check the reinstalled KM Server' "resize: still step 1"
tmux_keys F1
expect "resize: the help at 100x30" 'kmsrecover - Help'
tmux_resize 80 24
expect "resize: the help follows back to 80x24" 'kmsrecover - Help' Escape
expect "resize: step 1 at 80x24" 'Step 1 of 7: Check the reinstalled KM Server' Enter
expect "resize: step 2" 'Step 2 of 7: Stop the KM Server service' Enter
expect "resize: step 3" 'Move the files out of Kmsdata?'
server_state "$D" >"$T/resize.before"
tmux_resize 60 20
expect "resize: at 60x20, what size is needed" 'at least 76x20' &&
	shows 'F10 to quit' "resize: and how to get out"
keep too-small
tmux_keys y Enter
tmux_resize 80 24
tap_wait "resize: back at 80x24" wait_frame &&
	shows 'Move the files out of Kmsdata?' "resize: step 3 is still asked"
server_state "$D" >"$T/resize.after"
check "resize: keys pressed while too small changed nothing" cmp -s "$T/resize.before" "$T/resize.after"
tmux_keys y
expect "resize: step 4" 'Step 4 of 7: Restore Kmsdata' y
expect "resize: step 5" 'Step 5 of 7: Select the KM Server service' Enter
expect "resize: step 6" 'Step 6 of 7: Give the original startup password' Enter
expect "resize: step 7" 'Step 7 of 7: Start the KM Server service' Enter
ready
finish
ended 0
check "resize: the server answers with the original's keys" keys_match_original
all_fit

# ---------------------------------------------------------------------------
# Enter at step 3 answers its default, No: nothing is moved, nothing was
# stopped (every step is confirmed before the service goes down).
demo_start no3 -- --records 20
welcome_and_backup
password_from_disk
expect "no3: the warning" "$H Warning $H" Enter
expect "no3: step 1" 'Step 1 of 7: Check the reinstalled KM Server' Enter
expect "no3: step 2" 'Step 2 of 7: Stop the KM Server service' Enter
expect "no3: step 3" 'Move the files out of Kmsdata?'
tree_digest "$D/server/Kmsdata" >"$T/no3.before"
is "$(grep -c 'Move [0-9]* files' "$T/screen")" 1 "no3: what will be done is said once, not again as the question's text"
keep step3
tmux_keys Enter
expect "no3: No stops the recovery and says nothing was changed" 'Nothing has been changed yet' Enter
expect "no3: the summary says so" 'The recovery did not complete' Enter
ended 1
tree_digest "$D/server/Kmsdata" >"$T/no3.after"
check "no3: Kmsdata is as it was" cmp -s "$T/no3.before" "$T/no3.after"
check "no3: the service was never stopped" service_running "$D"
check_fails "no3: no journal claims an interrupted recovery" test -e "$D/state/journal"
all_fit

# ---------------------------------------------------------------------------
# F10 at step 3 with --pause-between-steps (each step runs as it is
# confirmed: the service is down there), then a second run resumes.
demo_start quit -- --records 20 --pause-between-steps
welcome_and_backup
password_typed "$(alpha_new)"
expect "quit: the NEW alpha string is refused" 'Event 5057' Enter
expect "quit: asked again, the disk this time" 'Give the ORIGINAL startup password again' Down Enter
expect "quit: the warning" "$H Warning $H" Enter
expect "quit: step 1" 'Step 1 of 7: Check the reinstalled KM Server' Enter
expect "quit: step 2" 'Step 2 of 7: Stop the KM Server service' Enter
expect "quit: step 3" 'Move the files out of Kmsdata?' F10
expect "quit: F10 asks first" 'Quit kmsrecover now?' &&
	shows 'The service is stopped. Kmsdata is untouched.' "quit: saying what state things are in"
hides 'You can run kmsrecover again later' "quit: the state is not followed by the same advice again"
keep quit
tmux_keys q
expect "quit: q quits" "$H Warning $H" &&
	shows 'Kmsdata is untouched' "quit: saying the state once more"
tmux_keys Enter
expect "quit: the summary" 'The recovery did not complete'
! grep -q 'does not unlock' "$T/screen"
ok $? "quit: the summary does not blame the password refused before the right one"
hides '\[ failed \]' "quit: the step declined is not marked failed"
tmux_keys Enter
ended 1
check "quit: a journal is left" test -s "$D/state/journal"
check_fails "quit: the service is stopped" service_running "$D"
check "quit: Kmsdata still holds the rebuild's files" test -s "$D/server/Kmsdata/Kmsmdb.edb"
run_start resume
expect "resume: welcome" 'kmsrecover - MSExchangeKMS - Welcome' Enter
expect "resume: the interrupted recovery is found" 'An interrupted recovery' &&
	shows 'Roll back' "resume: Roll back is offered" && shows 'Start over' "resume: and Start over"
tmux_keys Enter
expect "resume: at step 3" 'Move the files out of Kmsdata?'
grep -q 'Move 4 files' "$T/screen"
ok $? "resume: step 3 counts the files it will move"
tmux_keys y
expect "resume: step 4" 'Step 4 of 7: Restore Kmsdata' y
expect "resume: step 5" 'Step 5 of 7: Select the KM Server service' Enter
expect "resume: the password is asked again" 'How will you give the ORIGINAL startup password?' Down Enter
expect "resume: step 6" 'Go on with this password?' Enter
expect "resume: step 7" 'Step 7 of 7: Start the KM Server service' Enter
ready stopped
expect "resume: the quarantine question" 'Remove the quarantine folder?' Enter
expect "resume: the summary" 'The KM Server is recovered and running on the' Enter
ended 0 "$D.exit.2"
check "resume: the server answers with the original's keys" keys_match_original
all_fit

# ---------------------------------------------------------------------------
# TERM=vt100: no colour, line drawing through the alternate character set,
# and only the Esc twins of the function keys.
demo_start vt100 -t vt100 -- --records 20
H=q mono=1
expect "vt100: welcome" 'kmsrecover - MSExchangeKMS - Welcome' Escape 1
expect "vt100: Esc 1 is F1" 'kmsrecover - Help' q
expect "vt100: welcome again" 'kmsrecover - MSExchangeKMS - Welcome' Escape 0
# Esc and Enter typed quickly, within the Esc delay: two keys, Cancel and Next.
expect "vt100: Esc 0 is F10" 'Quit kmsrecover now?' Escape Enter
expect "vt100: Esc in the box is Cancel, then Enter is Next" 'media/backup-disk/kmsdata-backup.tar.gz' Down
expect "vt100: Down puts it in the field" 'kmsdata-backup.tar.gz ]' Enter
password_from_disk
# Back from step 1 to the prerequisites: the backup is asked (and staged) again.
expect "vt100: the warning" "$H Warning $H" Enter
expect "vt100: step 1" 'Step 1 of 7: Check the reinstalled KM Server' Escape
expect "vt100: Esc at step 1 goes back to the backup" 'Where is the backup of Kmsdata?' Down
expect "vt100: the backup again" 'kmsdata-backup.tar.gz ]' Enter
password_from_disk
steps_yes
finish
ended 0
check "vt100: the server answers with the original's keys" keys_match_original
check_fails "vt100: no staged copy is left over from going back" \
	sh -c "ls -d '$D'/server/Kmsdata.staged-* 2>/dev/null | grep ."
all_fit

H=─ mono=

# ---------------------------------------------------------------------------
# Japanese: double-width text must fit the panes and boxes just the same,
# and no line may start with closing punctuation. The texts waited for come
# from the catalog itself.
ja() { msg ja "$1"; }
# shellcheck disable=SC2059 # the format is the catalog's
ja_step() { printf "$(ja 'Step %d of %d: %s')" "$1" 7 ''; }
if ! command -v gettext >/dev/null 2>&1 || [ ! -e "$KMSRECOVER_LOCALEDIR/ja/LC_MESSAGES/kmsrecover.mo" ]; then
	echo "# skipped the Japanese scenario: no gettext program or no ja catalog"
else
	demo_start ja -e LANGUAGE=ja -- --records 20
	expect "ja: welcome" "kmsrecover - MSExchangeKMS - $(ja Welcome)" Enter
	expect "ja: the backup" 'media/backup-disk/kmsdata-backup.tar.gz' Down
	expect "ja: Down puts it in the field" 'kmsdata-backup.tar.gz ]' Enter
	expect "ja: how the password is given" "$(ja 'How will you give the ORIGINAL startup password?')" Down Enter
	expect "ja: the warning" "$H $(ja Warning) $H" Enter
	expect "ja: step 1" "$(ja_step 1)" F1
	expect "ja: the help" "kmsrecover - $(ja Help)" Escape
	expect "ja: step 1 again" "$(ja_step 1)" Enter
	expect "ja: step 2" "$(ja_step 2)" Enter
	expect "ja: step 3" "$(ja 'Move the files out of Kmsdata?')" y
	expect "ja: step 4" "$(ja_step 4)" y
	expect "ja: step 5" "$(ja_step 5)" Enter
	expect "ja: step 6" "$(ja_step 6)" Enter
	expect "ja: step 7" "$(ja_step 7)" Enter
	expect "ja: the last question" "$(ja 'Recover now?')" y
	expect "ja: the quarantine question" "$(ja 'Remove the quarantine folder?')" Enter
	expect "ja: the summary" "kmsrecover - MSExchangeKMS - $(ja Finished)" Enter
	ended 0
	check "ja: the server answers with the original's keys" keys_match_original
	check_fails "ja: no line of text starts with closing punctuation" \
		grep -h '│ [」』）、。，．！？：；]' "$T"/screens/*.txt
	all_fit
fi

done_testing
