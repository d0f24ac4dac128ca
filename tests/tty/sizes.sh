#!/bin/sh
# The wizard at the sizes terminals really have, driven in tmux through
# `kmsrecover demo`: whole recoveries at 80x23 (what tmux and screen leave
# of an 80x24 terminal; in English, German and Japanese), at 76x20 (the
# least it lays out) and at 132x40 (where the step list shows whole step
# names). At every screen: no line wider than the terminal, every box
# whole, each step's Yes and the key bar's F1 and F10 in view, and the
# summary at the end. Below 76x20 the "too small" screen names both sizes
# and --frontend text, and the wizard comes back when the window grows.
# Then the gauge, reading a backup that takes a few seconds: Ctrl-C's Stop
# box held open for two seconds does not make its rate fall (the work
# waited, and so does the gauge's clock), and at 80 columns its data line
# holds both of its numbers whole.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tty/lib.sh"

command -v gettext >/dev/null 2>&1 || skip_all "the gettext program is not installed (gettext-base)"
command -v perl >/dev/null 2>&1 || skip_all "perl is not installed"
command -v bzip2 >/dev/null 2>&1 || skip_all "bzip2 is not installed"

# plain LL LABEL: a translated button label as drawn, its '&' gone.
plain() { msg "$1" "$2" | sed 's/&//'; }
hotkey() { msg "$1" "$2" | sed -n 's/.*&\(.\).*/\1/p'; }
# shellcheck disable=SC2059 # the format is the catalog's
step() { printf "$(msg "$1" 'Step %d of %d: %s')" "$2" 7 ''; }

shows() {
	if grep -qF -- "$1" "$T/screen"; then ok 0 "$2"; else
		ok 1 "$2"; echo "# not on the screen: $1"; tty_diag "$T/screen"; fi
}

hides() {
	if grep -qF -- "$1" "$T/screen"; then
		ok 1 "$2"; echo "# on the screen: $1"; tty_diag "$T/screen"; else ok 0 "$2"; fi
}

# fits NAME: the screen last waited for is within the terminal and its
# boxes are whole.
fits() {
	_w=$(LC_ALL=C.UTF-8 wc -L <"$T/screen")
	_h=$(wc -l <"$T/screen")
	[ "$_w" -le "$tmux_cols" ] && [ "$_h" -le "$tmux_lines" ]
	ok $? "$1: fits ${tmux_cols}x$tmux_lines (widest line $_w, $_h lines)" || tty_diag "$T/screen"
	boxes_intact "$T/screen" >"$T/.boxes"
	ok $? "$1: every box is whole" || { sed 's/^/# /' "$T/.boxes"; tty_diag "$T/screen"; }
}

# keys_in_bar LL NAME: the key bar (the last line) offers F1 and F10.
keys_in_bar() {
	tail -n 1 "$T/screen" | grep -qF "F1 $(msg "$1" Help)" &&
		tail -n 1 "$T/screen" | grep -qF "F10 $(msg "$1" Quit)"
	ok $? "$2: the key bar offers F1 and F10" || tty_diag "$T/screen"
}

# demo_start NAME COLS LINES [VAR=VALUE...]: `kmsrecover demo` in a new
# terminal, its world in D=$T/NAME, its exit status in $D.exit. The shell
# around it ignores SIGINT, as an interactive one does while a program
# runs: Ctrl-C is the program's.
demo_start() {
	name=$1 D=$T/$1 broken=
	_x=$2 _y=$3
	shift 3
	_env=
	for _e in "$@"; do _env="$_env $(q "$_e")"; done
	echo "# scenario: $name"
	tmux_start -x "$_x" -y "$_y" "trap '' INT; env$_env $(q "$KMSRECOVER") demo --records 5 --dir $(q "$D") 2>$(q "$D.err"); echo \$? >$(q "$D.exit"); sleep 600"
}

# ended STATUS and all_fit: tests/tty/lib.sh's demo_ended and all_fit.
ended() { demo_ended "$@"; }

# confirm LL N KEY: step N is on the screen with its Yes in view, fits;
# KEY answers it.
confirm() {
	expect "$name: step $2" "$(step "$1" "$2")" || return 1
	tap_wait "$name: step $2's question and its Yes" wait_for "< $(plain "$1" '&Yes') >" &&
		fits "$name: step $2" && keys_in_bar "$1" "$name: step $2"
	tmux_keys "$3"
}

# walk LL: a whole recovery in LL with the startup disk.
walk() {
	_yes=$(hotkey "$1" '&Yes')
	expect "$name: welcome" "kmsrecover - MSExchangeKMS - $(msg "$1" Welcome)" &&
		fits "$name: welcome" && keys_in_bar "$1" "$name: welcome"
	tmux_keys Enter
	expect "$name: the backup, the one on the media offered" 'kmsdata-backup.tar.gz' Down
	expect "$name: Down puts it in the field" 'kmsdata-backup.tar.gz ]' && fits "$name: the backup"
	tmux_keys Enter
	expect "$name: how the password is given" "$(plain "$1" 'Read the &startup disk (KMSPWD.INI)')" &&
		fits "$name: the password"
	tmux_keys Down Enter
	expect "$name: the warning about the NEW alpha string" "$H $(msg "$1" Warning) $H" &&
		fits "$name: the warning"
	tmux_keys Enter
	confirm "$1" 1 Enter
	confirm "$1" 2 Enter
	# Step 3 starts on No; Yes by its hotkey, as step 4.
	confirm "$1" 3 "$_yes"
	confirm "$1" 4 "$_yes"
	confirm "$1" 5 Enter
	confirm "$1" 6 Enter
	confirm "$1" 7 Enter
	expect "$name: the last question before the service goes down" "$(msg "$1" 'Recover now?')" &&
		tap_wait "$name: its Yes in view" wait_for "< $(plain "$1" '&Yes') >" &&
		fits "$name: the last question" && keys_in_bar "$1" "$name: the last question"
	tmux_keys "$_yes"
	expect "$name: the quarantine question" "$(msg "$1" 'Remove the quarantine folder?')" &&
		fits "$name: the quarantine question"
	tmux_keys Enter
	expect "$name: the summary" "kmsrecover - MSExchangeKMS - $(msg "$1" Finished)" &&
		shows "< $(plain "$1" '&OK') >" "$name: the summary's OK is in view" &&
		fits "$name: the summary"
	tmux_keys Enter
	ended 0
	all_fit
}

# The backup for the gauge, made meanwhile: a key database and 64 MiB that
# do not compress, in a tar.bz2 (bzip2 reads slowly: a few seconds).
big=$T/big/kmsdata-backup.tar.bz2
(
	mkdir -p "$T/big/Kmsdata" && cd "$T/big/Kmsdata" &&
		"$KMSIM" init --data . --records 3 --iterations 1000 >/dev/null &&
		head -c 67108864 /dev/urandom >edb00009.log &&
		printf 'host=demo\nservice=MSExchangeKMS\n' >BACKUP.INFO &&
		sha256sum -- * >../MANIFEST.sha256 && mv ../MANIFEST.sha256 . &&
		tar cf - -- $(ls | grep -v MANIFEST) MANIFEST.sha256 | bzip2 -1 >"$big.part" &&
		mv "$big.part" "$big"
) >"$T/big.log" 2>&1 &
big_pid=$!

# ---------------------------------------------------------------------------
demo_start 80x23 80 23
walk en
demo_start 76x20 76 20
walk en
demo_start de 80 23 LANGUAGE=de
walk de
if [ -e "$KMSRECOVER_LOCALEDIR/ja/LC_MESSAGES/kmsrecover.mo" ]; then
	demo_start ja 80 23 LANGUAGE=ja
	walk ja
fi

# ---------------------------------------------------------------------------
# 132 columns: the step list is as wide as its longest name needs.
demo_start 132x40 132 40
expect "$name: welcome" 'kmsrecover - MSExchangeKMS - Welcome'
for title in 'Check the reinstalled KM Server' 'Give the original startup password' \
	'Restore Kmsdata from the backup'; do
	grep -q "^│  [0-9] $title *│" "$T/screen"
	ok $? "$name: the step list shows \"$title\" whole" || tty_diag "$T/screen"
done
check_fails "$name: no step name is cut" grep -E '^│[ >] [P0-9F] [^│]*…' "$T/screen"
tmux_keys F10
expect "$name: F10 asks" 'Quit kmsrecover now?' q
ended 1
all_fit

# ---------------------------------------------------------------------------
# Too small, then large enough again.
demo_start small 80 23
expect "$name: welcome" 'kmsrecover - MSExchangeKMS - Welcome'
tmux_resize 75 19
expect "$name: at 75x19, the size it has and the size needed" 'This terminal is 75x19; kmsrecover needs at least 76x20.' &&
	shows '--frontend text' "$name: and that --frontend text can be used instead" &&
	fits "$name: the too small screen"
tmux_keys Enter
tmux_resize 76 20
tap_wait "$name: at 76x20 the panes are back" wait_frame &&
	shows 'kmsrecover - MSExchangeKMS - Welcome' "$name: on the welcome screen" &&
	fits "$name: back at 76x20"
tmux_resize 40 10
expect "$name: at 40x10, the same" 'at least 76x20' &&
	fits "$name: the too small screen at 40x10"
tmux_resize 80 23
tap_wait "$name: at 80x23 again" wait_frame &&
	shows "< $(plain en '&Next') >" "$name: the welcome's Next is still there"
tmux_keys F10
expect "$name: F10 asks" 'Quit kmsrecover now?' q
ended 1
all_fit

# ---------------------------------------------------------------------------
# The gauge: its rate after the Stop box was open two seconds, and its
# data line at 80 columns (in Dutch, whose is the longest).
# rate: the gauge's rate on the screen, in bytes a second, or nothing.
rate() {
	grep -oE '[0-9]+(\.[0-9])? (B|KiB|MiB|GiB)/s' "$T/screen" | head -n 1 |
		awk '{ m = $2 ~ /^KiB/ ? 1024 : $2 ~ /^MiB/ ? 1048576 : $2 ~ /^GiB/ ? 1073741824 : 1
			printf "%d\n", $1 * m }'
}
# wait_rate: until the gauge shows its rate (after a second of work).
wait_rate() {
	_i=0
	while [ "$_i" -lt 200 ]; do
		tmux_screen "$T/screen"
		[ -n "$(rate)" ] && return 0
		_i=$((_i + 1))
		sleep 0.05
	done
	echo "# timed out waiting for the gauge's rate"
	tty_diag "$T/screen"
	return 1
}
wait "$big_pid"
check "the backup for the gauge is made" test -s "$big" || cat "$T/big.log"
L=nl
demo_start gauge 80 23 LANGUAGE=$L
expect "$name: welcome" "kmsrecover - MSExchangeKMS - $(msg $L Welcome)"
rm -f "$D/media/backup-disk/kmsdata-backup.tar.gz"
cp "$big" "$D/media/backup-disk/"
tmux_keys Enter
expect "$name: the large backup is offered" 'kmsdata-backup.tar.bz2' Down
expect "$name: Down puts it in the field" 'kmsdata-backup.tar.bz2 ]' Enter
expect "$name: how the password is given" "$(plain $L 'Read the &startup disk (KMSPWD.INI)')" Down Enter
if tap_wait "$name: the gauge shows its rate" wait_rate; then
	sleep 0.3
	tmux_screen "$T/screen"
	before=$(rate)
	data=$(msg $L 'Data: %s of %s' | sed 's/%s/[0-9]+(\\.[0-9])? (B|KiB|MiB|GiB)/g')
	grep -qE "$data" "$T/screen"
	ok $? "$name: the data line holds both numbers whole at 80 columns" || tty_diag "$T/screen"
	fits "$name: the gauge"
	tmux_keys C-c
	expect "$name: Ctrl-C asks whether to stop" "$(msg $L 'Stop the work in progress?')"
	sleep 2
	tmux_keys "$(hotkey $L 'C&ontinue')"
	tap_wait "$name: the box is gone" wait_gone "$(msg $L 'Stop the work in progress?')"
	after=$(rate)
	echo "# rate before the box: $before B/s, after: ${after:-none}"
	[ -n "$after" ] && [ "$((after * 4))" -ge "$((before * 3))" ]
	ok $? "$name: the rate did not fall while the box held the work" || tty_diag "$T/screen"
fi
tmux_keys F10
expect "$name: F10 asks" "$(msg $L 'Quit kmsrecover now?')" "$(hotkey $L '&Quit')"
expect "$name: the reading stopped, nothing changed" "$H $(msg $L Error) $H" &&
	shows "$(msg $L 'Reading the backup was stopped by the operator.' | cut -c1-20)" \
		"$name: the box says the reading was stopped" &&
	hides "$(msg $L 'Rolled back: Kmsdata holds what it held before the recovery.' | cut -c1-12)" \
		"$name: and does not call it a roll back"
tmux_keys Enter
tap_wait "$name: quitting ends at the summary" wait_for "kmsrecover - MSExchangeKMS - $(msg $L Finished)" &&
	fits "$name: the summary"
tmux_keys Enter
wait_file "$D.exit" >"$T/.wait" 2>&1 || cat "$T/.wait"
# 1: stopped by the operator (3 would say the backup is unusable).
is "$(cat "$D.exit" 2>/dev/null)" 1 "$name: exits 1 (stopped, not an unusable backup)"
all_fit

done_testing
