#!/bin/sh
# The batch frontend's answers file is read as strictly as the profile: an
# unknown key (with a "did you mean" for startup_disk), a value a question
# cannot take (yes = true, yes = ture, confirm-3 = maybe), a key given
# twice, a line without "=", an empty value: each is exit 2, naming the
# file, the line and the key, before anything is done. A good file
# recovers the server; the options win over the file.
. "$top_srcdir/tests/lib.sh"

w="$T/w"
make_world "$w" 6 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar.gz "$T/backup.tar.gz" || { echo "Bail out! archive failed"; exit 1; }
server_state "$w" >"$T/state.before"

# refused LINE... -- DESCRIPTION REGEX: an answers file of those lines is refused.
refused() {
	: >"$T/answers"
	while [ "$1" != -- ]; do
		printf '%s\n' "$1" >>"$T/answers"
		shift
	done
	shift
	"$KMSRECOVER" recover --profile "$w/profile" --frontend batch --answers "$T/answers" \
		</dev/null >"$T/out" 2>&1
	is "$?" 2 "$1: exit 2"
	like "$T/out" "$2" "$1: the message names file, line and key"
}

refused "backup = $T/backup.tar.gz" "yes = true" -- "yes = true" \
	'answers:2: yes: expected one of yes, no, got "true"'
refused "yes = ture" -- "yes = ture" 'answers:1: yes: expected one of yes, no, got "ture"'
refused "bogus = 1" -- "an unknown key" 'answers:1: unknown key "bogus"; the keys are: backup, '
refused "startup_disk = $w/media/usb" -- "startup_disk" \
	'answers:1: unknown key "startup_disk": did you mean startup-disk\?'
refused "confirm-3 = maybe" -- "confirm-3 = maybe" \
	'answers:1: confirm-3: expected one of yes, no, got "maybe"'
refused "yes = yes" "# a comment" "yes = no" -- "a key given twice" 'answers:3: yes: given twice'
refused "backup" -- "a line without =" 'answers:1: expected key = value'
refused "backup =" -- "an empty value" 'answers:1: backup: a value is needed'
refused "journal = undo" -- "journal = undo" \
	'answers:1: journal: expected one of resume, rollback, start-over, quit, got "undo"'
server_state "$w" | cmp -s - "$T/state.before"
ok $? "after every refusal the server is as it was"
service_running "$w"
ok $? "and the service runs"

# A good answers file: the recovery goes through; the options win over it.
cat >"$T/answers" <<ANSWERS
# the night's plan
backup = $T/no-such-backup.tar.gz
startup-disk = $w/media/usb
yes = yes
remove-quarantine = no
ANSWERS
"$KMSRECOVER" recover --profile "$w/profile" --frontend batch --answers "$T/answers" \
	--backup "$T/backup.tar.gz" </dev/null >"$T/out" 2>&1
is "$?" 0 "a good answers file recovers the server (--backup wins over its backup =)"
keys_match "$w"
ok $? "the server serves the original keys"

done_testing
