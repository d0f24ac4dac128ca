#!/bin/sh
# DESIGN.md's safety rules, end to end: a dry run changes nothing; a damaged
# backup is refused (exit 3) with the service and Kmsdata untouched and no
# staging left; the secrets appear in no file written, no argv and no
# environment; the transcript and report are private (0600).
. "$top_srcdir/tests/lib.sh"

w="$T/w"
make_world "$w" 8 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar.gz "$w/backup.tar.gz"
before=$(server_state "$w")

"$KMSRECOVER" --profile "$w/profile" --frontend batch --dry-run --backup "$w/backup.tar.gz" \
	--startup-disk "$w/media/usb" >"$w/out" 2>&1
is "$?" 0 "a dry run exits 0"
like "$w/out" "Step 3 of 7" "it walks the steps"
like "$w/out" "Checked: [0-9]+ files" "its summary says the files were checked"
unlike "$w/out" "Restored:" "and not that they were restored"
is "$(server_state "$w")" "$before" "a dry run changes nothing in Kmsdata or beside it"
[ -z "$(ls -A "$w/state")" ]
ok $? "a dry run writes nothing in the state folder"
service_running "$w"
ok $? "a dry run leaves the service running"

# A backup whose manifest disagrees with a file.
cp -a "$w/original" "$w/bad"
printf 'x' >>"$w/bad/Kmsmdb.edb"
(cd "$w/bad" && bsdtar -czf "$w/bad.tar.gz" -- *)
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$w/bad.tar.gz" \
	--startup-disk "$w/media/usb" >"$w/out" 2>&1
is "$?" 3 "a backup that fails its manifest: exit 3"
like "$w/out" "Kmsmdb.edb" "the message names the file"
is "$(server_state "$w")" "$before" "Kmsdata untouched, staging removed"
service_running "$w"
ok $? "the service was never stopped"

# The fire drill: verify reads a backup through and changes nothing.
"$KMSRECOVER" verify --profile "$w/profile" --frontend batch --backup "$w/backup.tar.gz" \
	>"$w/out" 2>&1
is "$?" 0 "verify: a sound backup exits 0"
like "$w/out" "every file matches MANIFEST.sha256" "verify says the manifest matched"
"$KMSRECOVER" verify --profile "$w/profile" --frontend batch --backup "$w/bad.tar.gz" \
	>"$w/out" 2>&1
is "$?" 3 "verify: a damaged backup exits 3"
is "$(server_state "$w")" "$before" "verify changed nothing"

# A planted sparse entry whose hole lies far beyond its size (found by fuzzing).
timeout 60 "$KMSRECOVER" verify --profile "$w/profile" --frontend batch \
	--backup "$top_srcdir/tests/fuzz/corpus/fuzz-backup/crash-sparse-hole-offset.tar" \
	>"$w/out" 2>&1
is "$?" 3 "a sparse entry with a hole beyond its size is refused (exit 3), not hashed forever"

# A truncated archive.
head -c 2000 "$w/backup.tar.gz" >"$w/short.tar.gz"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$w/short.tar.gz" \
	--startup-disk "$w/media/usb" >"$w/out" 2>&1
is "$?" 3 "a truncated archive: exit 3"
is "$(server_state "$w")" "$before" "Kmsdata untouched"

# Secrets: a full recovery with an encrypted backup, every child recorded.
archive "$w" tar "$w/plain.tar"
printf 'Tr0ub4dor&3 passphrase\n' >"$w/pass"
openssl enc -aes-256-cbc -pbkdf2 -iter 10000 -salt -pass file:"$w/pass" -in "$w/plain.tar" \
	-out "$w/backup.enc"
rm -f "$w/plain.tar"
alpha=$(cat "$w/alpha.original")
KMSIM_RECORD="$T/record" "$KMSRECOVER" --profile "$w/profile" --frontend batch --yes \
	--backup "$w/backup.enc" --backup-passphrase-file "$w/pass" \
	--startup-disk "$w/media/usb" --report-json "$w/state/report.json" >"$w/out" 2>&1
is "$?" 0 "a recovery from an encrypted backup exits 0"
[ -s "$T/record" ]
ok $? "the service's children were recorded"
leaks=$( (grep -rlF -- "$alpha" "$w/state" "$w/server" "$w/out" "$T/record";
	grep -rlF -- "Tr0ub4dor" "$w/state" "$w/server" "$w/out" "$T/record") 2>/dev/null)
is "$leaks" "" "neither the alpha string nor the passphrase is in any file, argv or environment"
for f in "$w"/state/transcript-* "$w"/state/report-*; do
	is "$(stat -c %a "$f")" 600 "$(basename "$f") is 0600"
done
like "$(ls -t "$w"/state/transcript-* | head -1)" "step 3: Kmsdata moved" "the transcript of the recovery records the steps"

done_testing
