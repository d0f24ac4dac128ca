#!/bin/sh
# kmsrecover demo, unattended: the world is built, recovered, and the keys
# served afterwards are exactly the original server's; run again on the same
# folder it starts over cleanly; a foreign folder is refused.
. "$top_srcdir/tests/lib.sh"

d="$T/demo"
"$KMSRECOVER" demo --dir "$d" --frontend batch >"$T/out" 2>&1
rc=$?
is "$rc" 0 "demo --frontend batch exits 0"
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/out" | tail -30
like "$T/out" "all 250 keys match the original server" "it says all 250 keys match"
"$KMSIM" status --run "$d/server/run" >/dev/null
ok $? "kmsim runs after the demo"
"$KMSIM" query --run "$d/server/run" --all | cmp -s - "$d/fingerprints.original"
ok $? "it serves exactly fingerprints.original"
[ -f "$(ls -d "$d"/server/Kmsdata.pre-recovery-*/Kmsmdb.edb | head -1)" ]
ok $? "the rebuilt files are in the quarantine"
like "$T/out" "$d/server/Kmsdata" "it says where everything is"

"$KMSRECOVER" demo --dir "$d" --frontend batch --records 30 >"$T/out" 2>&1
is "$?" 0 "a second run on the same folder exits 0"
like "$T/out" "all 30 keys match" "and recovers the new world"
[ "$(ls -d "$d"/server/Kmsdata.pre-recovery-* | wc -l)" -eq 1 ]
ok $? "it started over cleanly (one quarantine)"
like "$T/out" "The stand-in KM Server \(kmsim\) is left running" \
	"it says the stand-in KM Server is left running"
stop=$(grep -A1 "this stops it:" "$T/out" | tail -1)
like "$T/out" "^  .*kmsim stop --run $d/server/run\$" "and gives the command that stops it, on one line"
sh -c "$stop" >/dev/null 2>&1
"$KMSIM" status --run "$d/server/run" >/dev/null 2>&1
[ $? -ne 0 ]
ok $? "that command stops it"

mkdir "$T/foreign" && echo keep >"$T/foreign/file"
"$KMSRECOVER" demo --dir "$T/foreign" --frontend batch >"$T/out" 2>&1
[ $? -ne 0 ]
ok $? "a folder that is not a demo world is refused"
is "$(cat "$T/foreign/file")" keep "and left alone"

done_testing
