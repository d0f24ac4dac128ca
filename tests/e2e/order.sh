#!/bin/sh
# Every decision before the stop: the steps are all confirmed first, and the
# service goes down only after the last question ("Recover now?"). A No at
# any step or at that question leaves the server untouched: the stop
# command never ran, the service runs, Kmsdata and its folder are as they
# were, no journal claims an interruption. With --pause-between-steps the
# KB's order comes back (the stop right after step 2's confirmation).
# After the stop, a Kmsdata that holds other files than its screen said is
# not moved without asking.
. "$top_srcdir/tests/lib.sh"

w="$T/w"
make_world "$w" 4 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar.gz "$w/backup.tar.gz" || { echo "Bail out! archive failed"; exit 1; }
stop_spy "$w/profile" "$T/stops" "$T/profile.spy"
server_state "$w" >"$T/state.before"

# declined KEY: a batch recovery whose answers say No at KEY.
declined() {
	rm -f "$T/stops"
	printf '%s = no\n' "$1" >"$T/answers"
	"$KMSRECOVER" recover --profile "$T/profile.spy" --frontend batch --yes \
		--answers "$T/answers" --backup "$w/backup.tar.gz" --alpha-file "$w/alpha.original" \
		</dev/null >"$T/out" 2>&1
	is "$?" 1 "No at $1: exit 1"
	[ ! -e "$T/stops" ]
	ok $? "No at $1: the stop command never ran"
	service_running "$w"
	ok $? "No at $1: the service runs"
	is "$(server_state "$w")" "$(cat "$T/state.before")" \
		"No at $1: Kmsdata and the folder it is in are as they were"
	[ ! -e "$w/state/journal" ]
	ok $? "No at $1: no journal claims an interrupted recovery"
	like "$T/out" "Nothing was changed" "No at $1: it says nothing was changed"
}
for key in confirm-1 confirm-2 confirm-3 confirm-4 confirm-5 confirm-6 confirm-7 confirm-go; do
	declined "$key"
done

# The whole run: the stop comes after every step was said, once.
rm -f "$T/stops"
"$KMSRECOVER" recover --profile "$T/profile.spy" --frontend text --yes \
	--backup "$w/backup.tar.gz" --alpha-file "$w/alpha.original" </dev/null >"$T/out" 2>&1
is "$?" 0 "text --yes: recovered"
is "$(wc -l <"$T/stops" 2>/dev/null)" 1 "the service was stopped once"
n=$(grep -n 'Recover now?' "$T/out" | head -1 | cut -d: -f1)
m=$(grep -n 'Start the KM Server service?' "$T/out" | head -1 | cut -d: -f1)
[ -n "$n" ] && [ -n "$m" ] && [ "$m" -lt "$n" ]
ok $? "the last question comes after step 7's"
like "$T/out" 'down for a few seconds' "it says how long the service will be down"
keys_match "$w"
ok $? "the server serves the original keys"
"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1

# --pause-between-steps: the KB's order; the service is down at step 3's question.
rm -rf "$w"
make_world "$w" 4 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar.gz "$w/backup.tar.gz"
printf 'confirm-3 = no\n' >"$T/answers"
"$KMSRECOVER" recover --profile "$w/profile" --frontend batch --yes --answers "$T/answers" \
	--pause-between-steps --backup "$w/backup.tar.gz" --alpha-file "$w/alpha.original" \
	</dev/null >"$T/out" 2>&1
is "$?" 1 "--pause-between-steps, No at step 3: exit 1"
service_running "$w"
ok $((!$?)) "--pause-between-steps: the service was stopped at step 2, before step 3 was asked"
unlike "$T/out" 'Recover now\?' "--pause-between-steps: there is no last question"
"$KMSRECOVER" recover --profile "$w/profile" --frontend batch --rollback </dev/null >/dev/null 2>&1
is "$?" 0 "rolled back"
# The profile's key does the same.
printf '[recovery]\npause-between-steps = yes\n' >>"$w/profile"
"$KMSIM" start --data "$w/server/Kmsdata" --run "$w/server/run" \
	--startup-disk "$w/new/KMSPWD.INI" >/dev/null 2>&1
"$KMSRECOVER" recover --profile "$w/profile" --frontend batch --yes --answers "$T/answers" \
	--backup "$w/backup.tar.gz" --alpha-file "$w/alpha.original" </dev/null >"$T/out" 2>&1
rc=$?
service_running "$w"
ok $((!$?)) "pause-between-steps = yes in the profile: the same (exit $rc, the service stopped)"
"$KMSRECOVER" recover --profile "$w/profile" --frontend batch --rollback </dev/null >/dev/null 2>&1

# Kmsdata changes between the confirmations and the stop: the run asks.
# changed ANSWER: the text frontend through a FIFO; a file is added to
# Kmsdata while "Recover now?" waits; ANSWER to the question that follows.
changed() {
	rm -rf "$w"
	make_world "$w" 4 || return 1
	archive "$w" tar.gz "$w/backup.tar.gz"
	rm -f "$T/in"
	mkfifo "$T/in"
	"$KMSRECOVER" recover --profile "$w/profile" --frontend text --backup "$w/backup.tar.gz" \
		--alpha-file "$w/alpha.original" --keep-quarantine <"$T/in" >"$T/out" 2>&1 &
	pid=$!
	exec 3>"$T/in"
	printf 'y\ny\ny\ny\ny\ny\ny\n' >&3
	tries=0
	until grep -q 'Recover now?' "$T/out" || [ $tries -ge 300 ]; do
		sleep 0.1
		tries=$((tries + 1))
	done
	echo "written meanwhile" >"$w/server/Kmsdata/late.log"
	printf 'y\n%s\n' "$1" >&3
	exec 3>&-
	wait "$pid"
}
changed 1
is "$?" 0 "Kmsdata changed, go on: recovered"
tr '\n' ' ' <"$T/out" | tr -s ' ' >"$T/out.flat"
like "$T/out.flat" "changed after you confirmed: it held 4 files, it holds 5 now" \
	"the change is named, with the counts"
[ -f "$(ls -d "$w"/server/Kmsdata.pre-recovery-*/late.log 2>/dev/null | head -1)" ]
ok $? "go on: the file written meanwhile is in the quarantine, not lost"
keys_match "$w"
ok $? "go on: the server serves the original keys"
"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1
changed 2
is "$?" 1 "Kmsdata changed, roll back: exit 1"
[ -f "$w/server/Kmsdata/late.log" ] && [ -f "$w/server/Kmsdata/Kmsmdb.edb" ]
ok $? "roll back: Kmsdata holds what it held, the new file too"
[ -z "$(ls -d "$w"/server/Kmsdata.* 2>/dev/null)" ]
ok $? "roll back: nothing is left beside Kmsdata"
"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1

done_testing
