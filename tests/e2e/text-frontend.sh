#!/bin/sh
# The text frontend, driven through standard input as a serial console
# would be: a whole recovery of a kmsim world, answering each question.
. "$top_srcdir/tests/lib.sh"

w="$T/w"
make_world "$w" 8 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar.gz "$w/media/usb/kmsdata.tar.gz"

# task: 1 (recover); backup: candidate 1; password: 2 (startup disk); steps 1 to 7: y;
# keep the quarantine.
# On a terminal (script(1) gives it one) that is dumb, the text frontend
# is the default.
command -v script >/dev/null || { echo "Bail out! script (bsdutils) is needed"; exit 1; }
printf '1\n1\n2\ny\ny\ny\ny\ny\ny\ny\ny\nn\n' |
	KMSRECOVER_MEDIA_ROOTS="$w/media" TERM=dumb script -qec \
		"'$KMSRECOVER' --profile '$w/profile'" /dev/null >"$w/out" 2>&1
rc=$?
is "$rc" 0 "a recovery through the text frontend exits 0"
[ "$rc" = 0 ] || sed 's/^/#   /' "$w/out" | tail -30
like "$w/out" "Make a startup disk" "the first question offers the tasks"
like "$w/out" "kmsdata.tar.gz" "the backup on the media is offered"
like "$w/out" "Step 3 of 7" "the steps are shown"
like "$w/out" "\[y/N\]" "the destructive step defaults to No"
keys_match "$w"
ok $? "the recovered server serves the original keys"
"$KMSIM" stop --run "$w/server/run" >/dev/null

# Answering No at step 3 (asked before anything is stopped) ends the run
# with nothing changed: the service runs, no journal claims an interruption.
rm -rf "$w"
make_world "$w" 4 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar "$w/media/usb/kmsdata.tar"
printf '1\n2\ny\ny\nn\n' |
	KMSRECOVER_MEDIA_ROOTS="$w/media" "$KMSRECOVER" recover --frontend text --profile "$w/profile" \
		>"$w/out" 2>&1
is "$?" 1 "No at step 3: exit 1"
like "$w/out" "Nothing was changed" "it says nothing was changed"
[ ! -f "$w/state/journal" ]
ok $? "no journal is left to claim an interrupted recovery"
service_running "$w"
ok $? "the service still runs"
[ -f "$w/server/Kmsdata/Kmsmdb.edb" ] && [ -z "$(ls -d "$w"/server/Kmsdata.* 2>/dev/null)" ]
ok $? "Kmsdata still holds its files, nothing beside it"
"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1

# Enter takes the one backup found on the media; a path typed as ~/... is
# the operator's home (rehearse, which changes nothing).
rm -rf "$w"
make_world "$w" 4 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar "$w/media/usb/kmsdata.tar"
printf '\n1\n%s\n' "$(cat "$w/alpha.new")" |
	KMSRECOVER_MEDIA_ROOTS="$w/media" "$KMSRECOVER" rehearse --profile "$w/profile" \
		--frontend text >"$w/out" 2>&1
is "$?" 4 "rehearse: Enter took the one backup found (the NEW string is then refused: exit 4)"
like "$w/out" "Backup: $w/media/usb/kmsdata.tar" "and the summary names that backup"
mkdir -p "$T/home"
cp "$w/media/usb/kmsdata.tar" "$T/home/kms.tar"
printf '%s\n1\n%s\n' '~/kms.tar' "$(cat "$w/alpha.original")" |
	HOME="$T/home" KMSRECOVER_MEDIA_ROOTS="$T/nowhere" "$KMSRECOVER" rehearse \
		--profile "$w/profile" --frontend text >"$w/out" 2>&1
is "$?" 0 "rehearse: ~/kms.tar is read from the home folder"
like "$w/out" "Backup: $T/home/kms.tar" "and named by its whole path"

# --frontend text --yes answers the confirmations, saying so; the
# quarantine is kept.
"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1
rm -rf "$w"
make_world "$w" 4 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar "$w/media/usb/kmsdata.tar"
printf '1\n1\n2\n' | KMSRECOVER_MEDIA_ROOTS="$w/media" "$KMSRECOVER" --profile "$w/profile" \
	--frontend text --yes >"$w/out" 2>&1
is "$?" 0 "--frontend text --yes: recovered with only the backup and the password asked"
like "$w/out" "Move the files out of Kmsdata\? \[y/N\] (\(b: back\) )?yes \(--yes\)" \
	"--yes answers step 3, and says so"
like "$w/out" "no \(kept: --yes removes nothing\)" "the quarantine is kept"
[ -n "$(ls -d "$w"/server/Kmsdata.pre-recovery-* 2>/dev/null)" ]
ok $? "the quarantine folder is there"
keys_match "$w"
ok $? "the recovered server serves the original keys"

# Quit at step 1: nothing changed, so nothing is left behind (no staged
# copy, no journal) and the next run starts afresh.
"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1
rm -rf "$w"
make_world "$w" 4 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar "$w/media/usb/kmsdata.tar"
printf '1\n1\n2\nq\n' | KMSRECOVER_MEDIA_ROOTS="$w/media" "$KMSRECOVER" --profile "$w/profile" \
	--frontend text >"$w/out" 2>&1
is "$?" 1 "quit at step 1: exit 1"
like "$w/out" "Nothing was changed, and the staged copy of the backup is removed" \
	"it says nothing was changed and the staged copy is gone"
[ -z "$(ls -d "$w"/server/Kmsdata.staged-* 2>/dev/null)" ]
ok $? "no staged copy is left beside Kmsdata"
[ ! -e "$w/state/journal" ]
ok $? "no journal claims an interrupted recovery"
printf '1\nq\n' | KMSRECOVER_MEDIA_ROOTS="$w/media" "$KMSRECOVER" --profile "$w/profile" \
	--frontend text >"$w/out" 2>&1
unlike "$w/out" "interrupted recovery" "the next run does not ask about an interrupted one"
service_running "$w"
ok $? "the service still runs"

done_testing
