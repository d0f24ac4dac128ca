#!/bin/sh
# Whole recoveries in batch mode from every kind of backup: the recovered
# server serves exactly the original keys, the rebuilt files are in the
# quarantine, the report names the backup and its SHA-256.
. "$top_srcdir/tests/lib.sh"

recover_from() { # recover_from FORMAT EXTRA-OPTIONS...
	fmt=$1; shift
	w="$T/$fmt"
	make_world "$w" 12 || { ok 1 "$fmt: world built"; return; }
	case $fmt in
	folder) backup="$w/original" ;;
	enc)
		archive "$w" tar "$w/plain.tar"
		printf 'correct horse battery staple\n' >"$w/pass"
		openssl enc -aes-256-cbc -pbkdf2 -iter 10000 -salt -pass file:"$w/pass" \
			-in "$w/plain.tar" -out "$w/backup.tar.enc"
		rm -f "$w/plain.tar"
		backup="$w/backup.tar.enc"
		set -- "$@" --backup-passphrase-file "$w/pass"
		;;
	*) backup="$w/backup.$fmt"; archive "$w" "$fmt" "$backup" ;;
	esac
	"$KMSRECOVER" --profile "$w/profile" --frontend batch --yes --backup "$backup" \
		--startup-disk "$w/media/usb" --report-json "$w/report.json" "$@" >"$w/out" 2>&1
	rc=$?
	is "$rc" 0 "$fmt: the recovery exits 0"
	[ "$rc" = 0 ] || sed 's/^/#   /' "$w/out" | tail -20
	service_running "$w"
	ok $? "$fmt: the service runs"
	keys_match "$w"
	ok $? "$fmt: it serves exactly the original keys"
	q=$(ls -d "$w"/server/Kmsdata.pre-recovery-* 2>/dev/null | head -1)
	[ -n "$q" ] && [ -f "$q/Kmsmdb.edb" ]
	ok $? "$fmt: the rebuilt files are in the quarantine"
	[ ! -e "$w/server/Kmsdata/MANIFEST.sha256" ]
	ok $? "$fmt: MANIFEST.sha256 is not restored into Kmsdata"
	ls -d "$w"/server/Kmsdata.staged-* >/dev/null 2>&1
	ok $((! $?)) "$fmt: no staging folder is left"
	if [ "$fmt" != folder ]; then
		sum=$(sha256sum "$backup" | cut -d' ' -f1)
		like "$w/report.json" "\"backup_sha256\": \"$sum\"" "$fmt: the JSON report has the backup's SHA-256"
	fi
	like "$w/report.json" '"outcome": "recovered"' "$fmt: the report says recovered"
	"$KMSIM" stop --run "$w/server/run" >/dev/null 2>&1
}

for fmt in tar.gz zip tar.zst tar.xz 7z folder enc topdir; do
	recover_from "$fmt"
done

done_testing
