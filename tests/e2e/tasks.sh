#!/bin/sh
# Before the disaster: backup, startup-disk and rehearse, end to end on
# kmsim worlds. A backup made by kmsrecover verifies and recovers the
# original keys; a failed backup leaves no partial file and the service
# running; a startup disk written is then used by a recovery; rehearse
# catches a wrong password and a damaged backup; an altered encrypted
# backup is refused through its HMAC.
. "$top_srcdir/tests/lib.sh"

w="$T/w"
make_world "$w" 9 || { echo "Bail out! make_world failed"; exit 1; }
# Bring the ORIGINAL installation back, running, as the server before the disaster.
"$KMSIM" stop --run "$w/server/run" >/dev/null
rm -rf "$w/server/Kmsdata" && cp -a "$w/original" "$w/server/Kmsdata" && rm "$w/server/Kmsdata/MANIFEST.sha256"
"$KMSIM" start --data "$w/server/Kmsdata" --run "$w/server/run" <"$w/alpha.original" >/dev/null

# backup
"$KMSRECOVER" backup --profile "$w/profile" --frontend batch --yes \
	--alpha-file "$w/alpha.original" -o "$T/kms.tar.zst" --report-json /dev/null >"$T/out" 2>&1
is "$?" 0 "backup exits 0"
"$KMSRECOVER" backup --profile "$w/profile" --yes --alpha-file "$w/alpha.original" \
	-o "$T/cron.tar.zst" </dev/null >"$T/cron.out" 2>&1
is "$?" 0 "backup --yes with no terminal (a cron job): batch is chosen, exits 0"
[ -f "$T/cron.tar.zst" ]
ok $? "and the archive is made"
like "$T/out" "read back" "it says the archive was read back"
like "$T/out" "Service down for" "and for how long the service was down"
service_running "$w"
ok $? "the service runs again after the backup"
bsdtar -tf "$T/kms.tar.zst" >"$T/list"
like "$T/list" "^MANIFEST.sha256$" "the archive holds MANIFEST.sha256"
like "$T/list" "^BACKUP.INFO$" "and BACKUP.INFO"
(mkdir "$T/x" && cd "$T/x" && bsdtar -xf "$T/kms.tar.zst" && sha256sum -c --quiet MANIFEST.sha256)
ok $? "sha256sum -c checks the manifest at the archive's root"
"$KMSRECOVER" verify --profile "$w/profile" --frontend batch --backup "$T/kms.tar.zst" >"$T/out" 2>&1
is "$?" 0 "verify accepts the new backup"
"$KMSRECOVER" backup --profile "$w/profile" --frontend batch --yes \
	--alpha-file "$w/alpha.original" -o "$T/kms.tar.zst" >"$T/out" 2>&1
is "$?" 2 "backup refuses to overwrite an existing file"

# Where it writes is checked before the service stops: a missing folder and
# a name whose extension says no format are usage errors, nothing stopped.
stop_spy "$w/profile" "$T/stops" "$T/profile.spy"
"$KMSRECOVER" backup --profile "$T/profile.spy" --frontend batch --yes \
	--alpha-file "$w/alpha.original" -o "$T/missing/dir/bk.tar.gz" >"$T/out" 2>&1
is "$?" 2 "backup -o into a missing folder: exit 2"
like "$T/out" "$T/missing/dir is not a folder" "naming the folder, not a temporary file"
"$KMSRECOVER" backup --profile "$T/profile.spy" --frontend batch --yes \
	--alpha-file "$w/alpha.original" -o "$T/bk.rar" >"$T/out" 2>&1
is "$?" 2 "backup -o bk.rar: exit 2"
like "$T/out" "bk.rar: its extension names no format kmsrecover writes" "saying which it writes"
[ ! -e "$T/stops" ]
ok $? "the service was not stopped for either"
[ ! -e "$T/bk.rar" ] && [ ! -e "$T/missing" ]
ok $? "and nothing was written"

# A backup whose writing fails: no partial file, the service running.
KMSRECOVER_FAULT=write:1 "$KMSRECOVER" backup --profile "$w/profile" --frontend batch --yes \
	--alpha-file "$w/alpha.original" -o "$T/fail.tar.gz" >"$T/out" 2>&1
is "$?" 1 "a backup whose write fails exits 1"
[ -z "$(ls "$T" | grep fail.tar.gz)" ]
ok $? "no partial archive is left"
service_running "$w"
ok $? "the service runs again"

# An encrypted backup: openssl can open it by hand; an altered one is refused by its HMAC.
printf 'a long backup passphrase\n' >"$T/pass"
"$KMSRECOVER" backup --profile "$w/profile" --frontend batch --yes --encrypt \
	--passphrase-file "$T/pass" --alpha-file "$w/alpha.original" -o "$T/kms.tar.gz.enc" \
	>"$T/out" 2>&1
is "$?" 0 "an encrypted backup exits 0"
[ -f "$T/kms.tar.gz.enc.hmac" ]
ok $? "its HMAC file is beside it"
openssl enc -d -aes-256-cbc -pbkdf2 -iter 10000 -pass file:"$T/pass" -in "$T/kms.tar.gz.enc" |
	tar -tzf - >"$T/list" 2>&1
like "$T/list" "Kmsmdb.edb" "openssl enc -d opens it by hand"

# startup-disk
"$KMSRECOVER" startup-disk --profile "$w/profile" --frontend batch \
	--alpha-file "$w/alpha.original" -o "$T/file.ini" >"$T/out" 2>&1
is "$?" 0 "startup-disk writes a named file"
mkdir -p "$T/disk"
"$KMSRECOVER" startup-disk --profile "$w/profile" --frontend batch \
	--alpha-file "$w/alpha.original" -o "$T/disk" >"$T/out" 2>&1
is "$?" 0 "startup-disk writes KMSPWD.INI into a folder"
is "$(stat -c %a "$T/disk/KMSPWD.INI")" 400 "KMSPWD.INI is 0400"
like "$T/disk/KMSPWD.INI" "^pwd=$(cat "$w/alpha.original")" "it holds the alpha string"
"$KMSRECOVER" startup-disk --profile "$w/profile" --frontend batch \
	--alpha-file "$w/alpha.original" -o "$T/disk" >"$T/out" 2>&1
is "$?" 2 "an existing startup disk is not overwritten (exit 2, as backup's existing file)"
"$KMSRECOVER" startup-disk --profile "$w/profile" --frontend batch \
	--alpha-file "$w/alpha.new" -o "$T/wrong.ini" >"$T/out" 2>&1
is "$?" 4 "a string that does not unlock the live Kmsdata is refused"
[ ! -e "$T/wrong.ini" ]
ok $? "and nothing is written"

# rehearse
"$KMSRECOVER" rehearse --profile "$w/profile" --frontend batch --backup "$T/kms.tar.zst" \
	--startup-disk "$T/disk" >"$T/out" 2>&1
is "$?" 0 "rehearse with the made backup and the written disk passes"
"$KMSRECOVER" rehearse --profile "$w/profile" --frontend batch --backup "$T/kms.tar.zst" \
	--alpha-file "$w/alpha.new" >"$T/out" 2>&1
is "$?" 4 "rehearse catches a wrong password"
head -c 3000 "$T/kms.tar.zst" >"$T/short.tar.zst"
"$KMSRECOVER" rehearse --profile "$w/profile" --frontend batch --backup "$T/short.tar.zst" \
	--alpha-file "$w/alpha.original" >"$T/out" 2>&1
is "$?" 3 "rehearse catches a damaged backup"
[ -z "$(ls "${TMPDIR:-/tmp}" | grep "kmsrecover-rehearse" | xargs -r -I{} find "${TMPDIR:-/tmp}/{}" -newer "$T/kms.tar.zst" -maxdepth 0)" ]
ok $? "rehearse leaves no throw-away folder"

# The round trip: the rebuild, then a recovery from the made backup and the written disk.
"$KMSIM" stop --run "$w/server/run" >/dev/null
"$KMSIM" init --force --data "$w/server/Kmsdata" --records 2 --iterations 1000 >/dev/null
"$KMSIM" start --data "$w/server/Kmsdata" --run "$w/server/run" <"$w/alpha.new" >/dev/null 2>&1 ||
	"$KMSIM" start --data "$w/server/Kmsdata" --run "$w/server/run" \
		--startup-disk "$w/new/KMSPWD.INI" >/dev/null 2>&1
cp "$T/kms.tar.gz.enc" "$T/altered.enc" && cp "$T/kms.tar.gz.enc.hmac" "$T/altered.enc.hmac"
printf '\001' | dd of="$T/altered.enc" bs=1 seek=100 conv=notrunc 2>/dev/null
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$T/altered.enc" \
	--backup-passphrase-file "$T/pass" --startup-disk "$T/disk" >"$T/out" 2>&1
is "$?" 3 "an altered encrypted backup is refused (exit 3)"
like "$T/out" "HMAC" "naming its HMAC"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$T/kms.tar.gz.enc" \
	--backup-passphrase-file "$T/pass" --startup-disk "$T/disk" >"$T/out" 2>&1
rc=$?
is "$rc" 0 "a recovery from the made encrypted backup and the written disk exits 0"
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/out" | tail -20
keys_match "$w"
ok $? "the recovered server serves the original keys"

done_testing
