/*
 * What every widget of the wizard draws with, below the loop and the
 * widgets alike: where the focus is (the cursor is parked there, so that a
 * screen magnifier or a braille line follows it) and the screens' clock.
 */
#include "config.h"

#include "fs.h"
#include "wizard.h"

double
curses_widget_now(void)
{
	return (double)fs_monotonic_ns() / 1e9;
}

void
curses_widget_cursor(struct wizard *w, int y, int x)
{
	w->cursor_y = y;
	w->cursor_x = x;
}
