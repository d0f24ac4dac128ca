#!/bin/sh
# The batch frontend's output, read by scripts and by people grepping a
# log: one fact a line, the later lines of a text indented under its first
# (never at column 0 in the middle of a step), every step said before the
# service is stopped, and after each step a line with what came of it:
# done, or failed.
. "$top_srcdir/tests/lib.sh"

# order FILE A B: the first line matching A comes before the first matching B.
order() {
	a=$(grep -nE -- "$2" "$1" | head -1 | cut -d: -f1)
	b=$(grep -nE -- "$3" "$1" | head -1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}

w="$T/w"
make_world "$w" 4 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar "$w/backup.tar"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$w/backup.tar" \
	--startup-disk "$w/media/usb/KMSPWD.INI" >"$w/out" 2>&1
is "$?" 0 "a batch recovery exits 0"
like "$w/out" "^  Managed by: command$" "step 5's \"Managed by:\" is indented under its step"
like "$w/out" "^  State: running$" "and so is \"State:\" (the service still runs: nothing is stopped yet)"
unlike "$w/out" "^(Managed by|State):" "no line of a step's text at column 0"
like "$w/out" "^Prerequisites: done$" "the prerequisites are said to be done"
# Every step is said first (what it will do), in order; then steps 2-7
# run, each result in order; nothing is done before the last is said.
n=1
while [ "$n" -le 6 ]; do
	order "$w/out" "^Step $n of 7: " "^Step $((n + 1)) of 7: "
	ok $? "step $n is said before step $((n + 1))"
	n=$((n + 1))
done
order "$w/out" "^Step 7 of 7: " "^Step 2 done: "
ok $? "step 2 is done only after step 7 was said"
n=2
while [ "$n" -le 6 ]; do
	[ "$n" = 5 ] && { n=$((n + 1)); continue; }
	next=$((n + 1))
	[ "$next" = 5 ] && next=6
	order "$w/out" "^Step $n done: " "^Step $next done: "
	ok $? "step $n is done before step $next ($(grep "^Step $n done: " "$w/out"))"
	n=$((n + 1))
done
is "$(grep -c '^Step [2-7] of 7: ' "$w/out")" 6 "each step's text is said once"
like "$w/out" "^Step 3 done: Clear the Kmsdata folder$" "the result names the step"
is "$(grep -c '^Step [1-7] done: ' "$w/out")" 7 "each step's result is said once"
order "$w/out" "^Step 7 done: " "^The KM Server is recovered" &&
	order "$w/out" "^Finish: done$" "^The KM Server is recovered"
ok $? "step 7 and the end are said to be done before the summary"
keys_match "$w"
ok $? "the recovered server serves the original keys"
"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1

# A password refused in the prerequisites: they failed, nothing more.
rm -rf "$w"
make_world "$w" 4 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar "$w/backup.tar"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$w/backup.tar" \
	--alpha-file "$w/alpha.new" >"$w/out" 2>"$w/err"
is "$?" 4 "the NEW alpha string in batch: exit 4"
like "$w/out" "^Prerequisites: failed$" "the prerequisites are said to have failed"
unlike "$w/out" "^Step 1" "and no step is said to have run"
like "$w/err" "^  Event 5057" "the verifier's output is indented under the error"

# A service that dies right after starting: step 7 failed, the others done.
set_start="\"$KMSIM\" start --die-after 300 --data \"$w/server/Kmsdata\" --run \"$w/server/run\""
sed -i "s|^start = .*|start = $set_start|" "$w/profile"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$w/backup.tar" \
	--alpha-file "$w/alpha.original" >"$w/out" 2>&1
is "$?" 1 "a service that dies after starting: exit 1"
like "$w/out" "^Step 7 failed: Start the KM Server service$" "step 7 is said to have failed"
is "$(grep -c '^Step [1-6] done: ' "$w/out")" 6 "steps 1 to 6 are said to be done"
"$KMSRECOVER" --profile "$w/profile" --frontend batch --rollback >"$w/out" 2>&1
is "$?" 0 "rolled back"
kill -9 "$(cat "$w/server/run/kmsim.pid" 2>/dev/null)" 2>/dev/null

done_testing
