#!/bin/sh
# Every entry of the first menu in the text frontend (answers on standard
# input, one a line, as `--frontend text` reads them), and the startup disk
# without -o in batch mode: no task assumes an option that only the
# command line gives. Each entry is taken to its end and its outcome
# checked in the world: files written, the service running, Kmsdata as it
# was. The wizard's menu is walked in tests/tty/menu.sh.
. "$top_srcdir/tests/lib.sh"

w="$T/w"
make_world "$w" 9 || { echo "Bail out! make_world failed"; exit 1; }
mkdir -p "$w/media/spare" "$T/run"
alpha_new=$(cat "$w/alpha.new")
tree_digest "$w/server/Kmsdata" >"$T/kmsdata.before"
KMSRECOVER_MEDIA_ROOTS="$w/media"
export KMSRECOVER_MEDIA_ROOTS

# flat FILE: FILE's text on one line, runs of spaces as one (prose wraps).
flat() { tr '\n' ' ' <"$1" | tr -s ' ' >"$1.flat"; }

# menu ANSWERS...: kmsrecover with no task, in the text frontend, from $T/run.
menu() {
	(cd "$T/run" && printf '%s\n' "$@" |
		"$KMSRECOVER" --profile "${PROFILE:-$w/profile}" --frontend text >"$T/out" 2>&1)
}

# 1: Recover. The backup is asked first; "q" quits before anything changed.
menu 1 q
is "$?" 1 "recover: quitting at the backup question exits 1"
like "$T/out" 'Where is the backup of Kmsdata\?' "recover: the backup is asked"
service_running "$w"
ok $? "recover: the service still runs"
tree_digest "$w/server/Kmsdata" | cmp -s - "$T/kmsdata.before"
ok $? "recover: Kmsdata is as it was"

# 3: Make a startup disk. Where is asked, the media's folders numbered; a
# medium that has one already is refused and asked again.
menu 3 2 1 "$alpha_new" "$alpha_new"
is "$?" 0 "startup disk: made from the menu, exits 0 (no crash)"
like "$T/out" 'Where should the startup disk be written\?' "startup disk: where is asked"
like "$T/out" "1\\) $w/media/spare" "startup disk: the media's folders are offered"
like "$T/out" 'exists already' "startup disk: a medium that has one is refused"
is "$(stat -c %a "$w/media/spare/KMSPWD.INI" 2>/dev/null)" 400 "startup disk: written 0400 where chosen"
is "$(tr -d '\r' <"$w/media/spare/KMSPWD.INI" | sed -n 's/^pwd=//p')" "$alpha_new" \
	"startup disk: it holds the alpha string typed"
rm -f "$w/media/spare/KMSPWD.INI"

# A typed folder that does not exist is refused by name, and asked again.
menu 3 "$T/no/such/folder" "$w/media/spare" "$alpha_new" "$alpha_new"
is "$?" 0 "startup disk: a folder that is not there is asked again"
like "$T/out" "$T/no/such is not a folder" "startup disk: naming the folder"
[ -f "$w/media/spare/KMSPWD.INI" ]
ok $? "startup disk: then written where the second answer said"

# 2: Back up Kmsdata. Where is asked first, the media's folders numbered
# (not a file in the current folder); then the password, the confirmation.
menu 2 1 1 "$alpha_new" y
is "$?" 0 "backup: made from the menu, exits 0"
like "$T/out" 'Where should the backup be written\?' "backup: where is asked"
like "$T/out" "1\\) $w/media/spare" "backup: the media's folders are offered"
set -- "$w"/media/spare/kmsdata-*.tar.zst
[ -f "$1" ] && bsdtar -tf "$1" | grep -qx 'MANIFEST.sha256'
ok $? "backup: the archive, named for the operator, is in the folder chosen, with its MANIFEST.sha256"
backup=$1
[ -z "$(ls "$T/run")" ]
ok $? "backup: nothing is written in the current folder"
flat "$T/out"
like "$T/out.flat" "$w/media/spare is on the same file system as $w/server/Kmsdata" \
	"backup: a folder on Kmsdata's own file system is warned about"
service_running "$w"
ok $? "backup: the service runs again"

# A typed answer that cannot be used is refused by name and asked again,
# before the service is stopped: a folder that is not there, a format
# kmsrecover cannot write, a file that exists. A folder on another file
# system (/dev/shm, a tmpfs) gets no warning.
other=$(mktemp -d /dev/shm/kmsrecover-test.XXXXXX 2>/dev/null) || other=
stop_spy "$w/profile" "$T/stops" "$T/profile.spy"
PROFILE=$T/profile.spy menu 2 "$T/no/such/bk.tar.zst" "$w/media/spare/bk.rar" "$backup" "${other:-$w/media/spare}" 1 \
	"$alpha_new" y
is "$?" 0 "backup: made after three refused answers"
flat "$T/out"
like "$T/out.flat" "$T/no/such is not a folder" "backup: a folder that is not there, named"
like "$T/out.flat" 'bk.rar: its extension names no format' "backup: a format it cannot write, named"
like "$T/out.flat" "$(basename "$backup") exists already; choose another name\\." \
	"backup: an existing file, named"
is "$(grep -c 'Where should the backup be written?' "$T/out")" 4 "backup: asked again after each"
if [ -n "$other" ]; then
	set -- "$other"/kmsdata-*.tar.zst
	[ -f "$1" ]
	ok $? "backup: written to the folder on another file system"
	unlike "$T/out" 'same file system' "backup: no warning for a folder on another file system"
	rm -rf "$other"
else
	echo "# /dev/shm is not writable here: the other-file-system case is not checked"
fi
is "$(wc -l <"$T/stops" 2>/dev/null)" 1 "backup: the service was stopped once, after the answers"

# 4: Rehearse. The backup typed, the password typed.
menu 4 "$backup" 1 "$alpha_new"
is "$?" 0 "rehearse: passes from the menu, exits 0"
like "$T/out" 'Rehearsal passed' "rehearse: says so"
service_running "$w"
ok $? "rehearse: the service still runs"

# Batch: startup-disk without -o is a usage error naming -o, before anything.
"$KMSRECOVER" startup-disk --profile "$w/profile" --frontend batch \
	--alpha-file "$w/alpha.new" </dev/null >"$T/out" 2>&1
is "$?" 2 "batch: startup-disk without -o exits 2"
like "$T/out" 'give -o' "batch: naming -o"
# The answers file's "output" answers it.
rm -f "$w/media/spare/KMSPWD.INI"
printf 'output = %s\nalpha-file = %s\n' "$w/media/spare" "$w/alpha.new" >"$T/answers"
"$KMSRECOVER" startup-disk --profile "$w/profile" --frontend batch --answers "$T/answers" \
	</dev/null >"$T/out" 2>&1
is "$?" 0 "batch: the answers file's output = FOLDER writes the disk there"
[ -f "$w/media/spare/KMSPWD.INI" ]
ok $? "batch: KMSPWD.INI is in that folder"

done_testing
