#!/bin/sh
# The report of a recovery says what happened to the whole recovery, and
# which startup disk gave the password:
# - a run that resumes an interrupted recovery writes a report of its own
#   (the interrupted run's stays), carrying the recovery's facts from the
#   journal: when it began, the manifest checked, the files and bytes
#   restored, the whole downtime (from the stop in the first run);
# - the KMSPWD.INI read is named, with the medium it is on: the file
#   system's label (a real labelled ext4 file system, mounted, where this
#   machine lets the test mount one), else the medium's folder under the
#   media roots; on step 6's screen, in the text report and in the JSON.
. "$top_srcdir/tests/lib.sh"

w="$T/w"
make_world "$w" 6 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar.gz "$w/backup.tar.gz" || { echo "Bail out! archive failed"; exit 1; }
# What is restored: the backup's files but its MANIFEST.sha256.
files=$(find "$w/original" -type f ! -name MANIFEST.sha256 | wc -l)
bytes=$(find "$w/original" -type f ! -name MANIFEST.sha256 -printf '%s\n' | awk '{s += $1} END {print s}')

# The first run, pausing between steps, stops the service; then the
# operator says No at step 3.
printf 'confirm-3 = no\n' >"$w/answers"
"$KMSRECOVER" recover --profile "$w/profile" --frontend batch --yes --answers "$w/answers" \
	--pause-between-steps \
	--backup "$w/backup.tar.gz" --alpha-file "$w/alpha.original" </dev/null >"$w/out1" 2>&1
is "$?" 1 "No at step 3 after the stop: exit 1"
first=$(ls "$w/state"/report-*.txt 2>/dev/null)
is "$(echo "$first" | grep -c .)" 1 "the first run wrote its report"
cp "$first" "$w/first-report"
started=$(sed -n 's/^Started: *//p' "$first")
sleep 2

"$KMSRECOVER" recover --profile "$w/profile" --frontend batch --yes --resume \
	--alpha-file "$w/alpha.original" --report-json "$w/report.json" </dev/null >"$w/out2" 2>&1
is "$?" 0 "--resume exits 0"
keys_match "$w"
ok $? "resumed: the server serves the original keys"
cmp -s "$first" "$w/first-report"
ok $? "the interrupted run's report is kept as it was"
second=$(ls "$w/state"/report-*.resumed-*.txt 2>/dev/null)
is "$(echo "$second" | grep -c .)" 1 "the resumed run's report is a file of its own"
case $second in "${first%.txt}".resumed-*) r=0 ;; *) r=1 ;; esac
ok $r "its name starts with the interrupted run's (they sort together)"
like "$second" "^Outcome: +recovered \\(0\\)" "the resumed report: recovered"
like "$second" "^Started: +$started\$" "it gives the recovery's start, from the first run"
like "$second" "^Resumed: +[0-9]{4}-" "and when it was resumed"
like "$second" "^Manifest checked: +yes\$" "the manifest was checked (in the first run)"
like "$second" "^Files restored: +$files\$" "files restored: $files, as staged by the first run"
like "$second" "^Bytes restored: +$bytes\$" "bytes restored: $bytes"
down=$(sed -n 's/^Service down for: *\([0-9.]*\) s$/\1/p' "$second")
awk -v d="${down:-0}" 'BEGIN { exit !(d >= 2) }'
ok $? "the downtime counts from the first run's stop (${down:-none} s, >= the 2 s between runs)"
like "$second" "^Password from: +file $w/alpha.original\$" "the password's source is named"
like "$w/report.json" '"resumed": "[0-9]{4}-' "JSON: resumed"
like "$w/report.json" "\"files_restored\": $files," "JSON: files_restored"
like "$w/report.json" '"manifest_checked": true' "JSON: manifest_checked"
like "$w/report.json" '"password_from": "file"' "JSON: password_from"
python3_ok=0
/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$w/report.json" && python3_ok=1
is "$python3_ok" 1 "the JSON report parses"
like "$w/out2" "Restored: +$files files, $bytes bytes" "the summary of the resumed run says what was restored"
like "$w/out2" "Service down for:" "and the downtime"
"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1

# The startup disk: its path and its medium, on step 6 and in the reports.
# disk_run WORLD MEDIA-ROOT DISK-FOLDER: a recovery reading DISK-FOLDER's KMSPWD.INI.
disk_run() {
	KMSRECOVER_MEDIA_ROOTS=$2 "$KMSRECOVER" recover --profile "$1/profile" --frontend batch \
		--yes --backup "$1/backup.tar.gz" --startup-disk "$3" --report-json "$1/disk.json" \
		</dev/null >"$1/out" 2>&1
}
w="$T/disk"
make_world "$w" 4 || { echo "Bail out! make_world failed"; exit 1; }
archive "$w" tar.gz "$w/backup.tar.gz"
# Two disks side by side: the rebuilt one (new) and the original (ORIGINAL-KMS).
mkdir -p "$w/media/REBUILT" "$w/media/ORIGINAL-KMS"
cp "$w/new/KMSPWD.INI" "$w/media/REBUILT/"
cp "$w/media/usb/KMSPWD.INI" "$w/media/ORIGINAL-KMS/"
disk_run "$w" "$w/media" "$w/media/ORIGINAL-KMS"
is "$?" 0 "recovered with the startup disk"
ini="$w/media/ORIGINAL-KMS/KMSPWD.INI"
like "$w/out" "The password \\(startup disk $ini \\(medium ORIGINAL-KMS\\)\\) is checked" \
	"step 6 names the KMSPWD.INI read and its medium"
report=$(ls -t "$w/state"/report-*.txt | head -1)
like "$report" "^Password from: +startup disk $ini \\(medium ORIGINAL-KMS\\)\$" \
	"the report names the KMSPWD.INI and its medium"
like "$w/disk.json" "\"password_from\": \"startup-disk\"" "JSON: password_from startup-disk"
like "$w/disk.json" "\"password_file\": \"$ini\"" "JSON: password_file"
unlike "$report" "$(cat "$w/alpha.original")" "the report never holds the alpha string"
"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1

# A real medium: an ext4 file system labelled ORIGDISK on a loop device,
# mounted at a folder of another name. Needs root and a loop device.
w="$T/loop"
if [ "$(id -u)" != 0 ] || ! command -v mkfs.ext4 >/dev/null 2>&1; then
	echo "# SKIP labelled medium: needs root and mkfs.ext4 (e2fsprogs)"
else
	make_world "$w" 4 || { echo "Bail out! make_world failed"; exit 1; }
	archive "$w" tar.gz "$w/backup.tar.gz"
	truncate -s 8M "$w/medium.img" && mkfs.ext4 -q -L ORIGDISK "$w/medium.img" &&
		mkdir -p "$w/mnt/stick"
	if ! mount -o loop "$w/medium.img" "$w/mnt/stick" 2>"$w/mount.err"; then
		echo "# SKIP labelled medium: this machine cannot mount a loop device: $(head -1 "$w/mount.err")"
	else
		cp "$w/media/usb/KMSPWD.INI" "$w/mnt/stick/"
		disk_run "$w" "$w/mnt" "$w/mnt/stick"
		rc=$?
		umount "$w/mnt/stick"
		is "$rc" 0 "recovered with the startup disk on a labelled medium"
		report=$(ls -t "$w/state"/report-*.txt | head -1)
		like "$report" "^Password from: +startup disk $w/mnt/stick/KMSPWD.INI \\(medium ORIGDISK\\)\$" \
			"the medium is named by its file system's label, not its folder"
		"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1
	fi
fi

done_testing
