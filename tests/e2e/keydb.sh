#!/bin/sh
# A backup must hold the key database ([kmsdata] expect, Kmsmdb.edb by
# default) to be called sound: the fire drill (verify), rehearse and a
# recovery refuse a folder that holds only the archive, or only a readme,
# with exit 3, naming what it holds (and the archive it probably meant),
# before anything changes; backup refuses a Kmsdata without it before the
# service stops. A folder backup's summary has no empty SHA-256 line. The
# profile's expect is checked like every key.
. "$top_srcdir/tests/lib.sh"

w="$T/w"
make_world "$w" 6 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar.gz "$T/kmsdata-backup.tar.gz" || { echo "Bail out! archive failed"; exit 1; }
mkdir -p "$T/only-archive" "$T/only-readme"
cp "$T/kmsdata-backup.tar.gz" "$T/only-archive/"
echo "the backup is on the other disk" >"$T/only-readme/readme.txt"
server_state "$w" >"$T/state.before"

batch() { "$KMSRECOVER" "$@" --profile "$w/profile" --frontend batch </dev/null >"$T/out" 2>&1; }

batch verify --backup "$T/only-archive"
is "$?" 3 "verify: a folder holding only the archive is unusable (exit 3)"
like "$T/out" 'holds no Kmsmdb.edb' "verify: it says the key database is missing"
like "$T/out" 'Did you mean the file .*only-archive/kmsdata-backup.tar.gz' \
	"verify: and asks whether the archive in it was meant"
unlike "$T/out" 'is sound' "verify: it does not call it sound"

batch verify --backup "$T/only-readme"
is "$?" 3 "verify: a folder holding only a readme is unusable (exit 3)"
like "$T/out" 'It holds readme.txt' "verify: naming what it holds"

batch verify --backup "$w/original"
is "$?" 0 "verify: the original Kmsdata folder is sound"
unlike "$T/out" 'SHA-256: *$' "verify: a folder's summary has no empty SHA-256 line"
batch verify --backup "$T/kmsdata-backup.tar.gz"
is "$?" 0 "verify: the archive itself is sound"
like "$T/out" 'SHA-256: [0-9a-f]{64}' "verify: with the archive's SHA-256"

batch rehearse --backup "$T/only-archive" --alpha-file "$w/alpha.original"
is "$?" 3 "rehearse: the folder with only the archive is refused (exit 3)"

batch recover --backup "$T/only-readme" --alpha-file "$w/alpha.original" --yes
is "$?" 3 "recover: a backup without the key database exits 3"
server_state "$w" | cmp -s - "$T/state.before"
ok $? "recover: nothing on the server changed"
service_running "$w"
ok $? "recover: the service still runs"

# A profile that names another key database: the same backup is refused.
sed 's|^\[kmsdata\]$|[kmsdata]\nexpect = data/keys.edb|' "$w/profile" >"$T/profile.other"
"$KMSRECOVER" verify --profile "$T/profile.other" --frontend batch \
	--backup "$T/kmsdata-backup.tar.gz" </dev/null >"$T/out" 2>&1
is "$?" 3 "expect = data/keys.edb: a backup without it is refused"
like "$T/out" 'holds no data/keys.edb' "naming the file the profile expects"
sed 's|^\[kmsdata\]$|[kmsdata]\nexpect =|' "$w/profile" >"$T/profile.none"
"$KMSRECOVER" verify --profile "$T/profile.none" --frontend batch \
	--backup "$T/only-readme" </dev/null >"$T/out" 2>&1
is "$?" 2 "expect = (nothing) is a profile error, not a way around the check"
sed 's|^\[kmsdata\]$|[kmsdata]\nexpect = ../Kmsmdb.edb|' "$w/profile" >"$T/profile.bad"
"$KMSRECOVER" verify --profile "$T/profile.bad" --frontend batch \
	--backup "$T/kmsdata-backup.tar.gz" </dev/null >"$T/out" 2>&1
is "$?" 2 "expect = ../Kmsmdb.edb is a profile error (exit 2)"
like "$T/out" 'profile.bad:[0-9]+.*expect' "naming the file, line and key"

# backup: a Kmsdata without the key database is refused before the stop.
"$KMSIM" stop --run "$w/server/run" >/dev/null
mv "$w/server/Kmsdata/Kmsmdb.edb" "$T/Kmsmdb.edb.aside"
"$KMSIM" start --data "$w/server/Kmsdata" --run "$w/server/run" <"$w/alpha.new" >/dev/null 2>&1
stop_spy "$w/profile" "$T/calls" "$T/profile.spy"
"$KMSRECOVER" backup --profile "$T/profile.spy" --frontend batch --yes \
	--alpha-file "$w/alpha.new" -o "$T/new.tar.zst" </dev/null >"$T/out" 2>&1
is "$?" 1 "backup: a Kmsdata without its key database is refused"
like "$T/out" 'holds no Kmsmdb.edb' "backup: saying why"
[ ! -e "$T/calls" ]
ok $? "backup: the service was not stopped"
[ ! -e "$T/new.tar.zst" ]
ok $? "backup: no archive was written"

done_testing
