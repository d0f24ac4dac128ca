#!/bin/sh
# A Kmsdata that the operator running kmsrecover may not change: the run is
# refused before the backup is read and before the service is stopped, with
# a message naming the folder and what to do, exit 1 (nothing lost), and
# Kmsdata, the service and the backup exactly as they were. The tests run as
# root, which mode bits do not stop, so the recovery runs as nobody (a real
# operator who is not root) on a world that nobody may use but whose
# Kmsdata belongs to root.
. "$top_srcdir/tests/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root to run the recovery as another user"
command -v setpriv >/dev/null 2>&1 || skip_all "setpriv is not installed (util-linux)"
id nobody >/dev/null 2>&1 || skip_all "there is no user nobody"
group=$(id -gn nobody)
as_nobody() { setpriv --reuid=nobody --regid="$group" --clear-groups "$@"; }
as_nobody true 2>/dev/null || skip_all "setpriv cannot switch to nobody here"

# The programs where nobody may run them (the build tree may be in a private
# folder), and $T open for nobody to pass through.
chmod 711 "$T"
mkdir -m 755 "$T/bin"
cp "$real_kmsrecover" "$T/bin/kmsrecover" && cp "$KMSIM" "$T/bin/kmsim" ||
	{ echo "Bail out! cannot copy the programs"; exit 1; }
KMSIM="$T/bin/kmsim"
KMSRECOVER_KMSIM=$KMSIM
program="$T/bin/kmsrecover"
if [ -n "$vg_logs" ]; then
	mkdir -m 777 "$T/vg"
	vg_wrapper "$program" "$T/bin/kmsrecover-valgrind" "$T/vg"
	program="$T/bin/kmsrecover-valgrind"
fi

# The world: nobody's, but for Kmsdata and its files (root's, readable).
w="$T/w"
make_world "$w" 6 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar.gz "$w/backup.tar.gz"
"$KMSIM" stop --run "$w/server/run" >/dev/null
chown -R nobody:"$group" "$w"
chown -R root:root "$w/server/Kmsdata"
chmod 755 "$w/server/Kmsdata"
chmod 644 "$w/server/Kmsdata"/*
as_nobody "$KMSIM" start --data "$w/server/Kmsdata" --run "$w/server/run" \
	--startup-disk "$w/new/KMSPWD.INI" >/dev/null
service_running "$w"
ok $? "the rebuilt service runs (as nobody, on Kmsdata it may not change)"
before=$(server_state "$w")
backup_sum=$(sha256sum <"$w/backup.tar.gz")

# recover RC-FILE ARGS...: kmsrecover as nobody, output in $w/out.
recover() {
	as_nobody env KMSRECOVER_KMSIM="$KMSIM" "$program" --profile "$w/profile" "$@" \
		>"$w/out" 2>&1
}

recover --frontend batch --yes --backup "$w/backup.tar.gz" --alpha-file "$w/alpha.original"
is "$?" 1 "a Kmsdata it may not change: exit 1 (nothing lost)"
like "$w/out" "may not change $w/server/Kmsdata" "the message names the Kmsdata folder"
like "$w/out" "as root" "and says what to do"
like "$w/out" "Nothing was changed" "and that nothing was changed"
unlike "$w/out" "Step 2 of 7" "it stops before step 2"
unlike "$w/out" "Reading and checking the backup" "before the backup is even read"
is "$(server_state "$w")" "$before" "Kmsdata unchanged, no quarantine or staging beside it"
service_running "$w"
ok $? "the service was never stopped"
is "$(sha256sum <"$w/backup.tar.gz")" "$backup_sum" "the backup is untouched"
[ ! -e "$w/state/journal" ]
ok $? "no journal: there is nothing to resume"

# The line mode, the same.
printf '1\n' | recover --frontend text --backup "$w/backup.tar.gz" \
	--alpha-file "$w/alpha.original"
is "$?" 1 "text frontend: exit 1"
like "$w/out" "may not change $w/server/Kmsdata" "text frontend: the folder is named"
is "$(server_state "$w")" "$before" "text frontend: Kmsdata unchanged"

# A Kmsdata open to all but root's: step 3 could move it aside, but not make
# the new one root's again.
chmod 777 "$w/server/Kmsdata"
open=$(server_state "$w")
recover --frontend batch --yes --backup "$w/backup.tar.gz" --alpha-file "$w/alpha.original"
is "$?" 1 "a Kmsdata it may write but not give back to its owner: exit 1"
like "$w/out" "may not change $w/server/Kmsdata: Operation not permitted" "the folder is named"
is "$(server_state "$w")" "$open" "Kmsdata unchanged"
chmod 755 "$w/server/Kmsdata"

# The folder holding Kmsdata read-only too: that folder is named.
chown root:root "$w/server"
chmod 755 "$w/server"
recover --frontend batch --yes --backup "$w/backup.tar.gz" --alpha-file "$w/alpha.original"
is "$?" 1 "a folder holding Kmsdata it may not change: exit 1"
like "$w/out" "may not change $w/server: " "the message names the folder holding Kmsdata"
is "$(server_state "$w")" "$before" "Kmsdata unchanged"
service_running "$w"
ok $? "the service still runs"
chown nobody:"$group" "$w/server"

as_nobody "$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1
if [ -n "$vg_logs" ]; then
	cp "$T"/vg/*.log "$vg_logs/" 2>/dev/null
fi
done_testing
