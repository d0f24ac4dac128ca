#!/bin/sh
# Rule 4: killed (SIGKILL) at every point of the procedure in turn, the next
# run's Resume reaches a running service on the original keys, and Roll back
# restores exactly the pre-recovery Kmsdata (names, types, modes, mtimes,
# contents) with no staging folder left.
. "$top_srcdir/tests/lib.sh"

points="before-stop stopped quarantining quarantined restoring restored starting"

killed_run() { # killed_run WORLD POINT
	KMSRECOVER_KILL_AT=$2 "$KMSRECOVER" --profile "$1/profile" --frontend batch --yes \
		--backup "$1/backup.tar.gz" --alpha-file "$1/alpha.original" >"$1/out" 2>&1
}

for point in $points; do
	w="$T/resume-$point"
	make_world "$w" 6 || { ok 1 "world for $point"; continue; }
	archive "$w" tar.gz "$w/backup.tar.gz"
	killed_run "$w" "$point"
	is "$?" 137 "killed at $point"
	[ -f "$w/state/journal" ]
	ok $? "$point: the journal is there"
	"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --resume \
		--alpha-file "$w/alpha.original" >"$w/out" 2>&1
	rc=$?
	is "$rc" 0 "$point: --resume exits 0"
	[ "$rc" = 0 ] || sed 's/^/#   /' "$w/out" | tail -15
	keys_match "$w"
	ok $? "$point: resumed, the server serves the original keys"
	"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1

	w="$T/rollback-$point"
	make_world "$w" 6 || { ok 1 "world for $point"; continue; }
	archive "$w" tar.gz "$w/backup.tar.gz"
	before=$(server_state "$w")
	killed_run "$w" "$point"
	is "$?" 137 "killed at $point (for roll back)"
	"$KMSIM" status --run "$w/server/run" >/dev/null 2>&1 &&
		"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1
	"$KMSRECOVER" --profile "$w/profile" --frontend batch --rollback >"$w/out" 2>&1
	is "$?" 0 "$point: --rollback exits 0 (rolled back as asked, nothing lost)"
	like "$w/out" "Rolled back as asked" "$point: the summary says it was rolled back as asked"
	unlike "$w/out" "What went wrong" "$point: not under \"What went wrong\""
	is "$(server_state "$w")" "$before" "$point: roll back restores Kmsdata exactly"
	[ ! -f "$w/state/journal" ]
	ok $? "$point: the journal is closed"
done

"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --resume \
	--alpha-file "$w/alpha.original" >"$w/out" 2>&1
is "$?" 1 "--resume with no interrupted recovery exits 1"
like "$w/out" "no interrupted recovery" "and says so"

done_testing
