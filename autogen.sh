#!/bin/sh
# Prepares a fresh checkout: installs what is missing to build and test
# kmsrecover (Debian or Ubuntu, with apt-get; sudo when not root), then
# runs autoreconf. Safe to run again: it installs nothing already there.
set -e
cd "$(dirname "$0")"

packages="gcc make autoconf automake autopoint libtool pkg-config gettext
libncurses-dev libarchive-dev libssl-dev tmux libarchive-tools zstd zip
xz-utils lz4 bzip2 openssl clang-format e2fsprogs groff-base"

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
	for p in $packages; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			missing="$missing $p"
	done
fi
if [ -n "$missing" ]; then
	echo "autogen.sh: installing:$missing"
	if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -q
	# shellcheck disable=SC2086
	$sudo apt-get install -y -q --no-install-recommends $missing
fi
autoreconf -fi
