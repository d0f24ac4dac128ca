# The terminal tests' helpers: the real program in a real terminal, tmux.
# Sourced after tests/lib.sh (which gives TAP, $T and its cleanup).
#
# Each scenario starts its own tmux server with tmux_start, on a private
# socket (-L kmsr-PID-N, in $T) with no configuration file (-f /dev/null),
# so neither the operator's tmux nor ~/.tmux.conf is touched or heard; the
# servers are killed when the test exits.
#
#   tmux_start [-x COLS] [-y LINES] [-t TERM] COMMAND   a new session running COMMAND (sh -c)
#   tmux_keys KEY...         send-keys (tmux key names: Enter, Down, F1, Escape, C-c ...)
#   tmux_type TEXT           send TEXT literally, as typed
#   tmux_screen [FILE]       what the terminal shows (also kept in $T/screens/)
#   tmux_attrs [FILE]        the same with its attributes (SGR escapes)
#   has_colour FILE          whether such a screen uses colour
#   reversed FILE TEXT       whether TEXT starts in reverse video there
#   wait_for TEXT [SECONDS]  until the screen shows TEXT (fixed string; 20 s by default)
#   wait_gone TEXT [SECONDS] until it no longer does
#   wait_file FILE [SECONDS] until FILE exists and is not empty
#   tmux_resize COLS LINES   resize the window (the program gets SIGWINCH)
#   wait_frame [SECONDS]     until the wizard's panes fill the window as it is now
#   boxes_intact FILE        every box on such a screen whole (needs perl)
#
# wait_for and wait_gone poll capture-pane every 0.1 s, never sleep blind,
# and on a timeout print the last screen as TAP diagnostics and return 1.

command -v tmux >/dev/null 2>&1 || skip_all "tmux is not installed"
case $(tmux -V 2>/dev/null) in
tmux\ [012].* | tmux\ next-[012].*) skip_all "tmux 3.0 or later is needed (resize-window)" ;;
esac

# The sockets live in $T, and go with it.
TMUX_TMPDIR=$T
export TMUX_TMPDIR
TMUX_SOCKET="kmsr-$$"
tmux_sockets=
TMUX_TIMEOUT="${TMUX_TIMEOUT:-20}"
tmux_cols=80
tmux_lines=24
tmux_shot=0
unset TMUX TMUX_PANE

# The program and its catalogs from the build tree, in a UTF-8 locale,
# whatever the caller's language and colour settings.
cd "$top_builddir" || exit 1
export KMSRECOVER_LOCALEDIR="${KMSRECOVER_LOCALEDIR:-$top_builddir/locale}"
unset NO_COLOR LANGUAGE LC_ALL LC_MESSAGES
LANG=C.UTF-8
export LANG

# A box's title sits in its top line: "─ Warning ─", "q Warning q" where
# the line is drawn with the terminal's alternate characters (vt100).
H=─

# msg LL MSGID: what the built catalog says for MSGID in LL (gettext).
msg() { TEXTDOMAINDIR=$KMSRECOVER_LOCALEDIR LANGUAGE=$1 gettext -d kmsrecover "$2"; }

tmux_cmd() {
	tmux -L "$TMUX_SOCKET" -f /dev/null "$@"
}

tmux_stop() {
	tmux_cmd kill-server >/dev/null 2>&1 || true
}

# The test's own cleanup (tests/lib.sh) runs after the servers are gone.
tty_cleanup() {
	for _s in $tmux_sockets; do
		tmux -L "$_s" kill-server >/dev/null 2>&1 || true
	done
	tap_cleanup
}
trap tty_cleanup EXIT

# tmux_start [-x COLS] [-y LINES] [-t TERM] COMMAND: a new server and
# session, TERM set through default-terminal, the shell fixed to /bin/sh.
tmux_start() {
	tmux_cols=80 tmux_lines=24
	_term=tmux-256color
	while [ $# -gt 1 ]; do
		case $1 in
		-x) tmux_cols=$2; shift 2 ;;
		-y) tmux_lines=$2; shift 2 ;;
		-t) _term=$2; shift 2 ;;
		*) break ;;
		esac
	done
	# A terminal type this system knows: tmux-256color is newer than some.
	if command -v infocmp >/dev/null 2>&1; then
		for _t in "$_term" screen-256color screen; do
			infocmp "$_t" >/dev/null 2>&1 && { _term=$_t; break; }
		done
	fi
	# A new server for each session (kmsr-PID-N): one killed a moment ago
	# may still be going away.
	tmux_stop
	tmux_n=$((${tmux_n:-0} + 1))
	TMUX_SOCKET="kmsr-$$-$tmux_n"
	tmux_sockets="$tmux_sockets $TMUX_SOCKET"
	mkdir -p "$T/screens"
	tmux_cmd start-server \; \
		set-option -g default-terminal "$_term" \; \
		set-option -g default-shell /bin/sh \; \
		set-option -g history-limit 0 \; \
		set-option -g status off \; \
		set-option -g escape-time 0 \; \
		new-session -d -x "$tmux_cols" -y "$tmux_lines" "$1"
}

tmux_keys() {
	tmux_cmd send-keys "$@"
}

tmux_type() {
	tmux_cmd send-keys -l "$1"
}

# The screen as plain text, trailing blanks cut; wrapped lines are joined
# (-J), so a line that ran past the edge shows as one too wide.
tmux_capture() {
	tmux_cmd capture-pane -p -J 2>/dev/null | sed 's/ *$//'
}

# tmux_screen [FILE]: the screen now, into FILE (default $T/screen) and a
# numbered copy in $T/screens for the checks at the end of a scenario.
tmux_screen() {
	_out=${1:-$T/screen}
	tmux_capture >"$_out"
	tmux_shot=$((tmux_shot + 1))
	cp "$_out" "$T/screens/$(printf %03d $tmux_shot)-${tmux_cols}x$tmux_lines.txt"
}

# tmux_attrs [FILE]: the screen with its attributes, as SGR escapes (-e).
tmux_attrs() {
	tmux_cmd capture-pane -p -e >"${1:-$T/attrs}" 2>/dev/null
}

# has_colour FILE: the screen in FILE (from tmux_attrs) sets a colour.
has_colour() {
	grep -Eq "$(printf '\033')\\[([0-9]+;)*(3[0-8]|4[0-8]|9[0-7]|10[0-7])(;[0-9]+)*m" "$1"
}

# reversed FILE TEXT: TEXT (a button's "< " and its first letter, say)
# starts in reverse video in FILE, its escapes between the characters
# allowed. For a monochrome screen: where the focus is.
reversed() {
	_e=$(printf '\033')
	_re=$(printf %s "$2" | sed "s/./&(${_e}\\\\[[0-9;]*m)*/g")
	grep -Eq "${_e}\\[([0-9]+;)*7(;[0-9]+)*m$_re" "$1"
}

tty_diag() { # tty_diag FILE: a screen as TAP comments
	sed 's/^/#   |/' "$1"
}

# wait_for TEXT [SECONDS]: polls until the screen holds TEXT.
wait_for() {
	_limit=$(( ${2:-$TMUX_TIMEOUT} * 10 ))
	_i=0
	while [ "$_i" -lt "$_limit" ]; do
		tmux_capture >"$T/screen"
		# Seen: looked at again a moment later, so that a screen caught
		# half painted is not the one the test goes on with.
		if grep -qF -- "$1" "$T/screen"; then
			sleep 0.1
			tmux_screen "$T/screen"
			grep -qF -- "$1" "$T/screen" && return 0
		fi
		_i=$((_i + 1))
		sleep 0.1
	done
	echo "# timed out after ${2:-$TMUX_TIMEOUT} s waiting for: $1"
	tty_diag "$T/screen"
	return 1
}

# wait_gone TEXT [SECONDS]: polls until the screen no longer holds TEXT.
wait_gone() {
	_limit=$(( ${2:-$TMUX_TIMEOUT} * 10 ))
	_i=0
	while [ "$_i" -lt "$_limit" ]; do
		tmux_capture >"$T/screen"
		if ! grep -qF -- "$1" "$T/screen"; then
			tmux_screen "$T/screen"
			return 0
		fi
		_i=$((_i + 1))
		sleep 0.1
	done
	echo "# timed out after ${2:-$TMUX_TIMEOUT} s waiting for this to go: $1"
	tty_diag "$T/screen"
	return 1
}

# wait_file FILE [SECONDS]: polls until FILE exists and is not empty.
wait_file() {
	_limit=$(( ${2:-$TMUX_TIMEOUT} * 10 ))
	_i=0
	while [ "$_i" -lt "$_limit" ]; do
		[ -s "$1" ] && return 0
		_i=$((_i + 1))
		sleep 0.1
	done
	echo "# timed out after ${2:-$TMUX_TIMEOUT} s waiting for $1"
	tmux_capture >"$T/screen" && tty_diag "$T/screen"
	return 1
}

# wait_frame [SECONDS]: until the wizard's panes are drawn at the window's
# size: their top frame line as wide as the window, their bottom one on the
# next to last line.
wait_frame() {
	_limit=$(( ${1:-$TMUX_TIMEOUT} * 10 ))
	_i=0
	while [ "$_i" -lt "$_limit" ]; do
		tmux_capture >"$T/screen"
		if [ "$(sed -n 2p "$T/screen" | LC_ALL=C.UTF-8 wc -L)" -eq "$tmux_cols" ] &&
			sed -n "$((tmux_lines - 1))p" "$T/screen" | grep -Eq '^(└|mq|\+-)'; then
			sleep 0.1
			tmux_screen "$T/screen"
			return 0
		fi
		_i=$((_i + 1))
		sleep 0.1
	done
	echo "# timed out after ${1:-$TMUX_TIMEOUT} s waiting for the panes at ${tmux_cols}x$tmux_lines"
	tty_diag "$T/screen"
	return 1
}

tmux_resize() {
	tmux_cols=$1 tmux_lines=$2
	tmux_cmd resize-window -x "$1" -y "$2"
}

# screens_fit: every screen kept since the last call (each named
# NNN-COLSxLINES.txt, the size it was taken at) that is the wizard's (its
# title line; not the shell's lines before or after) has no line wider than
# the terminal and no more lines than it has; one with the panes also has
# their frames' corners on its second and its next to last line. Says what
# is wrong, with the screen, and returns 1 if anything is.
screens_fit() {
	set -- "$T"/screens/*.txt
	[ -e "$1" ] || return 0
	# One pass over them all (a process per screen is slow on a busy machine).
	awk '
	function size(f) { sub(/.*-/, "", f); sub(/\.txt$/, "", f); split(f, d, "x") }
	function judge() {
		if (file == "" || !wizard) return
		size(file)
		print file > list
		if (n > d[2]) print "# " file ": " n " lines on a terminal of " d[2]
		if (panes && !(top ~ /^(┌|lq|\+-).*(┐|k|\+)$/ && bottom ~ /^(└|mq|\+-).*(┘|j|\+)$/))
			print "# " file ": a frame corner is missing"
	}
	FNR == 1 {
		judge()
		file = FILENAME; n = 0; top = bottom = ""
		wizard = $0 ~ /^ ?kmsrecover( - |$)/
		panes = $0 ~ /^ kmsrecover - MSExchangeKMS - /
		size(file)
	}
	{ n++ }
	FNR == 2 { top = $0 }
	FNR == d[2] - 1 { bottom = $0 }
	END { judge() }
	' list="$T/.wizard-screens" "$@" >"$T/.fit"
	if [ -s "$T/.wizard-screens" ]; then
		# Display widths (wc -L), against the width in each name.
		tr '\n' '\0' <"$T/.wizard-screens" | LC_ALL=C.UTF-8 xargs -0 wc -L |
			awk '$2 != "total" { f = $2; sub(/.*-/, "", f); split(f, d, "x")
				if ($1 + 0 > d[1] + 0) print "# " $2 ": a line " $1 " columns wide on a terminal of " d[1] }' >>"$T/.fit"
	fi
	rm -f "$T/.wizard-screens"
	_bad=0
	if [ -s "$T/.fit" ]; then
		_bad=1
		cat "$T/.fit"
		sed 's/^# \([^:]*\):.*/\1/' "$T/.fit" | sort -u | while IFS= read -r _s; do tty_diag "$_s"; done
	fi
	mkdir -p "$T/kept"
	mv "$@" "$T/kept/" 2>/dev/null || true
	return $_bad
}

# boxes_intact FILE: (perl) every box has its four corners and its vertical edges
# in the same display columns on every row. Where a box is drawn over the
# panes (a dialog), that box is checked; otherwise the panes.
boxes_intact() {
	perl -CSD -Mutf8 -e '
	my @rows;
	while (my $line = <STDIN>) {
		chomp $line;
		my @cells;
		for my $c (split //, $line) {
			next if $c =~ /\p{Mn}/;
			push @cells, $c;
			push @cells, "" if $c =~ /[\p{Ea=W}\p{Ea=F}]/;
		}
		push @rows, \@cells;
	}
	my $at = sub { my ($r, $c) = @_; $rows[$r] && defined $rows[$r][$c] ? $rows[$r][$c] : " " };
	my (@boxes, $bad);
	for my $r (0 .. $#rows) {
		for my $c (0 .. $#{ $rows[$r] }) {
			next unless $rows[$r][$c] eq "┌";
			my $e = $c + 1;
			$e++ while $e <= $#{ $rows[$r] } && $rows[$r][$e] ne "┐";
			push @boxes, [$r, $c, $e];
		}
	}
	my @over = grep { $_->[0] > 1 } @boxes;
	@boxes = @over if @over;
	# A box drawn over part of another hides that part: the first pass
	# finds the boxes whole on their own, the second lets them cover.
	my (@whole, %why);
	my $covered = sub {
		my ($y, $x) = @_;
		for my $w (@whole) { return 1 if $y >= $w->[0] && $y <= $w->[3] && $x >= $w->[1] && $x <= $w->[2] }
		return 0;
	};
	for my $pass (1, 2) {
		for my $b (@boxes) {
			my ($r, $c, $e) = @$b;
			next if $pass == 2 && !exists $why{"@$b"};
			delete $why{"@$b"};
			if ($at->($r, $e) ne "┐") { $why{"@$b"} = "row $r: a box at column $c has no top right corner"; next }
			my $y = $r + 1;
			for (; $y <= $#rows; $y++) {
				my ($l, $rt) = ($at->($y, $c), $at->($y, $e));
				last if $l eq "└" && $rt eq "┘";
				next if ($l eq "│" || ($pass == 2 && $covered->($y, $c))) &&
				    ($rt eq "│" || ($pass == 2 && $covered->($y, $e)));
				$why{"@$b"} = sprintf "row %d: the box from row %d, columns %d-%d, is broken (\"%s\" and \"%s\")",
				    $y, $r, $c, $e, $l, $rt;
				last;
			}
			$why{"@$b"} //= "row $r: a box at column $c has no bottom" if $y > $#rows;
			push @whole, [$r, $c, $e, $y] unless exists $why{"@$b"};
		}
	}
	print "$_\n" for values %why;
	exit(%why ? 1 : 0);
	' <"$1"
}

# After a wait has failed, a scenario's later waits fail at once: one
# broken screen costs one timeout, not one per step.
broken=

# tap_wait DESCRIPTION COMMAND...: a TAP test that the wait COMMAND ends
# well; if it does not, it says why and the scenario is broken.
tap_wait() {
	_desc=$1
	shift
	if [ -n "$broken" ]; then
		ok 1 "$_desc (not reached)"
		return 1
	fi
	if "$@" >"$T/.wait" 2>&1; then
		ok 0 "$_desc"
		return 0
	fi
	ok 1 "$_desc"
	cat "$T/.wait"
	broken=1
	return 1
}

# expect DESCRIPTION TEXT [KEY...]: the screen comes to show TEXT (a TAP
# test), then the keys are sent.
expect() {
	_text=$2
	tap_wait "$1" wait_for "$_text" || return 1
	shift 2
	[ $# -eq 0 ] || tmux_keys "$@"
}

# expect_gone DESCRIPTION TEXT [KEY...]: the screen comes to lose TEXT.
expect_gone() {
	_text=$2
	tap_wait "$1" wait_gone "$_text" || return 1
	shift 2
	[ $# -eq 0 ] || tmux_keys "$@"
}

# q WORD: WORD quoted for sh -c.
q() { printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")"; }

# demo_ended STATUS: the scenario $name (its world $D) ended with STATUS
# (in $D.exit), no sanitizer report in $D.err; not reached when $broken.
demo_ended() {
	if [ -n "$broken" ]; then
		ok 1 "$name: exits $1 (not reached)"
		return 1
	fi
	wait_file "$D.exit" >"$T/.wait" 2>&1 || cat "$T/.wait"
	is "$(cat "$D.exit" 2>/dev/null)" "$1" "$name: exits $1"
	unlike "$D.err" 'Sanitizer|runtime error|Assertion' "$name: no sanitizer report on its standard error"
}

# all_fit: every screen the scenario $name looked at fits, frames intact.
all_fit() {
	screens_fit >"$T/.fits" 2>&1
	ok $? "$name: every screen fits the terminal, frames intact"
	head -60 "$T/.fits"
}
