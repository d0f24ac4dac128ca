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

# menu ANSWERS...: kmsrecover with no task, in the text frontend, from $T/run.
menu() {
	(cd "$T/run" && printf '%s\n' "$@" |
		"$KMSRECOVER" --profile "$w/profile" --frontend text >"$T/out" 2>&1)
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

# 2: Back up Kmsdata. The password, the confirmation, the archive.
menu 2 1 "$alpha_new" y
is "$?" 0 "backup: made from the menu, exits 0"
set -- "$T"/run/kmsdata-*.tar.zst
[ -f "$1" ] && bsdtar -tf "$1" | grep -qx 'MANIFEST.sha256'
ok $? "backup: the archive holds MANIFEST.sha256"
backup=$1
service_running "$w"
ok $? "backup: the service runs again"

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
