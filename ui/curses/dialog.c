/*
 * The boxes: overlays over the wizard's panes. The engine's warnings and
 * errors (note()) with the service's own output in a scrollable frame, the
 * Quit confirmation that says what state Kmsdata and the service are in,
 * and the question whether to stop work in progress. Esc is Cancel in a
 * box. The questions asked in the main pane are form.c's.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "width.h"
#include "wizard.h"
#include "xmalloc.h"

struct curses_dialog {
	enum fe_level level;
	const char *title;
	char *text;   /* escaped */
	char *detail; /* escaped, or NULL */
	struct curses_buttons buttons;
	int esc_result;  /* what Esc answers, or CURSES_CONTINUE */
	int quit_result; /* what F10 answers, or CURSES_PASS */
	long detail_top;
	long detail_max;
	struct curses_widget widget;
};

static attr_t
curses_dialog_look(struct wizard *w, enum fe_level level)
{
	if (level == FE_ERROR_LEVEL)
		return w->looks[CL_ERROR];
	return level == FE_WARNING ? w->looks[CL_WARNING] : A_NORMAL;
}

/* The detail's frame and the part of it in view, from row y. */
static void
curses_dialog_detail(struct wizard *w, struct curses_dialog *d, char **lines, size_t n,
    const struct curses_rect *r)
{
	int i;

	d->detail_max = (long)n - (r->h - 2);
	if (d->detail_top > d->detail_max)
		d->detail_top = d->detail_max;
	if (d->detail_top < 0)
		d->detail_top = 0;
	/* TRANSLATORS: the frame around a service's own output in a message box. */
	curses_frame(r, _("Output"), w->looks[CL_DIM]);
	for (i = 0; i < r->h - 2 && d->detail_top + i < (long)n; i++)
		curses_put(r->y + 1 + i, r->x + 2, r->w - 4, lines[d->detail_top + i], A_NORMAL);
	if (d->detail_max > 0)
		curses_put(r->y + r->h - 1, r->x + r->w - 20, 18, _(" Up/Down: scroll "),
		    w->looks[CL_DIM]);
}

/* Rows for the text and the detail within the screen's height. */
static void
curses_dialog_rows(size_t nt, size_t nd, int has_detail, int *tr, int *dr)
{
	int maxh = LINES - 2, fixed = 5 + (has_detail ? 3 : 0);

	*tr = (int)nt;
	*dr = has_detail ? (int)nd : 0;
	if (*tr > maxh - fixed - (has_detail ? 3 : 0))
		*tr = maxh - fixed - (has_detail ? 3 : 0);
	if (*tr < 1)
		*tr = 1;
	if (has_detail && *dr > maxh - fixed - *tr)
		*dr = maxh - fixed - *tr;
	if (has_detail && *dr < 1)
		*dr = 1;
}

static void
curses_dialog_draw(struct wizard *w, struct curses_widget *wd)
{
	struct curses_dialog *d = wd->data;
	struct curses_rect box, det;
	char **tl, **dl = NULL;
	size_t nt, nd = 0;
	int bw = COLS - 4 > 76 ? 76 : COLS - 4, iw = bw - 4, tr, dr, i;

	tl = width_wrap(d->text, (size_t)iw, &nt);
	if (d->detail != NULL)
		dl = width_wrap(d->detail, (size_t)iw - 4, &nd);
	curses_dialog_rows(nt, nd, d->detail != NULL, &tr, &dr);
	box.w = bw;
	box.h = tr + 5 + (d->detail != NULL ? dr + 3 : 0);
	box.y = (LINES - box.h) / 2;
	box.x = (COLS - box.w) / 2;
	for (i = 0; i < box.h; i++)
		curses_fill(box.y + i, box.x, box.w, A_NORMAL);
	curses_frame(&box, d->title, curses_dialog_look(w, d->level) | A_BOLD);
	for (i = 0; i < tr; i++)
		curses_put(box.y + 2 + i, box.x + 2, iw, tl[i], A_NORMAL);
	if (d->detail != NULL) {
		det.y = box.y + 3 + tr;
		det.x = box.x + 2;
		det.h = dr + 2;
		det.w = iw;
		curses_dialog_detail(w, d, dl, nd, &det);
	}
	curses_buttons_draw(w, &d->buttons, box.y + box.h - 2, box.x + 2, iw, 1);
	xfree_argv(tl);
	xfree_argv(dl);
}

static int
curses_dialog_key(struct wizard *w, struct curses_widget *wd, enum curses_action a,
    const struct curses_key *k)
{
	struct curses_dialog *d = wd->data;
	int i;

	(void)w;
	switch (a) {
	case CA_LEFT:
	case CA_PREV:
		d->buttons.focus = (d->buttons.focus + d->buttons.n - 1) % d->buttons.n;
		break;
	case CA_RIGHT:
	case CA_NEXT:
		d->buttons.focus = (d->buttons.focus + 1) % d->buttons.n;
		break;
	case CA_UP:
		d->detail_top--;
		break;
	case CA_DOWN:
		d->detail_top++;
		break;
	case CA_PAGE_UP:
		d->detail_top -= 5;
		break;
	case CA_PAGE_DOWN:
		d->detail_top += 5;
		break;
	case CA_ENTER:
		return d->buttons.b[d->buttons.focus].result;
	case CA_ESCAPE:
		return d->esc_result;
	case CA_QUIT:
		return d->quit_result;
	case CA_CHAR:
	case CA_HOTKEY:
		if (k->ch == ' ')
			return d->buttons.b[d->buttons.focus].result;
		if ((i = curses_buttons_find(&d->buttons, k->ch)) >= 0)
			return d->buttons.b[i].result;
		break;
	default:
		return CURSES_PASS;
	}
	return CURSES_CONTINUE;
}

/* A tool's output, escaped, without the blank lines at its end; NULL when empty. */
static char *
curses_dialog_detail_text(const char *detail)
{
	char *text;
	size_t len;

	if (detail == NULL)
		return NULL;
	text = width_escape(detail, WIDTH_KEEP_NEWLINES | WIDTH_EXPAND_TABS);
	len = strlen(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (len > 0)
		return text;
	free(text);
	return NULL;
}

/*
 * Shows a box until a button is pressed; returns that button's result
 * (esc_result for Esc), or CURSES_UNWIND when the terminal went away or
 * quitting was confirmed meanwhile.
 */
int
curses_dialog_run(struct wizard *w, enum fe_level level, const char *title, const char *text,
    const char *detail, const struct curses_button *b, int nb, int def, int esc_result)
{
	struct curses_dialog d;
	int r;

	memset(&d, 0, sizeof d);
	d.level = level;
	d.title = title;
	d.text = width_escape(text, WIDTH_KEEP_NEWLINES | WIDTH_EXPAND_TABS);
	d.detail = curses_dialog_detail_text(detail);
	curses_buttons_init(&d.buttons, b, nb, def);
	d.esc_result = esc_result;
	d.quit_result = CURSES_PASS;
	d.widget.draw = curses_dialog_draw;
	d.widget.key = curses_dialog_key;
	d.widget.data = &d;
	if (w->in_quit)
		d.quit_result = b[0].result;
	r = curses_loop_run(w, &d.widget);
	free(d.text);
	free(d.detail);
	return r;
}

void
curses_dialog_note(struct wizard *w, enum fe_level level, const char *text, const char *detail)
{
	/* TRANSLATORS: the one button of a message box; '&' marks its hotkey. */
	struct curses_button ok = { _("&OK"), 0 };
	const char *title;
	char *full;

	if (level == FE_ERROR_LEVEL)
		title = _("Error");
	else if (level == FE_WARNING)
		title = _("Warning");
	else
		title = _("Note");
	if (level == FE_ERROR_LEVEL && w->view != NULL && w->view->transcript_path != NULL)
		full = xasprintf("%s\n\n%s", text,
		    _("The transcript (F2) shows every step taken."));
	else
		full = xstrdup(text);
	curses_dialog_run(w, level, title, full, detail, &ok, 1, 0, 0);
	free(full);
}

/* Asks whether to quit; 1 when the operator confirms. */
int
curses_dialog_quit(struct wizard *w)
{
	/* TRANSLATORS: the buttons of the Quit question; '&' marks the hotkeys. */
	struct curses_button b[] = { { _("&Quit"), 1 }, { _("&Cancel"), 0 } };
	const char *state = w->view != NULL ? w->view->state_text : NULL;
	char *text;
	int r;

	/* The state says what a later run offers; without it, say it here. */
	text = xasprintf("%s\n\n%s", _("Quit kmsrecover now?"),
	    state != NULL ?
		state :
		_("You can run kmsrecover again later: it finds where this run stopped and offers to "
		  "resume or roll back."));
	r = curses_dialog_run(w, FE_WARNING, _("Quit"), text, NULL, b, 2, 1, 0);
	free(text);
	return r == 1;
}

/* Asks whether to stop the work in progress; 1 when the operator says so. */
int
curses_dialog_stop(struct wizard *w)
{
	/* TRANSLATORS: the buttons of the Stop question; '&' marks the hotkeys. */
	struct curses_button b[] = { { _("&Stop"), 1 }, { _("C&ontinue"), 0 } };
	const char *state = w->view != NULL ? w->view->state_text : NULL;
	char *text;
	int r;

	text = xasprintf("%s\n\n%s%s%s", _("Stop the work in progress?"),
	    _("The work is paused while this question is open. If you stop it, it stops at the "
	      "next safe point and kmsrecover tells you what state things are in."),
	    state != NULL ? "\n\n" : "", state != NULL ? state : "");
	r = curses_dialog_run(w, FE_WARNING, _("Stop"), text, NULL, b, 2, 1, 0);
	free(text);
	return r == 1;
}
