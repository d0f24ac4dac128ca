/*
 * Keys to actions, through one binding table (like dialog's dlg_keys.c):
 * widgets never look at raw key codes. Every function key has twins for
 * terminals that send none (a serial line, some KVMs): Esc then a digit
 * within the Esc delay (Esc 1 = F1, Esc 2 = F2, Esc 3 = F3, Esc 4 = F4,
 * Esc 0 = F10),
 * and a control key that clashes with nothing (not Ctrl-H, which is
 * Backspace, nor Ctrl-S/Ctrl-Q, which are flow control). A lone Esc is
 * known once the delay (set_escdelay, 300 ms) has passed.
 *
 * The help text for F1 is made from the same table's descriptions.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "width.h"
#include "wizard.h"
#include "xmalloc.h"

/* clang-format 14 takes "(c) &" for a cast and writes ((c)&0x1f). */
/* clang-format off */
#define CTRL_KEY(c) ((c) & 0x1f)
/* clang-format on */
#define ESC_KEY 27
#define K_ANY 0 /* the global table: on in every widget */

struct curses_binding {
	int keymap; /* K_ANY or a CURSES_KEYS_* table */
	int fkey;   /* KEY_* or 0 */
	wint_t ch;  /* a character when fkey is 0 */
	int esc;    /* only right after Esc */
	enum curses_action action;
};

static const struct curses_binding curses_bindings[] = {
	/* Text fields: editing keys before the global meanings. */
	{ CURSES_KEYS_TEXT, 0, CTRL_KEY('A'), 0, CA_HOME },
	{ CURSES_KEYS_TEXT, 0, CTRL_KEY('E'), 0, CA_END },
	{ CURSES_KEYS_TEXT, 0, CTRL_KEY('D'), 0, CA_DELETE },
	{ CURSES_KEYS_TEXT, 0, CTRL_KEY('U'), 0, CA_KILL_LINE },
	{ CURSES_KEYS_TEXT, 0, CTRL_KEY('K'), 0, CA_KILL_END },
	{ CURSES_KEYS_TEXT, 0, CTRL_KEY('B'), 0, CA_LEFT },
	{ CURSES_KEYS_TEXT, 0, CTRL_KEY('F'), 0, CA_RIGHT },
	/* Viewers. */
	{ CURSES_KEYS_VIEWER, 0, '/', 0, CA_SEARCH },
	{ CURSES_KEYS_VIEWER, 0, 'n', 0, CA_SEARCH_NEXT },
	{ CURSES_KEYS_VIEWER, 0, 'N', 0, CA_SEARCH_PREV },
	{ CURSES_KEYS_VIEWER, 0, 'q', 0, CA_CLOSE },
	{ CURSES_KEYS_VIEWER, 0, 'Q', 0, CA_CLOSE },
	{ CURSES_KEYS_VIEWER, 0, ' ', 0, CA_PAGE_DOWN },
	{ CURSES_KEYS_VIEWER, 0, 'b', 0, CA_PAGE_UP },
	{ CURSES_KEYS_VIEWER, 0, 'j', 0, CA_DOWN },
	{ CURSES_KEYS_VIEWER, 0, 'k', 0, CA_UP },
	{ CURSES_KEYS_VIEWER, 0, 'g', 0, CA_HOME },
	{ CURSES_KEYS_VIEWER, 0, 'G', 0, CA_END },
	/* Everywhere. */
	{ K_ANY, KEY_F(1), 0, 0, CA_HELP },
	{ K_ANY, 0, '1', 1, CA_HELP },
	{ K_ANY, 0, CTRL_KEY('G'), 0, CA_HELP },
	{ K_ANY, KEY_F(2), 0, 0, CA_TRANSCRIPT },
	{ K_ANY, 0, '2', 1, CA_TRANSCRIPT },
	{ K_ANY, 0, CTRL_KEY('T'), 0, CA_TRANSCRIPT },
	{ K_ANY, KEY_F(3), 0, 0, CA_LANGUAGE },
	{ K_ANY, 0, '3', 1, CA_LANGUAGE },
	{ K_ANY, 0, CTRL_KEY('O'), 0, CA_LANGUAGE },
	{ K_ANY, KEY_F(4), 0, 0, CA_REVEAL },
	{ K_ANY, 0, '4', 1, CA_REVEAL },
	{ K_ANY, 0, CTRL_KEY('R'), 0, CA_REVEAL },
	{ K_ANY, KEY_F(10), 0, 0, CA_QUIT },
	{ K_ANY, 0, '0', 1, CA_QUIT },
	{ K_ANY, 0, CTRL_KEY('X'), 0, CA_QUIT },
	{ K_ANY, 0, CTRL_KEY('L'), 0, CA_REDRAW },
	{ K_ANY, KEY_RESIZE, 0, 0, CA_RESIZE },
	{ K_ANY, 0, '\t', 0, CA_NEXT },
	{ K_ANY, KEY_BTAB, 0, 0, CA_PREV },
	{ K_ANY, 0, '\t', 1, CA_PREV },
	{ K_ANY, 0, '\r', 0, CA_ENTER },
	{ K_ANY, 0, '\n', 0, CA_ENTER },
	{ K_ANY, KEY_ENTER, 0, 0, CA_ENTER },
	{ K_ANY, 0, ESC_KEY, 0, CA_ESCAPE },
	{ K_ANY, 0, ESC_KEY, 1, CA_ESCAPE },
	{ K_ANY, KEY_CANCEL, 0, 0, CA_ESCAPE },
	{ K_ANY, KEY_LEFT, 0, 0, CA_LEFT },
	{ K_ANY, KEY_RIGHT, 0, 0, CA_RIGHT },
	{ K_ANY, KEY_UP, 0, 0, CA_UP },
	{ K_ANY, KEY_DOWN, 0, 0, CA_DOWN },
	{ K_ANY, KEY_PPAGE, 0, 0, CA_PAGE_UP },
	{ K_ANY, KEY_NPAGE, 0, 0, CA_PAGE_DOWN },
	{ K_ANY, KEY_HOME, 0, 0, CA_HOME },
	{ K_ANY, KEY_FIND, 0, 0, CA_HOME },
	{ K_ANY, KEY_END, 0, 0, CA_END },
	{ K_ANY, KEY_SELECT, 0, 0, CA_END },
	{ K_ANY, KEY_BACKSPACE, 0, 0, CA_BACKSPACE },
	{ K_ANY, 0, 127, 0, CA_BACKSPACE },
	{ K_ANY, 0, CTRL_KEY('H'), 0, CA_BACKSPACE },
	{ K_ANY, KEY_DC, 0, 0, CA_DELETE },
};

/* What F1 lists: the keys and what they do; welcome: only on the first screen. */
static const struct {
	const char *keys;
	const char *what;
	int welcome;
} curses_key_help[] = {
	/* TRANSLATORS: key names in the F1 help; keep "Tab", "Shift-Tab" recognisable. */
	{ N_("Tab, Shift-Tab"), N_("move between fields and buttons"), 0 },
	{ N_("Arrows"), N_("move in a list, between buttons, or in a field"), 0 },
	{ N_("Enter"), N_("press the button, take the answer"), 0 },
	{ N_("Esc"), N_("go back, where Back is offered; close a window"), 0 },
	{ N_("Underlined letter"), N_("press that button (in a field: Esc, then the letter)"), 0 },
	{ N_("F1, Esc 1, Ctrl-G"), N_("this help"), 0 },
	{ N_("F2, Esc 2, Ctrl-T"), N_("the transcript of what was done"), 0 },
	/* TRANSLATORS: F3 is offered on the first screen only. */
	{ N_("F3, Esc 3, Ctrl-O"), N_("choose the language of the screens"), 1 },
	{ N_("F4, Esc 4, Ctrl-R"), N_("show or hide a password, where offered"), 0 },
	{ N_("F10, Esc 0, Ctrl-X"), N_("quit (asks first, and says what state things are in)"), 0 },
	{ N_("PgUp, PgDn"), N_("scroll the step's text"), 0 },
	{ N_("Ctrl-L"), N_("redraw the screen"), 0 },
	{ N_("Ctrl-C"), N_("while work runs: ask whether to stop it"), 0 },
	{ N_("In a field"), N_("Home/Ctrl-A, End/Ctrl-E, Backspace, Delete/Ctrl-D"), 0 },
	{ "", N_("Ctrl-U clears the field, Ctrl-K cuts to its end"), 0 },
	{ N_("In a viewer"), N_("/ searches, n and N: next and previous match"), 0 },
	{ "", N_("q or Esc closes the viewer"), 0 },
};

/*
 * Whether a key read right after Esc makes one key with it: a character
 * (Esc 1 is F1, Esc and a letter a hotkey), Tab (Shift-Tab) or Esc. A
 * function key or a control (Enter, an arrow) is a key of its own, typed
 * quickly after Esc: Esc then Enter is Cancel, then Enter.
 */
static int
curses_keys_esc_pair(int r, wint_t ch)
{
	if (r == KEY_CODE_YES)
		return 0;
	return ch == '\t' || ch == ESC_KEY || (ch >= 0x20 && ch != 127);
}

/*
 * Reads one key, waiting up to timeout_ms (-1: forever). Returns 0 with
 * *k, or -1 when none came. An Esc followed, within the Esc delay, by a
 * key that pairs with it gives that key with k->esc set; any other key
 * is left for the next read.
 */
int
curses_keys_read(int timeout_ms, struct curses_key *k)
{
	wint_t ch;
	int r;

	wtimeout(stdscr, timeout_ms);
	r = wget_wch(stdscr, &ch);
	if (r == ERR)
		return -1;
	k->esc = 0;
	k->fkey = r == KEY_CODE_YES ? (int)ch : 0;
	k->ch = r == KEY_CODE_YES ? 0 : ch;
	if (k->fkey != 0 || ch != ESC_KEY)
		return 0;
	/* curses has waited the Esc delay: what followed is already queued. */
	wtimeout(stdscr, 0);
	r = wget_wch(stdscr, &ch);
	if (r == ERR)
		return 0;
	if (!curses_keys_esc_pair(r, ch)) {
		if (r == KEY_CODE_YES)
			ungetch((int)ch);
		else
			unget_wch((wchar_t)ch);
		return 0;
	}
	k->esc = 1;
	k->fkey = 0;
	k->ch = ch;
	return 0;
}

static int
curses_binding_matches(const struct curses_binding *b, const struct curses_key *k, int keymap)
{
	if (b->keymap != K_ANY && !(b->keymap & keymap))
		return 0;
	if (b->fkey != 0)
		return b->fkey == k->fkey;
	return k->fkey == 0 && b->ch == k->ch && b->esc == k->esc;
}

enum curses_action
curses_keys_action(const struct curses_key *k, int keymap)
{
	size_t i;

	for (i = 0; i < sizeof curses_bindings / sizeof curses_bindings[0]; i++)
		if (curses_binding_matches(&curses_bindings[i], k, keymap))
			return curses_bindings[i].action;
	if (k->fkey != 0 || k->ch < 0x20 || k->ch == 127 || (k->ch >= 0x80 && k->ch < 0xa0))
		return CA_NONE;
	return k->esc ? CA_HOTKEY : CA_CHAR;
}

/* The keys section of the F1 help, translated, in two aligned columns (welcome: with F3). */
char *
curses_keys_help(int welcome)
{
	size_t i, n = sizeof curses_key_help / sizeof curses_key_help[0], w, widest = 0;
	char *out = xstrdup(""), *next;

	for (i = 0; i < n; i++) {
		if (curses_key_help[i].welcome && !welcome)
			continue;
		w = *curses_key_help[i].keys != '\0' ? width_of(_(curses_key_help[i].keys)) : 0;
		if (w > widest && w < 24)
			widest = w;
	}
	for (i = 0; i < n; i++) {
		const char *keys = *curses_key_help[i].keys != '\0' ? _(curses_key_help[i].keys) :
								      "";

		if (curses_key_help[i].welcome && !welcome)
			continue;

		w = width_of(keys);
		next = xasprintf("%s  %s%*s  %s\n", out, keys, w < widest ? (int)(widest - w) : 0,
		    "", _(curses_key_help[i].what));
		free(out);
		out = next;
	}
	next = xasprintf("%s\n%s", out,
	    _("On a terminal without function keys (a serial line, some KVMs), press Esc and "
	      "then the digit: Esc 1 for F1, Esc 2 for F2, Esc 3 for F3, Esc 4 for F4, Esc 0 for "
	      "F10. Press it within a third of a second; Esc alone waits that long."));
	free(out);
	return next;
}
