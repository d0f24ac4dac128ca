#!/bin/sh
# Every entry of the wizard's first menu, driven in a real terminal (tmux)
# as an operator walks it: `kmsrecover --profile P`, then Recover, Back up
# Kmsdata, Make a startup disk and Rehearse a recovery, each to its end.
# Nothing on the command line says where to read or write: every path is
# asked on a screen (the media's folders and backups offered), and each
# entry's outcome is checked in the world afterwards (files written, the
# service running, Kmsdata as it was), with the exit status and the
# terminal left sane.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tty/lib.sh"

w="$T/w"
make_world "$w" 12 || { echo "Bail out! make_world failed"; exit 1; }
mkdir -p "$w/media/spare"
alpha_new=$(cat "$w/alpha.new")
tree_digest "$w/server/Kmsdata" >"$T/kmsdata.before"

# How the pane ends: the exit status into FILE, then a shell in the same
# terminal, so the terminal can be looked at once the program has gone.
then_shell() { printf ' 2>%s; echo $? >%s; exec env PS1=%s sh -i' "$(q "$1.err")" "$(q "$1")" "'$ '"; }

# menu_start NAME: kmsrecover on the world's profile, with no task given,
# from a folder of its own ($T/NAME, where a relative path lands).
menu_start() {
	name=$1
	broken=
	echo "# scenario: $name"
	mkdir -p "$T/$name"
	tmux_start "cd $(q "$T/$name") && env KMSRECOVER_MEDIA_ROOTS=$(q "$w/media") $(q "$KMSRECOVER") --profile $(q "$w/profile")$(then_shell "$T/$name.exit")"
	expect "$name: the first menu" 'kmsrecover - MSExchangeKMS - Welcome'
}

ended() { # ended STATUS
	if [ -n "$broken" ]; then
		ok 1 "$name: exits $1 (not reached)"
		return 1
	fi
	wait_file "$T/$name.exit" >"$T/.wait" 2>&1 || cat "$T/.wait"
	is "$(cat "$T/$name.exit" 2>/dev/null)" "$1" "$name: exits $1"
	unlike "$T/$name.exit.err" 'Sanitizer|runtime error|Assertion|Segmentation' \
		"$name: no crash or sanitizer report on its standard error"
	# shellcheck disable=SC2016 # typed into the shell as it is
	tmux_type 'echo STTY=$(stty -a | tr " ;" "\n\n" | grep -cx -e icanon -e echo -e icrnl -e onlcr -e isig)'
	tmux_keys Enter
	expect "$name: the terminal is sane again" 'STTY=5'
}

shows() { like "$T/screen" "$1" "$2" || tty_diag "$T/screen"; }

# Recover: the first question is the backup, offered from the media; F10 quits.
menu_start recover
tmux_keys Enter
expect "recover: the backup is asked" 'Where is the backup of Kmsdata?' F10
expect "recover: F10 asks first" 'Quit kmsrecover now?' q
expect "recover: the summary" 'The recovery did not complete' Enter
ended 1
service_running "$w"
ok $? "recover: the service still runs"
tree_digest "$w/server/Kmsdata" | cmp -s - "$T/kmsdata.before"
ok $? "recover: Kmsdata is as it was"

# Make a startup disk: the crash of old (a NULL output path). The menu asks
# where, offering the media's folders; a medium that has one already is
# refused on the screen and asked again.
menu_start disk
tmux_keys Down Down Enter
expect "disk: where to write it is asked" 'Where should the startup disk be written?' &&
	shows "$w/media/spare" "disk: the media's folders are offered (an empty one)" &&
	shows "$w/media/usb" "disk: and one that holds a startup disk"
tmux_keys Down Down
expect "disk: Down twice picks the second medium" "$w/media/usb" Enter
expect "disk: the medium that has one is refused, by name" 'exists already' Enter
expect "disk: and asked again" 'Where should the startup disk be written?' &&
	shows "media/usb  " "disk: what was given is still in the field"
tmux_keys C-u
tmux_type "$w/media/spare"
tmux_keys Enter
expect "disk: the alpha string is asked, twice" 'Again:'
tmux_type "$alpha_new"
tmux_keys Tab
tmux_type "$alpha_new"
tmux_keys Enter
expect "disk: written and read back" 'reads back' &&
	shows "spare/KMSPWD.INI" "disk: the summary names the file"
tmux_keys Enter
ended 0
is "$(stat -c %a "$w/media/spare/KMSPWD.INI" 2>/dev/null)" 400 "disk: KMSPWD.INI is 0400"
is "$(tr -d '\r' <"$w/media/spare/KMSPWD.INI" | sed -n 's/^pwd=//p')" "$alpha_new" \
	"disk: it holds the alpha string typed"

# Back up Kmsdata: where to write it is asked, a removable medium's folder
# offered and the archive's name made (not a file in the current folder);
# a folder on Kmsdata's own file system is warned about; the password, the
# destructive confirmation (No by default, y to go ahead), the archive
# written and read back.
menu_start backup
tmux_keys Down Enter
expect "backup: where to write it is asked" 'Where should the backup be written?' &&
	shows "media/spare/kmsdata-" "backup: the first medium's folder is offered, the name made"
tmux_keys Enter
expect "backup: a medium on Kmsdata's file system is warned about" 'same file system' Enter
expect "backup: how the password is given" 'How will you give' Enter
expect "backup: the masked entry" 'The ORIGINAL alpha string:'
tmux_type "$alpha_new"
tmux_keys Enter
expect "backup: the confirmation before the service stops" 'Stop the service and back up Kmsdata?' y
expect "backup: made and read back" 'The backup is made and read back' Enter
ended 0
set -- "$w"/media/spare/kmsdata-*.tar.zst
[ -f "$1" ] && bsdtar -tf "$1" | grep -qx 'MANIFEST.sha256'
ok $? "backup: the archive is on the medium chosen and holds MANIFEST.sha256"
[ -z "$(ls "$T/backup")" ]
ok $? "backup: nothing is written in the current folder"
service_running "$w"
ok $? "backup: the service runs again"
backup=$1

# Rehearse: the backup asked (the one on the medium taken), the password from the startup disk;
# the rehearsal passes and the live server is not touched.
menu_start rehearse
tmux_keys Down Down Down Enter
expect "rehearse: the backup is asked" 'Where is the backup of Kmsdata?' &&
	shows "$(basename "$backup")" "rehearse: the backup just made, on the medium, is offered"
tmux_keys Enter
expect "rehearse: how the password is given" 'How will you give' Enter
expect "rehearse: the masked entry" 'The ORIGINAL alpha string:'
tmux_type "$alpha_new"
tmux_keys Enter
expect "rehearse: the verdict" 'Rehearsal passed' Enter
ended 0
service_running "$w"
ok $? "rehearse: the service still runs"

all_fit() {
	screens_fit >"$T/.fits" 2>&1
	ok $? "every screen fits the terminal, frames intact"
	head -60 "$T/.fits"
}
all_fit
done_testing
