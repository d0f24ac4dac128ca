#!/bin/sh
# Faults: a service that will not stop, one that dies right after starting,
# a status command that hangs (timeouts hold), a write that fails while
# staging (ENOSPC), a rename that fails in step 3, and SIGTERM / SIGHUP
# while the operator is being asked at each step. Every one ends with a
# clear exit, nothing lost, and a state that Resume or Roll back takes.
. "$top_srcdir/tests/lib.sh"

# set_profile WORLD KEY VALUE: replaces "KEY = ..." in the world's profile.
set_profile() {
	sed -i "s|^$2 = .*|$2 = $3|" "$1/profile"
}

# A service that ignores SIGTERM: step 2 fails, Kmsdata untouched, roll back works.
w="$T/nostop"
make_world "$w" 5 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar "$w/backup.tar"
"$KMSIM" stop --run "$w/server/run" >/dev/null
"$KMSIM" start --ignore-term --data "$w/server/Kmsdata" --run "$w/server/run" \
	--startup-disk "$w/new/KMSPWD.INI" >/dev/null
set_profile "$w" stop "\"$KMSIM\" stop --timeout 1 --run \"$w/server/run\""
set_profile "$w" timeout 3
before=$(server_state "$w")
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$w/backup.tar" \
	--alpha-file "$w/alpha.original" >"$w/out" 2>&1
is "$?" 1 "a service that will not stop: exit 1"
like "$w/out" "did not stop|not stopped|still running" "the message says it did not stop"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --rollback >"$w/out" 2>&1
is "$(server_state "$w")" "$before" "rolled back: Kmsdata as before, no staging left"
kill -9 "$(cat "$w/server/run/kmsim.pid")" 2>/dev/null

# A service that dies right after starting: step 7 fails with its output; roll back restores.
w="$T/dies"
make_world "$w" 5 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar "$w/backup.tar"
set_profile "$w" start "\"$KMSIM\" start --die-after 300 --data \"$w/server/Kmsdata\" --run \"$w/server/run\""
before=$(server_state "$w")
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$w/backup.tar" \
	--alpha-file "$w/alpha.original" >"$w/out" 2>&1
is "$?" 1 "a service that dies after starting: exit 1"
like "$w/out" "start" "the failure is about the start"
grep -q "phase=restored" "$w/state/journal"
ok $? "the journal says restored (Resume or Roll back can take it)"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --rollback >"$w/out" 2>&1
is "$(server_state "$w")" "$before" "rolled back: Kmsdata exactly as before"

# A status command that hangs: the timeout holds, nothing is changed.
w="$T/hang"
make_world "$w" 5 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar "$w/backup.tar"
set_profile "$w" status "/bin/sleep 600"
set_profile "$w" timeout 2
before=$(server_state "$w")
start=$(date +%s)
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$w/backup.tar" \
	--alpha-file "$w/alpha.original" >"$w/out" 2>&1
rc=$?
is "$rc" 1 "a hanging status command: exit 1"
[ $(($(date +%s) - start)) -lt 120 ]
ok $? "it did not hang (bounded by the profile's timeout)"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --rollback >/dev/null 2>&1
is "$(server_state "$w")" "$before" "Kmsdata untouched after roll back"
"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1

# A write that fails while staging (ENOSPC): exit 3, nothing changed.
w="$T/enospc"
make_world "$w" 5 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar.gz "$w/backup.tar.gz"
before=$(server_state "$w")
KMSRECOVER_FAULT=write:2 "$KMSRECOVER" --profile "$w/profile" --frontend batch --yes \
	--backup "$w/backup.tar.gz" --alpha-file "$w/alpha.original" >"$w/out" 2>&1
is "$?" 3 "a full disk while staging: exit 3"
like "$w/out" "No space left|space" "the message says the disk is full"
is "$(server_state "$w")" "$before" "nothing changed, the staging folder is gone"
service_running "$w"
ok $? "the service was never stopped"

# A rename that fails in step 3: exit 1, nothing lost; roll back restores.
KMSRECOVER_FAULT=rename:3 "$KMSRECOVER" --profile "$w/profile" --frontend batch --yes \
	--backup "$w/backup.tar.gz" --alpha-file "$w/alpha.original" >"$w/out" 2>&1
is "$?" 1 "a failing rename during the procedure: exit 1"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --rollback >"$w/out" 2>&1
is "$(server_state "$w")" "$before" "rolled back: Kmsdata exactly as before"
"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1

# SIGTERM and SIGHUP while the operator is asked at each step (text frontend on a
# FIFO): after n answers (backup, password source, then n-2 confirmations) the
# program waits at step n-1's question; the signal ends it with exit 1 and the
# journal, and --resume then reaches the original keys.
answers="1 2 y y y y y y y"
for sig in TERM HUP; do
	for n in 2 3 4 5 6 7 8; do
		w="$T/sig-$sig-$n"
		make_world "$w" 4 || { ok 1 "world"; continue; }
		archive "$w" tar "$w/media/usb/b.tar"
		mkfifo "$w/in"
		KMSRECOVER_MEDIA_ROOTS="$w/media" "$KMSRECOVER" recover --frontend text \
			--profile "$w/profile" <"$w/in" >"$w/out" 2>&1 &
		pid=$!
		exec 3>"$w/in"
		i=0
		for a in $answers; do
			i=$((i + 1))
			[ "$i" -gt "$n" ] && break
			echo "$a" >&3
		done
		# Wait until the program asks step n-1's question, then signal it.
		tries=0
		until [ "$(grep -o '\[[yY]/[nN]\]' "$w/out" | wc -l)" -ge $((n - 1)) ] ||
			[ $tries -ge 400 ]; do
			sleep 0.05
			tries=$((tries + 1))
		done
		sleep 0.2
		kill -"$sig" "$pid"
		wait "$pid"
		rc=$?
		exec 3>&-
		is "$rc" 1 "SIG$sig at step $((n - 1))'s question: exit 1"
		[ -f "$w/state/journal" ]
		ok $? "SIG$sig at step $((n - 1)): the journal is kept"
		"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --resume \
			--alpha-file "$w/alpha.original" >"$w/out2" 2>&1
		is "$?" 0 "SIG$sig at step $((n - 1)): --resume exits 0"
		keys_match "$w"
		ok $? "SIG$sig at step $((n - 1)): resumed, the server serves the original keys"
		"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1
	done
done

done_testing
