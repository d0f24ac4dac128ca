#!/bin/sh
# kmsim, the stand-in KM Server, driven as kmsrecover drives it: init under
# a new alpha string, start with it on stdin or from a startup disk, query
# the keys, stop, status; the wrong alpha string (Event 5057) and damaged or
# missing data (Event 5058); the test switches --die-after, --ignore-term
# and KMSIM_RECORD. Every daemon started here is stopped here.
. "$top_srcdir/tests/lib.sh"

# A daemon made deaf to SIGTERM must go too, whatever happens.
stubborn=
trap 'if [ -n "$stubborn" ]; then kill -9 "$stubborn" 2>/dev/null; fi; tap_cleanup' EXIT

D=$T/Kmsdata
R=$T/run
I=1000 # iterations: fast tests

alive() { # alive PID: a live process (a zombie is not)
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/.*) //' "/proc/$1/stat" | cut -c1)
	[ "$state" != Z ] && [ "$state" != X ]
}
wait_gone() { # wait_gone PID: up to 5 s
	n=0
	while alive "$1" && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
	! alive "$1"
}
run() { # run COMMAND...: output in $T/out, status in $rc
	"$@" >"$T/out" 2>&1
	rc=$?
}
start_with() { # start_with ALPHA [OPTIONS...]: kmsim start, the alpha string on stdin
	# Its output goes through a pipe, as kmsrecover captures it: were the
	# daemon to keep the pipe open, the reader would wait (here: 20 s, then
	# rc says so).
	alpha_in=$1; shift
	{ printf '%s\n' "$alpha_in" | "$KMSIM" start --data "$D" --run "$R" "$@" 2>&1
	  echo "exit=$?"; } | timeout 20 cat >"$T/out.raw"
	piped=$?
	rc=$(sed -n 's/^exit=//p' "$T/out.raw")
	[ "$piped" -eq 0 ] || rc="the daemon held the caller's pipe"
	grep -v '^exit=' "$T/out.raw" >"$T/out"
}

# --- init ---
run "$KMSIM" init --data "$D" --records 20 --iterations $I --startup-disk "$T/KMSPWD.INI"
is "$rc" 0 "init exits 0"
alpha=$(cat "$T/out")
like "$T/out" '^[A-Z]{14}$' "init prints a 14-letter upper-case alpha string"
is "$(wc -l <"$T/out" | tr -d ' ')" 1 "init prints the alpha string alone on a line"
check "init writes Kmsmdb.edb and three log files" \
	test -f "$D/Kmsmdb.edb" -a -f "$D/edb00001.log" -a -f "$D/edb00002.log" -a -f "$D/edb00003.log"
is "$(od -An -c "$T/KMSPWD.INI" | tr -d ' \n')" "$(printf '[config]\r\npwd=%s\r\n' "$alpha" | od -An -c | tr -d ' \n')" \
	"the startup disk is [config] / pwd=ALPHA with CR LF"
is "$(stat -c %a "$T/KMSPWD.INI")" 600 "the startup disk is mode 0600"
sum_before=$(sha256sum <"$D/Kmsmdb.edb")
run "$KMSIM" init --data "$D" --records 20 --iterations $I
is "$rc" 1 "init over an installed KM Server is refused"
like "$T/out" 'already exists.*--force' "the refusal says why and names --force"
is "$(sha256sum <"$D/Kmsmdb.edb")" "$sum_before" "the refused init left the database alone"

# --- start, status, query, stop ---
start_with "$alpha"
is "$rc" 0 "start with the alpha string on stdin exits 0, its output read through a pipe to the end"
like "$T/out" '^KM Server started: 20 key records\.$' "start says how many key records it serves"
pid=$(cat "$R/kmsim.pid" 2>/dev/null)
check "the daemon is running (pid file $pid)" alive "$pid"
is "$(stat -c %a "$R")" 700 "the run folder is made 0700"
check "the socket is there" test -S "$R/kmsim.sock"
check "the daemon holds Kmsmdb.edb open" sh -c "ls -l /proc/$pid/fd | grep -q Kmsmdb.edb"
is "$(readlink "/proc/$pid/fd/0") $(readlink "/proc/$pid/fd/1") $(readlink "/proc/$pid/fd/2")" \
	"/dev/null /dev/null /dev/null" "the daemon's stdin, stdout and stderr are /dev/null"
run "$KMSIM" status --run "$R"
is "$rc" 0 "status exits 0 while running"
is "$(cat "$T/out")" "running records=20" "status prints running records=20"
is "$(cat "$R/status")" "running records=20" "the status file says running records=20"
run "$KMSIM" query --run "$R" user0007
is "$rc" 0 "query of a known user exits 0"
like "$T/out" '^[0-9a-f]{64}$' "query prints a hex SHA-256 fingerprint"
fp7=$(cat "$T/out")
run "$KMSIM" query --run "$R" user0021
is "$rc" 1 "query of an unknown user exits 1"
"$KMSIM" query --run "$R" --all >"$T/fp.original" 2>"$T/err"
is "$?" 0 "query --all exits 0"
is "$(wc -l <"$T/fp.original" | tr -d ' ')" 20 "query --all prints 20 lines"
like "$T/fp.original" '^user0001 [0-9a-f]{64}$' "query --all prints USER FINGERPRINT lines"
check "query --all is sorted by user" sort -c "$T/fp.original"
is "$(grep '^user0007 ' "$T/fp.original" | cut -d' ' -f2)" "$fp7" "query --all agrees with query USER"
is "$(cut -d' ' -f2 "$T/fp.original" | sort -u | wc -l | tr -d ' ')" 20 "every user has a distinct key"
start_with "$alpha"
is "$rc" 1 "a second start while running exits 1"
like "$T/out" 'already running' "it says the KM Server is already running"
check "the first daemon is still running" alive "$pid"
run "$KMSIM" stop --run "$R"
is "$rc" 0 "stop exits 0"
check "the daemon is gone after stop" wait_gone "$pid"
check "stop removed the pid file and the socket" test ! -e "$R/kmsim.pid" -a ! -e "$R/kmsim.sock"
is "$(cat "$R/status")" stopped "the status file says stopped"
run "$KMSIM" status --run "$R"
is "$rc" 3 "status exits 3 when stopped"
is "$(cat "$T/out")" stopped "status prints stopped"
run "$KMSIM" query --run "$R" user0001
is "$rc" 3 "query exits 3 when the KM Server is not running"
run "$KMSIM" stop --run "$R"
is "$rc" 0 "stop of a stopped KM Server exits 0"

# --- start from the startup disk; the keys survive a restart ---
printf '' | timeout 20 "$KMSIM" start --data "$D" --run "$R" --startup-disk "$T/KMSPWD.INI" >"$T/out" 2>&1
is "$?" 0 "start with --startup-disk exits 0"
"$KMSIM" query --run "$R" --all >"$T/fp.again" 2>&1
check "the fingerprints are the same after a stop and a restart" cmp "$T/fp.original" "$T/fp.again"
"$KMSIM" stop --run "$R" >/dev/null 2>&1
printf '\357\273\277\r\n; the startup disk\r\n\r\n[Config]\r\n  PWD = %s  \r\n' "$alpha" >"$T/bom.ini"
printf '' | timeout 20 "$KMSIM" start --data "$D" --run "$R" --startup-disk "$T/bom.ini" >"$T/out" 2>&1
is "$?" 0 "a startup disk with a BOM, comments, blanks and mixed case works"
"$KMSIM" stop --run "$R" >/dev/null 2>&1
start_with "$(printf '%s\r' "$alpha")"
is "$rc" 0 "an alpha string ending in CR LF on stdin works"
"$KMSIM" stop --run "$R" >/dev/null 2>&1

# --- the wrong alpha string ---
start_with WRONGALPHASTRX
is "$rc" 1 "start with a wrong alpha string exits 1"
like "$T/out" '^Event 5057: The supplied password is not valid\.$' "it reports Event 5057"
run "$KMSIM" status --run "$R"
is "$rc" 3 "and the KM Server is not running"
check "no pid file is left" test ! -e "$R/kmsim.pid"
printf '[config]\r\npwd=WRONGALPHASTRX\r\n' >"$T/wrong.ini"
run "$KMSIM" start --data "$D" --run "$R" --startup-disk "$T/wrong.ini"
is "$rc" 1 "a startup disk with the wrong alpha string: exit 1"
like "$T/out" '^Event 5057' "with Event 5057"
run "$KMSIM" start --data "$D" --run "$R" --startup-disk "$T/nowhere.ini"
is "$rc" 1 "a missing startup disk: exit 1"
like "$T/out" 'nowhere\.ini' "naming the file"

# --- check, the verifier ---
printf '%s\n' "$alpha" | "$KMSIM" check --data "$D" >"$T/out" 2>&1
is "$?" 0 "check with the right alpha string exits 0"
printf 'WRONGALPHASTRX\n' | "$KMSIM" check --data "$D" >"$T/out" 2>&1
is "$?" 1 "check with a wrong alpha string exits 1"
like "$T/out" '^Event 5057' "check reports Event 5057"
cp -a "$D" "$T/copy"
printf '%s\n' "$alpha" | "$KMSIM" check --data "$T/copy" >"$T/out" 2>&1
is "$?" 0 "check works on a copy of the Kmsdata folder"
byte=$(od -An -tu1 -j200 -N1 "$T/copy/Kmsmdb.edb" | tr -d ' ')
printf "\\$(printf %o $(((byte + 1) % 256)))" | dd of="$T/copy/Kmsmdb.edb" bs=1 seek=200 conv=notrunc 2>/dev/null
check "one byte of the copy's Kmsmdb.edb changed" sh -c "! cmp -s '$D/Kmsmdb.edb' '$T/copy/Kmsmdb.edb'"
printf '%s\n' "$alpha" | "$KMSIM" check --data "$T/copy" >"$T/out" 2>&1
is "$?" 2 "check of a damaged database exits 2"
like "$T/out" "^Event 5058: The Key Management Server data files are missing or damaged: .*/copy/Kmsmdb\.edb$" \
	"it reports Event 5058 naming Kmsmdb.edb"
cp "$D/Kmsmdb.edb" "$T/copy/Kmsmdb.edb"
rm "$T/copy/edb00002.log"
printf '%s\n' "$alpha" | "$KMSIM" check --data "$T/copy" >"$T/out" 2>&1
is "$?" 2 "check with a log file missing exits 2"
like "$T/out" '^Event 5058: .*edb00002\.log$' "naming the log file"
rm "$T/copy/Kmsmdb.edb"
printf '%s\n' "$alpha" | timeout 20 "$KMSIM" start --data "$T/copy" --run "$T/run-copy" >"$T/out" 2>&1
is "$?" 1 "start with Kmsmdb.edb deleted exits 1"
like "$T/out" '^Event 5058: .*/copy/Kmsmdb\.edb$' "with Event 5058 naming Kmsmdb.edb"
run "$KMSIM" status --run "$T/run-copy"
is "$rc" 3 "and nothing runs"

# --- --die-after: a service that dies right after starting ---
start_with "$alpha" --die-after 300
is "$rc" 0 "start --die-after 300 exits 0 (it was ready)"
pid=$(cat "$R/kmsim.pid" 2>/dev/null)
check "the daemon dies by itself" wait_gone "$pid"
run "$KMSIM" status --run "$R"
is "$rc" 3 "status then exits 3"
check "the dying daemon removed its pid file" test ! -e "$R/kmsim.pid"
is "$(cat "$R/status")" failed "the status file says failed"

# --- --ignore-term: a service that will not stop ---
start_with "$alpha" --ignore-term
is "$rc" 0 "start --ignore-term exits 0"
stubborn=$(cat "$R/kmsim.pid" 2>/dev/null)
run "$KMSIM" stop --run "$R" --timeout 1
is "$rc" 1 "stop of a service that ignores SIGTERM times out with exit 1"
like "$T/out" 'did not stop within 1 s' "saying it did not stop"
check "it is still running" alive "$stubborn"
kill -9 "$stubborn"
check "killed, it is gone" wait_gone "$stubborn"
stubborn=
run "$KMSIM" status --run "$R"
is "$rc" 3 "a killed daemon (pid file left behind) is not taken for a running one"
start_with "$alpha"
is "$rc" 0 "start after a kill -9 (stale pid file and socket) works"
run "$KMSIM" query --run "$R" user0001
is "$rc" 0 "and it answers"
"$KMSIM" stop --run "$R" >/dev/null 2>&1

# --- KMSIM_RECORD ---
KMSIM_RECORD=$T/record SOME_VAR=some-value
export KMSIM_RECORD SOME_VAR
start_with "$alpha" --die-after 100
"$KMSIM" status --run "$R" >/dev/null 2>&1
"$KMSIM" stop --run "$R" >/dev/null 2>&1
unset KMSIM_RECORD SOME_VAR
like "$T/record" "^argv:.*kmsim start --data $D --run $R --die-after 100$" "KMSIM_RECORD records start's argv"
like "$T/record" '^argv:.*kmsim status --run ' "and every other invocation's"
like "$T/record" '^env:SOME_VAR=some-value$' "and the environment"
unlike "$T/record" "$alpha" "the alpha string is in neither argv nor the environment"

# --- init --force (a reinstall), the default iterations ---
run "$KMSIM" init --data "$D" --records 20 --iterations $I --force
is "$rc" 0 "init --force reinstalls"
new_alpha=$(cat "$T/out")
check "with a new alpha string" test "$new_alpha" != "$alpha"
printf '%s\n' "$alpha" | "$KMSIM" check --data "$D" >/dev/null 2>&1
is "$?" 1 "the old alpha string no longer unlocks it"
printf '%s\n' "$new_alpha" | "$KMSIM" check --data "$D" >/dev/null 2>&1
is "$?" 0 "the new one does"
run "$KMSIM" init --data "$T/default"
is "$rc" 0 "init with the defaults"
default_alpha=$(cat "$T/out")
is "$(od -An -tx1 -j16 -N4 "$T/default/Kmsmdb.edb" | tr -d ' ')" 000186a0 \
	"the default is 100000 iterations (in the header)"
printf '%s\n' "$default_alpha" | "$KMSIM" check --data "$T/default" >/dev/null 2>&1
is "$?" 0 "and it unlocks"
printf '%s\n' "$default_alpha" | timeout 20 "$KMSIM" start --data "$T/default" --run "$T/run-default" >"$T/out" 2>&1
like "$T/out" '^KM Server started: 250 key records\.$' "the default is 250 records"
"$KMSIM" query --run "$T/run-default" --all >"$T/fp.default" 2>&1
is "$(tail -n 1 "$T/fp.default" | cut -d' ' -f1)" user0250 "the last one is user0250"
"$KMSIM" stop --run "$T/run-default" >/dev/null 2>&1

# --- usage ---
run "$KMSIM" --help
is "$rc" 0 "--help exits 0"
like "$T/out" 'Usage: kmsim COMMAND' "--help prints the usage"
run "$KMSIM" --version
is "$rc" 0 "--version exits 0"
like "$T/out" '^kmsim .*[0-9]' "--version prints a version"
run "$KMSIM" frobnicate
is "$rc" 2 "an unknown command exits 2"
like "$T/out" "frobnicate" "naming it"
run "$KMSIM" start --data "$D" --run "$R" --bogus
is "$rc" 2 "an unknown option exits 2"
like "$T/out" "--bogus" "naming it"
run "$KMSIM" init
is "$rc" 2 "init without --data exits 2"
like "$T/out" "--data" "naming --data"
run "$KMSIM" init --data "$T/x" --records abc
is "$rc" 2 "a bad number exits 2"
like "$T/out" "--records" "naming the option"
run "$KMSIM" stop --run "$R" --records 3
is "$rc" 2 "an option of another command exits 2"
like "$T/out" "--records.*stop" "naming the option and the command"
run "$KMSIM" query --run "$R"
is "$rc" 2 "query without a user exits 2"
run "$KMSIM" init --data "$T/x" --iterations
is "$rc" 2 "an option without its value exits 2"
like "$T/out" "--iterations" "naming it"
ps -eo pid=,args= | grep -F -- "$T" | grep -v -e grep -e ' ps ' >"$T/left"
is "$(wc -l <"$T/left" | tr -d ' ')" 0 "no kmsim of this test is left running"

done_testing
