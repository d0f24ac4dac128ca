#!/bin/sh
# Makes the seed corpora of the fuzz targets again: small valid and
# near-valid inputs for each. The seeds are kept in git (corpus/<target>/);
# this script only documents how they were made and remakes them:
#
#     sh tests/fuzz/mkcorpus.sh tests/fuzz/corpus
#
# It writes only seed-* files and leaves crash-* files (inputs that once
# crashed a target, kept as regression seeds) alone. Needs bsdtar
# (libarchive-tools), gzip, xz, zstd, bzip2, openssl and sha256sum.
set -eu
out=${1:?usage: mkcorpus.sh CORPUS-DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out/fuzz-profile" "$out/fuzz-startup-disk" "$out/fuzz-manifest" "$out/fuzz-backup"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fuzz-profile: the example, the smallest ones, each kind of key and value.
p=$out/fuzz-profile
cp "$top/doc/kmsrecover.conf.example" "$p/seed-example"
printf '' >"$p/seed-empty"
printf '[service]\nname = MSExchangeKMS\n' >"$p/seed-name"
cat >"$p/seed-command" <<'EOF'
[service]
manager = command
start  = /opt/kms/bin/kms start --data "/var/lib/exchsrvr/kms data" ; comment
stop   = /opt/kms/bin/kms stop # comment
status = kms-status "a \"quoted\" \\ word"
timeout = 3600
[kmsdata]
path = /var/lib/exchsrvr/kmsdata
owner = 0:0
[secret]
handoff = file:/run/kms/alpha
verify = /opt/kms/bin/kms check --data %d --also=%d%d
startup-disk = kmspwd.ini
case = exact
[backup]
iterations = 1
[recovery]
state-dir = /var/lib/kmsrecover
EOF
printf '\357\273\277[SERVICE]\r\nManager = sysv\r\nname = kms\r\n[Secret]\r\nhandoff = stdin\r\n' >"$p/seed-bom-crlf"
printf '[service]\nmanager = systemd\nstart = systemctl start kms\n[secret]\nhandoff = credential\ncase = upper\n' >"$p/seed-systemd"
printf '[service]\nmanager = command\nstart = /bin/true\n' >"$p/seed-command-missing"
printf '[service]\nname = a\nname = b\n' >"$p/seed-twice"
printf '[nosuch]\nkey = value\n' >"$p/seed-unknown-section"
printf '[kmsdata]\npath = relative/path\nowner = nosuchuser:nosuchgroup\n' >"$p/seed-bad-values"
printf 'key = before any section\n' >"$p/seed-no-section"
printf '[service]\nstart = "unterminated\n' >"$p/seed-quote"
printf '[service]\ntimeout = 99999999999999999999\n[backup]\niterations = -1\n' >"$p/seed-numbers"

# fuzz-startup-disk: KMSPWD.INI as KM Server writes it, and variants.
d=$out/fuzz-startup-disk
printf '[config]\npwd=ABCDEFGHIJKLMNO\n' >"$d/seed-plain"
printf '[Config]\r\npwd=ABCDEFGHIJKLMN\r\n' >"$d/seed-crlf"
printf '\357\273\277[config]\r\nPWD = abcdefghijklmno \r\n' >"$d/seed-bom"
printf '; startup disk\n[other]\npwd=WRONGSECTIONXX\n[ config ]\n# comment\nuser=x\n  pwd  =  ABCDEFGHIJKLMNO\n' >"$d/seed-sections"
printf '[config]\npwd=\n' >"$d/seed-empty-pwd"
printf '[config]\nuser=x\n' >"$d/seed-no-pwd"
printf 'pwd=ABCDEFGHIJKLMNO\n' >"$d/seed-no-section"
printf '[config\npwd=ABCDEFGHIJKLMNO\n' >"$d/seed-open-section"
printf '[config]\npwd=ABC\001DEF\000GHIJKLMNO' >"$d/seed-control"

# fuzz-manifest: sha256sum's output, in its forms; an HMAC side file.
m=$out/fuzz-manifest
(
	cd "$work"
	mkdir -p Kmsdata
	printf 'database' >Kmsdata/Kmsmdb.edb
	printf 'log 1' >Kmsdata/edb00001.log
	printf 'back\\slash' >'Kmsdata/back\slash'
	sha256sum Kmsdata/Kmsmdb.edb Kmsdata/edb00001.log >"$m/seed-plain"
	sha256sum Kmsdata/Kmsmdb.edb Kmsdata/edb00001.log 'Kmsdata/back\slash' >"$m/seed-escaped"
	sha256sum -b ./Kmsdata/Kmsmdb.edb | sed 's/$/\r/' >"$m/seed-binary-crlf"
	cat "$m/seed-plain" "$m/seed-plain" >"$m/seed-duplicate"
	printf '\n  \n%s  .//Kmsdata/./Kmsmdb.edb/\n' "$(sha256sum <Kmsdata/Kmsmdb.edb | cut -c1-64)" >"$m/seed-blank-dots"
	printf '0123456789ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef  \n' >"$m/seed-no-path"
	printf 'not a manifest\n' >"$m/seed-garbage"
	printf 'kmsrecover-hmac-sha256 1 10000\n%s\n' "$(sha256sum <Kmsdata/Kmsmdb.edb | cut -c1-64)" \
	    >"$m/seed-hmac"
	rm -rf Kmsdata
)

# fuzz-backup: a tiny Kmsdata backup in each format and filter, and hostile ones.
b=$out/fuzz-backup
(
	cd "$work"
	mkdir -p tree/Kmsdata
	printf 'KMSIM database' >tree/Kmsdata/Kmsmdb.edb
	printf 'log 1' >tree/Kmsdata/edb00001.log
	(cd tree && sha256sum Kmsdata/Kmsmdb.edb Kmsdata/edb00001.log >MANIFEST.sha256)
	# The tree as every archive below holds it.
	set -- -C tree MANIFEST.sha256 Kmsdata
	{
		bsdtar -b 1 --format ustar -cf "$b/seed-ustar.tar" "$@"
		# Compressed through the tools (bsdtar -b 1 would pad the compressed
		# stream to a block, which zstd, unlike the others, refuses).
		bsdtar -b 1 --format pax -cf - "$@" | gzip -9n >"$b/seed-pax.tar.gz"
		bsdtar -b 1 --format gnutar -cf - "$@" | xz -9 >"$b/seed-gnu.tar.xz"
		bsdtar -b 1 --format ustar -cf - "$@" | zstd -q -19 >"$b/seed-ustar.tar.zst"
		bsdtar -b 1 --format ustar -cf - "$@" | bzip2 -9 >"$b/seed-ustar.tar.bz2"
		bsdtar --format zip -cf "$b/seed.zip" "$@"
		bsdtar --format cpio -cf "$b/seed.cpio" "$@"
		bsdtar --format newc -cf "$b/seed-newc.cpio" "$@"
		bsdtar --format 7zip -cf "$b/seed.7z" "$@"
		bsdtar --format iso9660 -cf - "$@" | gzip -9 >"$b/seed.iso.gz"
		bsdtar -b 1 --format ustar -cf "$b/seed-no-manifest.tar" -C tree Kmsdata
	}
	bsdtar -b 1 --format ustar -cf - "$@" |
		openssl enc -aes-256-cbc -pbkdf2 -iter 1 -md sha256 -pass pass:fuzz -out "$b/seed-enc"
	# A mismatch: the manifest lists another digest.
	cp tree/MANIFEST.sha256 m.keep
	sed '1s/^./0/;1s/^00/11/' m.keep >tree/MANIFEST.sha256
	bsdtar -b 1 --format ustar -cf "$b/seed-mismatch.tar" "$@"
	cp m.keep tree/MANIFEST.sha256
	# Hostile entries, one a backup, written from an mtree description.
	hostile() {
		{
			echo '#mtree'
			echo 'MANIFEST.sha256 type=file mode=0644 contents=tree/MANIFEST.sha256'
			echo 'Kmsdata type=dir mode=0755'
			echo 'Kmsdata/Kmsmdb.edb type=file mode=0644 contents=tree/Kmsdata/Kmsmdb.edb'
			printf '%s\n' "$2"
		} >spec
		bsdtar -b 1 --format pax -cf "$b/seed-hostile-$1.tar" @spec
	}
	hostile setuid 'Kmsdata/edb00001.log type=file mode=04755 contents=tree/Kmsdata/edb00001.log'
	hostile symlink 'Kmsdata/link type=link link=../../etc/passwd'
	hostile device 'Kmsdata/dev type=char mode=0600 device=native,1,3'
	hostile fifo 'Kmsdata/fifo type=fifo mode=0600'
	hostile dotdot '../escape type=file mode=0644 contents=tree/Kmsdata/edb00001.log'
	bsdtar -b 1 --format ustar -P -s ',^,/tmp/,' -cf "$b/seed-hostile-absolute.tar" \
	    -C tree Kmsdata/edb00001.log
	hostile through 'Kmsdata/Kmsmdb.edb/inner type=file mode=0644 contents=tree/Kmsdata/edb00001.log'
	# A name with an escape sequence and a right-to-left override in it.
	mkdir -p ctl/Kmsdata
	printf 'x' >"ctl/Kmsdata/$(printf 'a\033[2J\342\200\256b')"
	bsdtar -b 1 --format ustar -cf "$b/seed-hostile-control.tar" -C ctl Kmsdata
	cat >spec <<'EOF'
#mtree
Kmsdata type=dir mode=0755
Kmsdata/Kmsmdb.edb type=file mode=0644 contents=tree/Kmsdata/Kmsmdb.edb
Kmsdata/hard type=file mode=0644 contents=tree/Kmsdata/Kmsmdb.edb
EOF
	bsdtar -b 1 --format ustar -cf - @spec >"$b/seed-files.tar"
	ln tree/Kmsdata/Kmsmdb.edb tree/Kmsdata/Kmsmdb.hard
	bsdtar -b 1 --format ustar -cf "$b/seed-hardlink.tar" -C tree Kmsdata
	bsdtar --format newc -cf "$b/seed-hardlink.cpio" -C tree Kmsdata
	printf 'Salted__12345678' >"$b/seed-salted-short"
	printf '' >"$b/seed-empty"
)
