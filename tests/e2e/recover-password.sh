#!/bin/sh
# The password: the NEW alpha string is refused before the service is
# stopped (exit 4, nothing changed) and a rerun with the original succeeds;
# a typed string in lower case with blanks is folded; the startup disk is
# found on removable media by itself.
. "$top_srcdir/tests/lib.sh"

w="$T/w"
make_world "$w" 10 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar.gz "$w/backup.tar.gz"
before=$(server_state "$w")

"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$w/backup.tar.gz" \
	--startup-disk "$w/new/KMSPWD.INI" >"$w/out" 2>&1
is "$?" 4 "the NEW alpha string: exit 4"
like "$w/out" "5057" "the refusal names Event 5057"
is "$(server_state "$w")" "$before" "nothing changed: Kmsdata and its folder as before, no staging left"
service_running "$w"
ok $? "the service was never stopped"
ls "$w"/state/journal >/dev/null 2>&1
ok $((! $?)) "no journal is left to resume"

printf '  %s  \n' "$(tr 'A-Z' 'a-z' <"$w/alpha.original")" >"$w/typed"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$w/backup.tar.gz" \
	--alpha-file "$w/typed" >"$w/out" 2>&1
is "$?" 0 "the original, typed in lower case with blanks: exit 0"
keys_match "$w"
ok $? "the recovered server serves the original keys"

# Again, from the startup disk found on removable media.
"$KMSIM" stop --run "$w/server/run" >/dev/null
rm -rf "$w"
make_world "$w" 10 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" zip "$w/media/usb/backup.zip"
KMSRECOVER_MEDIA_ROOTS="$w/media" "$KMSRECOVER" --profile "$w/profile" --frontend batch --yes \
	--backup "$w/media/usb/backup.zip" --startup-disk >"$w/out" 2>&1
is "$?" 0 "--startup-disk alone finds KMSPWD.INI on the media"
like "$w/out" "media/usb/KMSPWD.INI" "and says which file it used"
keys_match "$w"
ok $? "the recovered server serves the original keys"

# A password file that is not an alpha string is refused before anything changes.
"$KMSIM" stop --run "$w/server/run" >/dev/null
rm -rf "$w"
make_world "$w" 5 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar "$w/backup.tar"
before=$(server_state "$w")
printf 'secret123\n' >"$w/bad"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$w/backup.tar" \
	--alpha-file "$w/bad" >"$w/out" 2>&1
rc=$?
[ "$rc" -ne 0 ]
ok $? "a password with digits is refused (exit $rc)"
like "$w/out" "14 or 15 letters" "saying what an alpha string is"
unlike "$w/out" "secret123" "without repeating it"
is "$(server_state "$w")" "$before" "nothing changed"

# A startup disk given as --alpha-file: recognised, and --startup-disk suggested.
for cmd in recover rehearse; do
	"$KMSRECOVER" "$cmd" --profile "$w/profile" --frontend batch --yes --backup "$w/backup.tar" \
		--alpha-file "$w/media/usb/KMSPWD.INI" </dev/null >"$w/out" 2>&1
	is "$?" 2 "$cmd: a KMSPWD.INI given to --alpha-file is a usage error (exit 2)"
	like "$w/out" "is a startup disk .*give it with --startup-disk $w/media/usb/KMSPWD.INI" \
		"$cmd: it is recognised as a startup disk and --startup-disk is suggested"
	unlike "$w/out" "14 or 15 letters" "$cmd: not called a malformed alpha string"
	unlike "$w/out" "$(cat "$w/alpha.original")" "$cmd: the password is not shown"
	is "$(server_state "$w")" "$before" "$cmd: nothing changed"
done
like "$w/out" "could not start: nothing was tried" "rehearse: its summary says nothing was tried"

done_testing
