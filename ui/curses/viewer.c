/*
 * A scrollable, searchable text over the whole screen: F1's help (the
 * step's full text and the keys) and F2's transcript. The text is escaped
 * (the transcript holds service output) and wrapped by display width again
 * whenever the width changes. "/" asks for a search (case-insensitive), "n"
 * and "N" find the next and the previous match; the line with the match is
 * brought into view and the match highlighted.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "width.h"
#include "wizard.h"
#include "xmalloc.h"

struct curses_viewer {
	const char *title;
	char *text; /* escaped */
	char **lines;
	size_t nlines;
	int wrapped_at;
	long top;
	int at_end;
	int searching;
	struct curses_entry *search;
	char *pattern;
	long match; /* the line of the match shown, or -1 */
	const char *message;
	struct curses_widget widget;
};

static int
curses_viewer_rows(void)
{
	return LINES > 2 ? LINES - 2 : 1;
}

static void
curses_viewer_wrap(struct curses_viewer *v)
{
	if (v->lines != NULL && v->wrapped_at == COLS)
		return;
	xfree_argv(v->lines);
	v->lines = width_wrap(v->text, COLS > 3 ? (size_t)COLS - 2 : 1, &v->nlines);
	v->wrapped_at = COLS;
	v->match = -1;
}

static void
curses_viewer_clamp(struct curses_viewer *v)
{
	long max = (long)v->nlines - curses_viewer_rows();

	if (v->at_end) {
		v->top = max;
		v->at_end = 0;
	}
	if (v->top > max)
		v->top = max;
	if (v->top < 0)
		v->top = 0;
}

/* Highlights the match on its line, drawn at row y. */
static void
curses_viewer_mark(struct wizard *w, struct curses_viewer *v, const char *line, int y)
{
	const char *hit = strcasestr(line, v->pattern);
	char *word;
	int col;

	if (hit == NULL)
		return;
	col = (int)width_of_n(line, (size_t)(hit - line));
	word = xstrndup(hit, strlen(v->pattern));
	curses_put(y, 1 + col, COLS - 2 - col, word, w->looks[CL_MATCH]);
	free(word);
}

static void
curses_viewer_status(struct wizard *w, struct curses_viewer *v)
{
	char *s;
	long last = v->top + curses_viewer_rows();

	if (v->searching) {
		/* TRANSLATORS: the viewer's search prompt; keep it short. */
		int pw = curses_put(LINES - 1, 0, COLS, _("Search: "), w->looks[CL_HINT_KEY]);

		curses_entry_draw(w, v->search, LINES - 1, pw, COLS - pw - 1, 0, 1);
		return;
	}
	if (last > (long)v->nlines)
		last = (long)v->nlines;
	/* TRANSLATORS: the viewer's status line. */
	s = xasprintf(
	    _("Lines %ld-%ld of %zu   %s   Arrows, PgUp, PgDn scroll  / Search  n Next  Esc Close"),
	    v->nlines > 0 ? v->top + 1 : 0, last, v->nlines, v->message != NULL ? v->message : "");
	curses_put(LINES - 1, 0, COLS, s, w->looks[CL_TITLE]);
	free(s);
	curses_widget_cursor(w, LINES - 1, 0);
}

static void
curses_viewer_draw(struct wizard *w, struct curses_widget *wd)
{
	struct curses_viewer *v = wd->data;
	char *title;
	int y;

	curses_viewer_wrap(v);
	curses_viewer_clamp(v);
	for (y = 0; y < LINES; y++)
		curses_fill(y, 0, COLS, A_NORMAL);
	title = xasprintf("kmsrecover - %s", v->title);
	curses_fill(0, 0, COLS, w->looks[CL_TITLE]);
	curses_put(0, 1, COLS - 2, title, w->looks[CL_TITLE]);
	free(title);
	curses_fill(LINES - 1, 0, COLS, w->looks[CL_TITLE]);
	for (y = 0; y < curses_viewer_rows() && v->top + y < (long)v->nlines; y++) {
		const char *line = v->lines[v->top + y];

		curses_put(1 + y, 1, COLS - 2, line, A_NORMAL);
		if (v->pattern != NULL && v->top + y == v->match)
			curses_viewer_mark(w, v, line, 1 + y);
	}
	curses_viewer_status(w, v);
}

/* Finds the pattern from line from on, forward (dir 1) or back (-1), wrapping. */
static void
curses_viewer_find(struct curses_viewer *v, long from, int dir)
{
	long i, n = (long)v->nlines, at;

	v->message = NULL;
	if (v->pattern == NULL || *v->pattern == '\0' || n == 0)
		return;
	for (i = 0; i < n; i++) {
		at = ((from + dir * i) % n + n) % n;
		if (strcasestr(v->lines[at], v->pattern) != NULL) {
			v->match = at;
			if (at < v->top || at >= v->top + curses_viewer_rows())
				v->top = at - curses_viewer_rows() / 3;
			return;
		}
	}
	v->match = -1;
	/* TRANSLATORS: the viewer's status when a search finds nothing. */
	v->message = _("Not found");
}

static int
curses_viewer_search_key(struct curses_viewer *v, enum curses_action a, const struct curses_key *k)
{
	if (a == CA_ESCAPE) {
		v->searching = 0;
		return CURSES_CONTINUE;
	}
	if (a == CA_ENTER) {
		v->searching = 0;
		free(v->pattern);
		v->pattern = curses_entry_text(v->search);
		curses_viewer_find(v, v->match >= 0 ? v->match + 1 : v->top, 1);
		return CURSES_CONTINUE;
	}
	if (curses_entry_key(v->search, a, k, 0))
		return CURSES_CONTINUE;
	return a == CA_RESIZE || a == CA_REDRAW || a == CA_QUIT ? CURSES_PASS : CURSES_CONTINUE;
}

static int
curses_viewer_key(struct wizard *w, struct curses_widget *wd, enum curses_action a,
    const struct curses_key *k)
{
	struct curses_viewer *v = wd->data;
	long page = curses_viewer_rows() - 1;

	(void)w;
	if (v->searching)
		return curses_viewer_search_key(v, a, k);
	switch (a) {
	case CA_UP:
		v->top--;
		break;
	case CA_DOWN:
	case CA_ENTER:
		v->top++;
		break;
	case CA_PAGE_UP:
		v->top -= page;
		break;
	case CA_PAGE_DOWN:
		v->top += page;
		break;
	case CA_HOME:
		v->top = 0;
		break;
	case CA_END:
		v->at_end = 1;
		break;
	case CA_SEARCH:
		v->searching = 1;
		curses_entry_clear(v->search);
		break;
	case CA_SEARCH_NEXT:
		curses_viewer_find(v, v->match >= 0 ? v->match + 1 : v->top, 1);
		break;
	case CA_SEARCH_PREV:
		curses_viewer_find(v, v->match >= 0 ? v->match - 1 : v->top, -1);
		break;
	case CA_ESCAPE:
	case CA_CLOSE:
	case CA_HELP:
	case CA_TRANSCRIPT:
		return 0;
	default:
		return CURSES_PASS;
	}
	return CURSES_CONTINUE;
}

static int
curses_viewer_keymap(struct curses_widget *wd)
{
	struct curses_viewer *v = wd->data;

	return v->searching ? CURSES_KEYS_TEXT : CURSES_KEYS_VIEWER;
}

/* Shows text until the operator closes it; at_end starts at the bottom. */
void
curses_viewer_run(struct wizard *w, const char *title, const char *text, int at_end)
{
	struct curses_viewer v;
	size_t len;

	memset(&v, 0, sizeof v);
	v.title = title;
	v.text = width_escape(text, WIDTH_KEEP_NEWLINES | WIDTH_EXPAND_TABS);
	len = strlen(v.text);
	while (len > 0 && v.text[len - 1] == '\n')
		v.text[--len] = '\0';
	v.at_end = at_end;
	v.match = -1;
	v.search = curses_entry_new(256, 0);
	v.widget.draw = curses_viewer_draw;
	v.widget.key = curses_viewer_key;
	v.widget.keymap = curses_viewer_keymap;
	v.widget.data = &v;
	curses_loop_run(w, &v.widget);
	curses_entry_free(v.search);
	xfree_argv(v.lines);
	free(v.pattern);
	free(v.text);
}
