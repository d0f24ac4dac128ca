#!/bin/sh
# Back on every screen of the prerequisites, in the wizard (tmux), and
# nothing typed is lost: a backup path refused stays in its field to be
# corrected; Esc (or the Back button) at the backup question goes back to
# the welcome screen, at the password's source to the backup question (its
# path kept), at the masked entry to the source; the source chosen is kept.
# Back from step 1 to the prerequisites does not read the same backup again
# (the staged copy is kept: same inode, the transcript says so). Quitting
# then leaves nothing behind: no staged copy, Kmsdata and the service as
# they were. The KB's order (--pause-between-steps) is walked too.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tty/lib.sh"

shows() { like "$T/screen" "$1" "$2" || tty_diag "$T/screen"; }
then_shell() { printf ' 2>%s; echo $? >%s; exec env PS1=%s sh -i' "$(q "$1.err")" "$(q "$1")" "'$ '"; }

D=$T/back
name=back
broken=
tmux_start "$(q "$KMSRECOVER") demo --dir $(q "$D")$(then_shell "$D.exit")"
expect "welcome" 'kmsrecover - MSExchangeKMS - Welcome' Enter
expect "the backup is asked" 'Where is the backup of Kmsdata?' &&
	shows '< Next >   < Back >' "the backup question offers Back"
tree_digest "$D/server/Kmsdata" >"$T/kmsdata.before"

# A path refused stays in the field.
tmux_keys C-u
tmux_type "$D/no-such-backup.tgz"
tmux_keys Enter
expect "a backup that is not there is refused" 'Cannot find' Enter
expect "the backup is asked again" 'Where is the backup of Kmsdata?' &&
	shows 'no-such-backup.tgz' "the refused path is still in the field, to be corrected"

# Esc at the backup question: the welcome screen again.
tmux_keys Escape
expect "Esc at the backup question goes back to the welcome screen" \
	'kmsrecover - MSExchangeKMS - Welcome' Enter
expect "Next asks the backup again" 'Where is the backup of Kmsdata?' &&
	shows 'media/backup-disk/kmsdata-backup.tar.gz' "the backup on the media is offered again"
tmux_keys Enter
expect "the password's source is asked" 'How will you give' &&
	shows '< Back >' "the source question offers Back"
tmux_keys Escape
expect "Esc at the source: the backup question again" 'Where is the backup of Kmsdata?' &&
	shows 'kmsdata-backup.tar.gz ]' "the backup given is kept in the field"
tmux_keys Enter
expect "the source again" 'How will you give' Enter
expect "the masked entry" 'The ORIGINAL alpha string:'
tmux_keys Escape
expect "Esc at the masked entry: the source again" 'How will you give' Down Enter

# The startup disk chosen: the backup is read and checked, then step 1.
expect "the NEW alpha string warning after the staging" 'NEW alpha string' Enter
expect "step 1" 'Step 1 of 7: Check the reinstalled KM Server'
staged=$(find "$D/server" -maxdepth 1 -name 'Kmsdata.staged-*' | head -1)
[ -n "$staged" ]
ok $? "the backup is staged"
inode=$(stat -c %i "$staged" 2>/dev/null)
reads=$(grep -c 'backup staged:' "$D"/state/transcript-*.log 2>/dev/null)
is "$reads" 1 "the transcript says the backup was read once"

# Back from step 1: the prerequisites again, everything as it was given.
tmux_keys Escape
expect "Esc at step 1: the prerequisites again" 'Where is the backup of Kmsdata?' &&
	shows 'kmsdata-backup.tar.gz ]' "the backup given is still in the field"
tmux_keys Enter
expect "the source is asked" 'How will you give' &&
	shows '\(\*\) Read the startup disk' "the source chosen before (the startup disk) is the one selected"
tmux_keys Enter
expect "step 1 again, straight away" 'NEW alpha string' Enter
expect "step 1" 'Step 1 of 7: Check the reinstalled KM Server'
is "$(grep -c 'backup staged:' "$D"/state/transcript-*.log 2>/dev/null)" 1 \
	"the same backup was not read again"
like "$(ls "$D"/state/transcript-*.log | head -1)" 'staged already, unchanged: not read again' \
	"the transcript says why"
is "$(stat -c %i "$staged" 2>/dev/null)" "$inode" "the staged copy is the one of the first pass"

# Quit: nothing is left behind.
tmux_keys F10
expect "F10 asks first" 'Quit kmsrecover now?' q
expect "where things stand" 'Nothing has been changed yet' Enter
expect "the summary" 'The recovery did not complete' Enter
wait_file "$D.exit" >/dev/null 2>&1
is "$(cat "$D.exit" 2>/dev/null)" 1 "quit exits 1"
[ -z "$(find "$D/server" -maxdepth 1 -name 'Kmsdata.staged-*')" ]
ok $? "no staged copy is left"
tree_digest "$D/server/Kmsdata" | cmp -s - "$T/kmsdata.before"
ok $? "Kmsdata is as it was"
"$KMSIM" status --run "$D/server/run" >/dev/null 2>&1
ok $? "the service still runs"

# Every task's first question goes back to the welcome screen, which keeps
# the task chosen; nothing is written, the service is not stopped.
name=tasks
broken=
rm -f "$D.exit"
tmux_start "env KMSRECOVER_MEDIA_ROOTS=$(q "$D/media") $(q "$KMSRECOVER") --profile $(q "$D/kmsrecover.conf")$(then_shell "$D.exit")"
expect "tasks: the welcome screen offers every task" 'Make a startup disk' Down Enter
expect "backup: where to write it is asked" 'Where should the backup be written?' &&
	shows 'kmsrecover - MSExchangeKMS - Back up Kmsdata' "backup: the title names the task" &&
	shows '< Back >' "backup: the question offers Back"
tmux_keys Escape
expect "backup: Esc goes back to the welcome screen" '< Next >   < Quit >' &&
	shows '\(\*\) Back up Kmsdata' "the welcome screen keeps the task chosen"
tmux_keys Down Enter
expect "disk: where to write it is asked" 'Where should the startup disk be written?' Escape
expect "disk: Esc goes back to the welcome screen" '< Next >   < Quit >' Down Enter
expect "rehearse: the backup is asked" 'Where is the backup of Kmsdata?' Escape
expect "rehearse: Esc goes back to the welcome screen" '< Next >   < Quit >' &&
	shows '\(\*\) Rehearse a recovery' "the welcome screen keeps the rehearsal chosen"
tmux_keys F10
expect "tasks: F10 at the welcome screen asks first" 'Quit kmsrecover now?' q
wait_file "$D.exit" >/dev/null 2>&1
is "$(cat "$D.exit" 2>/dev/null)" 1 "tasks: quitting at the welcome screen exits 1"
[ -z "$(find "$D/media" -newer "$T/kmsdata.before" -type f)" ]
ok $? "tasks: nothing was written on the media"
tree_digest "$D/server/Kmsdata" | cmp -s - "$T/kmsdata.before"
ok $? "tasks: Kmsdata is as it was"
"$KMSIM" status --run "$D/server/run" >/dev/null 2>&1
ok $? "tasks: the service still runs"
"$KMSIM" stop --run "$D/server/run" >/dev/null 2>&1

# --pause-between-steps: the KB's order. The service stops right after
# step 2's confirmation; from step 3 on there is no Back and no last
# question; the recovery ends as the default order's does.
name=paused
broken=
D=$T/paused
tmux_start "$(q "$KMSRECOVER") demo --records 5 --pause-between-steps --dir $(q "$D")$(then_shell "$D.exit")"
expect "paused: welcome" 'kmsrecover - MSExchangeKMS - Welcome' Enter
expect "paused: the backup is asked" 'Where is the backup of Kmsdata?' Down
expect "paused: Down puts it in the field" 'kmsdata-backup.tar.gz ]' Enter
expect "paused: how the password is given" 'How will you give' Down Enter
expect "paused: the warning" 'NEW alpha string' Enter
expect "paused: step 1" 'Step 1 of 7: Check the reinstalled KM Server' &&
	shows 'Go on to stop the service?' "paused: step 1 says the stop comes next"
"$KMSIM" status --run "$D/server/run" >/dev/null 2>&1
ok $? "paused: the service runs at step 1"
tmux_keys Enter
expect "paused: step 2" 'Step 2 of 7: Stop the KM Server service' Enter
expect "paused: step 3" 'Move the files out of Kmsdata?' &&
	shows '< Yes >   < No >' "paused: step 3 has Yes and No" &&
	! grep -q '< Back >' "$T/screen"
ok $? "paused: and no Back (the service is down)"
"$KMSIM" status --run "$D/server/run" >/dev/null 2>&1
ok $((!$?)) "paused: the service was stopped at step 2's confirmation"
tmux_keys y
expect "paused: step 4" 'Step 4 of 7: Restore Kmsdata'
# What one step's screen costs a serial line: the bytes the program writes
# from step 4's Yes until step 5 is on the screen, what changed (a whole
# repaint of the 80x24 screen, Ctrl-L, is about 2.4 KB). About 1 KB is a
# second at 9600 baud.
sleep 0.5
tmux_cmd pipe-pane -o "cat >>$(q "$T/step-bytes")"
tmux_keys Enter
expect "paused: step 5" 'Step 5 of 7: Select the KM Server service'
sleep 0.5
tmux_cmd pipe-pane
bytes=$(wc -c <"$T/step-bytes" 2>/dev/null || echo 0)
[ "$bytes" -gt 0 ] && [ "$bytes" -le 1536 ]
ok $? "paused: step 5's screen is drawn with $bytes bytes (at most 1.5 KB: what changed, not all of it)"
tmux_keys Enter
expect "paused: step 6" 'Step 6 of 7: Give the original startup password' Enter
expect "paused: step 7" 'Step 7 of 7: Start the KM Server service' Enter
expect "paused: no last question: the quarantine's" 'Remove the quarantine folder?' Enter
expect "paused: the summary" 'The KM Server is recovered and running on the' Enter
wait_file "$D.exit" >/dev/null 2>&1
is "$(cat "$D.exit" 2>/dev/null)" 0 "paused: exits 0"
"$KMSIM" stop --run "$D/server/run" >/dev/null 2>&1

done_testing
