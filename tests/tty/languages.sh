#!/bin/sh
# The wizard in every language of po/LINGUAS, driven in a real terminal
# (tmux, 80x24) through `kmsrecover demo`: the welcome screen, the gauge
# (paused under its Stop question), the confirmation of step 3 and the
# summary. At each screen: the text the catalog gives is there (and is not
# the English one), no line is wider than the terminal, and every box has
# its corners and its vertical edges in the same columns on every row.
# Then the language box (F3 on the welcome screen, and its twins Esc 3 and
# Ctrl-O): picked with the arrow keys and Enter, the whole screen changes
# language and stays so; on the Linux console the CJK languages are
# refused, in English.
#
# KEEP_TEST_DIR=1 keeps $T: capture-lang-LL.txt are the welcome screens
# kept for tests/tty/screens/ (the temporary folder's random part already
# replaced by XXXXXX).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tty/lib.sh"

command -v gettext >/dev/null 2>&1 || skip_all "the gettext program is not installed (gettext-base)"
command -v perl >/dev/null 2>&1 || skip_all "perl is not installed"
LINGUAS=$(grep -v '^#' "$top_srcdir/po/LINGUAS")
for L in $LINGUAS; do
	[ -e "$KMSRECOVER_LOCALEDIR/$L/LC_MESSAGES/kmsrecover.mo" ] ||
		skip_all "the $L catalog is not built in $KMSRECOVER_LOCALEDIR"
done

# plain LL LABEL: a translated button or choice label as drawn, its '&' gone.
plain() { msg "$1" "$2" | sed 's/&//'; }
# hotkey LL LABEL: the letter after its '&'.
hotkey() { msg "$1" "$2" | sed -n 's/.*&\(.\).*/\1/p'; }
# step LL N: the start of the title line of step N of 7.
# shellcheck disable=SC2059 # the format is the catalog's
step() { printf "$(msg "$1" 'Step %d of %d: %s')" "$2" 7 ''; }

# translated LL MSGID: a TAP test that LL translates MSGID at all (the
# text waited for below would otherwise prove nothing).
translated() {
	[ "$(msg "$1" "$2")" != "$2" ]
	ok $? "$1: the catalog translates \"$2\""
}

shows() {
	if grep -qF -- "$1" "$T/screen"; then ok 0 "$2"; else
		ok 1 "$2"; echo "# not on the screen: $1"; tty_diag "$T/screen"; fi
}

# at_screen NAME: the screen last waited for is within 80 columns and its
# boxes are intact.
at_screen() {
	_w=$(LC_ALL=C.UTF-8 wc -L <"$T/screen")
	if [ "$_w" -le "$tmux_cols" ]; then ok 0 "$1: no line is wider than $tmux_cols columns"; else
		ok 1 "$1: no line is wider than $tmux_cols columns (one is $_w)"; tty_diag "$T/screen"; fi
	if boxes_intact "$T/screen" >"$T/.boxes"; then ok 0 "$1: the boxes' corners and edges are intact"; else
		ok 1 "$1: the boxes' corners and edges are intact"; sed 's/^/# /' "$T/.boxes"; tty_diag "$T/screen"; fi
}

# demo_start NAME [-t TERM] [-e VAR=VALUE]...: `kmsrecover demo` in a new
# 80x24 terminal, its world in D=$T/NAME, the exit status in $D.exit.
demo_start() {
	name=$1
	shift
	opts='' envs=''
	while [ $# -gt 0 ]; do
		case $1 in
		-t) opts="$opts -t $2"; shift 2 ;;
		-e) envs="$envs $(q "$2")"; shift 2 ;;
		*) break ;;
		esac
	done
	D=$T/$name
	broken=
	echo "# scenario: $name"
	# shellcheck disable=SC2086 # opts: options, split on purpose
	tmux_start $opts "env$envs $(q "$KMSRECOVER") demo --records 5 --dir $(q "$D") 2>$(q "$D.err"); echo \$? >$(q "$D.exit"); sleep 600"
}

# ended STATUS and all_fit: tests/tty/lib.sh's demo_ended and all_fit.
ended() { demo_ended "$@"; }

# welcome_in LL: the welcome screen is in LL, the key bar offers F3.
welcome_in() {
	expect "$name: the welcome screen in $1" "kmsrecover - MSExchangeKMS - $(msg "$1" Welcome)" || return 1
	# The task's label may be cut at the pane's edge: its first words.
	shows "(*) $(plain "$1" '&Recover the KM Server from a backup' | cut -d' ' -f1-2)" "$name: the task is in $1"
	shows "F3 $(msg "$1" Language)" "$name: the key bar offers F3 in $1"
	shows "$(plain "$1" '&Next')" "$name: the Next button is in $1"
}

# ---------------------------------------------------------------------------
# Each language through a whole recovery.
for L in $LINGUAS; do
	for id in Welcome Language 'Step %d of %d: %s' 'Stop the work in progress?' \
		'Move the files out of Kmsdata?' 'Recover now?' Finished \
		'The KM Server is recovered and running on the original data.'; do
		translated "$L" "$id"
	done
	demo_start "$L" -e "LANGUAGE=$L"
	welcome_in "$L" && at_screen "$L: welcome"
	sed 's/kmsrecover-test\.[A-Za-z0-9]\{6\}/kmsrecover-test.XXXXXX/g' "$T/screen" >"$T/capture-lang-$L.txt"
	tmux_keys Enter
	expect "$L: the backup is asked, the one on the media offered" 'kmsdata-backup.tar.gz' Down
	expect "$L: Down puts it in the field" 'kmsdata-backup.tar.gz ]' Enter
	# (The question itself may wrap: the choice's label is waited for.)
	expect "$L: how the password is given" "$(plain "$L" 'Read the &startup disk (KMSPWD.INI)')" Down
	# The second Enter reaches the gauge while it reads the backup: its Stop
	# question pauses the work, with the gauge under it.
	tmux_keys Enter Enter
	expect "$L: the gauge, paused by its Stop question" "$(msg "$L" 'Stop the work in progress?')" &&
		shows "$H $(msg "$L" Stop) $H" "$L: the box's title is in $L" &&
		shows "< $(plain "$L" 'C&ontinue') >" "$L: its Continue button too" &&
		is "$(grep -cF "< $(plain "$L" '&Stop') >" "$T/screen")" 2 "$L: the gauge's own Stop button is under it" &&
		at_screen "$L: gauge"
	tmux_keys Enter
	expect "$L: the warning about the NEW alpha string" "$H $(msg "$L" Warning) $H" Enter
	expect "$L: step 1" "$(step "$L" 1)" Enter
	expect "$L: step 2" "$(step "$L" 2)" Enter
	expect "$L: step 3 asks first" "$(msg "$L" 'Move the files out of Kmsdata?')" &&
		shows "$(step "$L" 3)" "$L: the title line says step 3" &&
		shows "< $(plain "$L" '&Yes') >   < $(plain "$L" '&No') >" "$L: with Yes and No in $L" &&
		at_screen "$L: confirmation"
	# Yes by its hotkey in this language (step 3 starts on No).
	tmux_type "$(hotkey "$L" '&Yes')"
	expect "$L: step 4" "$(step "$L" 4)"
	tmux_type "$(hotkey "$L" '&Yes')"
	expect "$L: step 5" "$(step "$L" 5)" Enter
	expect "$L: step 6" "$(step "$L" 6)" Enter
	expect "$L: step 7" "$(step "$L" 7)" Enter
	# The last question before the service goes down, in this language: Yes by its hotkey.
	expect "$L: the last question" "$(msg "$L" 'Recover now?')" &&
		at_screen "$L: the last question"
	tmux_type "$(hotkey "$L" '&Yes')"
	expect "$L: the quarantine question" "$(msg "$L" 'Remove the quarantine folder?')" Enter
	expect "$L: the summary" "kmsrecover - MSExchangeKMS - $(msg "$L" Finished)" &&
		shows "< $(plain "$L" '&OK') >" "$L: its OK button is in $L" &&
		at_screen "$L: summary"
	# The outcome is a sentence that may wrap: its first characters are enough.
	first=$(msg "$L" 'The KM Server is recovered and running on the original data.' | sed 's/^\(........\).*/\1/')
	shows "$first" "$L: the summary says the server is recovered"
	tmux_keys Enter
	ended 0
	all_fit
done

# ---------------------------------------------------------------------------
# F3: English to German to Japanese with the arrow keys and Enter; the
# language holds on the next screen.
demo_start chooser
welcome_in en
tmux_keys F3
expect "chooser: F3 opens the language box" "$H Language $H" &&
	shows '(*) English' "chooser: English is marked as the one in use" &&
	at_screen "chooser: the box"
for n in Deutsch Français Español Italiano 'Português (Brasil)' Nederlands Svenska Polski \
	Русский 日本語 简体中文 한국어; do
	shows "( ) $n" "chooser: $n is offered by its own name"
done
tmux_keys Down Enter
welcome_in de
tmux_keys F1
expect "chooser: the help is in German" "kmsrecover - $(msg de Help)" End
# The keys are listed at the end of the help.
expect "chooser: its end" "$(msg de 'q or Esc closes the viewer')" &&
	shows "$(msg de 'F3, Esc 3, Ctrl-O')" "chooser: and lists F3 and its twins" &&
	shows "$(msg de 'choose the language of the screens')" "chooser: saying what it does"
tmux_keys Escape
tap_wait "chooser: Esc closes the help" wait_gone "kmsrecover - $(msg de Help)"
welcome_in de
tmux_keys F3
expect "chooser: the box again, in German" "$H $(msg de Language) $H" &&
	shows '(*) Deutsch' "chooser: German is marked now"
tmux_keys Down Down Down Down Down Down Down Down Down Enter
welcome_in ja && at_screen "chooser: Japanese welcome"
tmux_keys Enter
expect "chooser: the next screen is Japanese too" "$(msg ja 'Where is the backup of Kmsdata?')"
tmux_keys F10
expect "chooser: the Quit question in Japanese" "$(msg ja 'Quit kmsrecover now?')"
tmux_type "$(hotkey ja '&Quit')"
expect "chooser: the summary in Japanese" "kmsrecover - MSExchangeKMS - $(msg ja Finished)" Enter
ended 1
all_fit

# ---------------------------------------------------------------------------
# The twins: Esc 3 and Ctrl-O; Home and End in the box; Esc leaves it.
demo_start twins -e LANGUAGE=ru
welcome_in ru
tmux_keys Escape 3
expect "twins: Esc 3 opens the box" "$H $(msg ru Language) $H" &&
	shows '(*) Русский' "twins: Russian is marked"
tmux_keys Escape
tap_wait "twins: Esc closes the box" wait_gone "$H $(msg ru Language) $H"
welcome_in ru
tmux_keys Escape 3
expect "twins: the box again" "$H $(msg ru Language) $H" Home Enter
welcome_in en
tmux_keys C-o
expect "twins: Ctrl-O opens the box" "$H Language $H" End Enter
welcome_in ko && at_screen "twins: Korean welcome"
tmux_keys F10
expect "twins: the Quit question in Korean" "$(msg ko 'Quit kmsrecover now?')"
# Quitting on the first screen ends the run at once.
tmux_type "$(hotkey ko '&Quit')"
ended 1
all_fit

# ---------------------------------------------------------------------------
# The Linux console has no CJK glyphs: they are listed by their English
# names, and picking one says so in English and changes nothing.
demo_start console -t linux
welcome_in en
tmux_keys Escape 3
expect "console: the box" "$H Language $H" &&
	shows '( ) Japanese' "console: Japanese is listed by its English name" &&
	shows '( ) Korean' "console: Korean too"
tmux_keys End Up Up Enter
expect "console: picking Japanese says it cannot be shown, in English" 'cannot show Japanese' &&
	at_screen "console: the refusal"
tmux_keys Enter
expect "console: back in the box" '( ) Simplified Chinese' Escape
tap_wait "console: Esc closes the box" wait_gone "$H Language $H"
welcome_in en
tmux_keys Escape 0
expect "console: the Quit question" 'Quit kmsrecover now?' q
ended 1
all_fit

done_testing
