/*
 * A row of buttons, like dialog's buttons.c: "< Yes >   < No >", centred,
 * the focused one highlighted, each label's hotkey (the character after
 * '&' in the translated label; "&&" is a literal '&') underlined. The
 * cursor is parked on the focused button's hotkey so that a screen
 * magnifier or a braille line follows the focus.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "width.h"
#include "wizard.h"
#include "xmalloc.h"

#define CURSES_BUTTON_GAP 3

wint_t
curses_label_hotkey(const char *label)
{
	return towlower((wint_t)fe_label_hotkey(label));
}

int
curses_label_width(const char *label)
{
	char *plain;
	long hot;
	int w;

	plain = fe_label_parse(label, &hot);
	w = (int)width_of(plain);
	free(plain);
	return w;
}

/*
 * Draws a label in at most cols columns with its hotkey underlined.
 * Returns the column of the hotkey (relative to x), or 0 when it has none.
 */
int
curses_label_draw(struct wizard *w, int y, int x, int cols, const char *label, attr_t attr)
{
	char *plain, one[8];
	long hot;
	int col = 0;
	size_t len;
	uint32_t cp;

	plain = fe_label_parse(label, &hot);
	curses_put(y, x, cols, plain, attr);
	if (hot >= 0) {
		col = (int)width_of_n(plain, (size_t)hot);
		len = width_decode_char(plain + hot, strlen(plain + hot), &cp);
		if (len < sizeof one) {
			memcpy(one, plain + hot, len);
			one[len] = '\0';
			if (col + (int)width_of(one) <= cols)
				curses_put(y, x + col, cols - col, one, attr | w->looks[CL_HOTKEY]);
		}
	}
	free(plain);
	return col;
}

void
curses_buttons_init(struct curses_buttons *bs, const struct curses_button *b, int n, int focus)
{
	int i;

	if (n > CURSES_MAX_BUTTONS)
		n = CURSES_MAX_BUTTONS;
	for (i = 0; i < n; i++)
		bs->b[i] = b[i];
	bs->n = n;
	bs->focus = focus >= 0 && focus < n ? focus : 0;
}

int
curses_buttons_width(const struct curses_buttons *bs)
{
	int i, total = 0;

	for (i = 0; i < bs->n; i++)
		total += curses_label_width(bs->b[i].label) + 4 + (i > 0 ? CURSES_BUTTON_GAP : 0);
	return total;
}

/* Draws the row centred in width; focused: the row has the focus. */
void
curses_buttons_draw(struct wizard *w, const struct curses_buttons *bs, int y, int x, int width,
    int focused)
{
	int i, bx, lw, hot, gap = CURSES_BUTTON_GAP;
	attr_t attr;

	bx = x + (width - curses_buttons_width(bs)) / 2;
	if (bx < x) {
		bx = x;
		gap = 1;
	}
	for (i = 0; i < bs->n; i++) {
		lw = curses_label_width(bs->b[i].label);
		attr = focused && i == bs->focus ? w->looks[CL_BUTTON_FOCUS] : w->looks[CL_BUTTON];
		if (bx + lw + 4 > x + width)
			break;
		curses_put(y, bx, 2, "< ", attr);
		hot = curses_label_draw(w, y, bx + 2, lw, bs->b[i].label, attr);
		curses_put(y, bx + 2 + lw, 2, " >", attr);
		if (focused && i == bs->focus)
			curses_widget_cursor(w, y, bx + 2 + hot);
		bx += lw + 4 + gap;
	}
}

/* The button whose hotkey is ch (any case), or -1. */
int
curses_buttons_find(const struct curses_buttons *bs, wint_t ch)
{
	int i;

	for (i = 0; i < bs->n; i++)
		if (curses_label_hotkey(bs->b[i].label) == towlower(ch))
			return i;
	return -1;
}
