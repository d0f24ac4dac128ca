/*
 * The language box (F3 on the first screen): English and every language
 * of po/LINGUAS, each by its own name, the one in use marked (*). Up and
 * Down move, Enter takes the language, Esc leaves it as it is.
 *
 * A language this terminal cannot show (no UTF-8, or Chinese, Japanese or
 * Korean on the Linux console) is listed by its English name; taking it
 * says so in English, the language stays, and the box stays open.
 * Otherwise the switch holds for the rest of the run: the welcome form
 * hands FE_AGAIN to the engine, which asks again with its texts
 * translated anew, and everything else is translated as it is drawn.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "languages.h"
#include "width.h"
#include "wizard.h"
#include "xmalloc.h"

#define LANGUAGE_BOX_WIDTH 44

struct curses_language {
	const struct language *list;
	size_t n;
	size_t current;
	size_t sel;
	size_t top;
	struct curses_buttons buttons;
	struct curses_widget widget;
};

/* The rows the list gets: all of them where the screen is tall enough. */
static int
curses_language_rows(const struct curses_language *l, int text_rows)
{
	int rows = LINES - 2 - 5 - text_rows;

	if (rows > (int)l->n)
		rows = (int)l->n;
	return rows < 1 ? 1 : rows;
}

/* One language: "(*) Deutsch", the one in use marked, the selected one highlighted. */
static void
curses_language_row(struct wizard *w, struct curses_language *l, size_t i, int y, int x, int width)
{
	const struct language *lang = &l->list[i];
	attr_t attr = i == l->sel ? w->looks[CL_SELECTED] : A_NORMAL;
	char *why = language_unshowable(lang->code), *line;

	if (i == l->sel) {
		curses_fill(y, x, width, attr);
		curses_widget_cursor(w, y, x + 1);
	}
	line = xasprintf("%s %s", i == l->current ? "(*)" : "( )",
	    why != NULL ? lang->english : lang->name);
	curses_put(y, x, width, line, attr | (i == l->current ? A_BOLD : 0));
	free(line);
	free(why);
}

static void
curses_language_draw(struct wizard *w, struct curses_widget *wd)
{
	struct curses_language *l = wd->data;
	struct curses_rect box;
	char **text;
	size_t nt, i;
	int iw, rows, y;

	box.w = COLS - 4 < LANGUAGE_BOX_WIDTH ? COLS - 4 : LANGUAGE_BOX_WIDTH;
	iw = box.w - 4;
	/* TRANSLATORS: the text of the F3 box that lists the languages. */
	text = width_wrap(_("The language of the screens:"), (size_t)iw, &nt);
	rows = curses_language_rows(l, (int)nt);
	box.h = (int)nt + rows + 5;
	box.y = (LINES - box.h) / 2;
	box.x = (COLS - box.w) / 2;
	for (y = 0; y < box.h; y++)
		curses_fill(box.y + y, box.x, box.w, A_NORMAL);
	/* TRANSLATORS: the title of the F3 box. */
	curses_frame(&box, _("Language"), A_BOLD);
	for (i = 0; i < nt; i++)
		curses_put(box.y + 1 + (int)i, box.x + 2, iw, text[i], A_NORMAL);
	if (l->sel < l->top)
		l->top = l->sel;
	if (l->sel >= l->top + (size_t)rows)
		l->top = l->sel - (size_t)rows + 1;
	y = box.y + 2 + (int)nt;
	for (i = l->top; i < l->n && i < l->top + (size_t)rows; i++)
		curses_language_row(w, l, i, y++, box.x + 2, iw);
	curses_buttons_draw(w, &l->buttons, box.y + box.h - 2, box.x + 2, iw, 0);
	if (l->sel < l->top + (size_t)rows)
		curses_widget_cursor(w, box.y + 2 + (int)nt + (int)(l->sel - l->top), box.x + 3);
	xfree_argv(text);
}

/* Enter on a language: 1 switched, 0 the one in use, CURSES_CONTINUE one not shown here. */
static int
curses_language_take(struct wizard *w, struct curses_language *l)
{
	const struct language *lang = &l->list[l->sel];
	char *why, *text;

	if (l->sel == l->current)
		return 0;
	if ((why = language_unshowable(lang->code)) != NULL) {
		/* In English, as at start-up: the terminal may show nothing else. */
		text = xasprintf("Sorry: %s. The language stays as it is.", why);
		curses_dialog_note(w, FE_WARNING, text, NULL);
		free(text);
		free(why);
		return CURSES_CONTINUE;
	}
	language_switch(lang->code);
	return 1;
}

static int
curses_language_key(struct wizard *w, struct curses_widget *wd, enum curses_action a,
    const struct curses_key *k)
{
	struct curses_language *l = wd->data;
	int b;

	switch (a) {
	case CA_UP:
		l->sel = l->sel > 0 ? l->sel - 1 : 0;
		break;
	case CA_DOWN:
		l->sel = l->sel + 1 < l->n ? l->sel + 1 : l->sel;
		break;
	case CA_HOME:
	case CA_PAGE_UP:
		l->sel = 0;
		break;
	case CA_END:
	case CA_PAGE_DOWN:
		l->sel = l->n - 1;
		break;
	case CA_ENTER:
		return curses_language_take(w, l);
	case CA_ESCAPE:
	case CA_LANGUAGE:
		return 0;
	case CA_CHAR:
	case CA_HOTKEY:
		if ((b = curses_buttons_find(&l->buttons, k->ch)) < 0)
			break;
		return l->buttons.b[b].result == 1 ? curses_language_take(w, l) : 0;
	default:
		return CURSES_PASS;
	}
	return CURSES_CONTINUE;
}

/* Shows the box; 1 when another language was taken (and is now in use). */
int
curses_language_choose(struct wizard *w)
{
	struct curses_language l;
	struct curses_button b[2];
	const char *now = language_current();
	size_t i;
	int r;

	/* The buttons of a message box and of the Quit question: their hotkeys are known apart. */
	b[0] = (struct curses_button){ _("&OK"), 1 };
	b[1] = (struct curses_button){ _("&Cancel"), 0 };
	memset(&l, 0, sizeof l);
	l.list = languages_list(&l.n);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.list[i].code, now) == 0)
			l.current = l.sel = i;
	curses_buttons_init(&l.buttons, b, 2, 0);
	l.widget.draw = curses_language_draw;
	l.widget.key = curses_language_key;
	l.widget.data = &l;
	r = curses_loop_run(w, &l.widget);
	return r == 1;
}
