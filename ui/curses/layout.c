/*
 * The screen's parts (the "Layout"):
 *
 *   kmsrecover - MSExchangeKMS - Step 3 of 7: Delete all files in Kmsdata
 *   +- Steps ------------+ +- Recover the KM Server --------------------+
 *   | P Prerequisites    | | the step's explanation, wrapped by display |
 *   |     [ done ]       | | width; "What will be done:" and the action;|
 *   | > 3 Delete all ... | | the question's title and text (scrolls     |
 *   |     [ in progress ]| | with PgUp/PgDn)                            |
 *   |                    | | the pane widget: fields, list, gauge,      |
 *   |                    | |          < Yes >   < No >                  |
 *   +--------------------+ +--------------------------------------------+
 *    F1 Help  F2 Transcript  F10 Quit  (also Esc 1, 2, 0)  Tab Move ...
 *
 * A larger terminal gives the panes the room (the step list up to what its
 * longest title needs); a smaller one, down to 76x20, shortens the step
 * list to the steps around the current one, and the key bar keeps its
 * essential keys. Below that only the "too small" screen is drawn, here
 * and nowhere else. Also the drawing helpers
 * every widget uses: clipped text by display width, frames.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "width.h"
#include "wizard.h"
#include "xmalloc.h"

#define DOC_MAX_PARAS 160

struct curses_para {
	char *text;  /* escaped */
	char *label; /* escaped, drawn left of the first line (in the indent); or NULL */
	attr_t attr;
	attr_t label_attr;
	int indent;
};

struct curses_doc {
	struct curses_para p[DOC_MAX_PARAS];
	int n;
	int question; /* the paragraph the question starts at, or -1 */
};

int
curses_put(int y, int x, int cols, const char *s, attr_t attr)
{
	char *cut;
	int used;

	if (cols <= 0 || y < 0 || y >= LINES || x < 0 || x >= COLS)
		return 0;
	if (x + cols > COLS)
		cols = COLS - x;
	cut = width_truncate(s, (size_t)cols);
	used = (int)width_of(cut);
	attrset(attr);
	mvaddstr(y, x, cut);
	attrset(A_NORMAL);
	free(cut);
	return used;
}

/* Like curses_put, but a string too long loses its start: a path keeps its file name. */
int
curses_put_tail(int y, int x, int cols, const char *s, attr_t attr)
{
	const char *ell = width_ellipsis();
	size_t total = width_of(s), room, skip, used;
	char *line;
	int n;

	if (cols <= 0 || total <= (size_t)cols)
		return curses_put(y, x, cols, s, attr);
	room = (size_t)cols > width_of(ell) ? (size_t)cols - width_of(ell) : 0;
	skip = width_fit(s, total - room, &used);
	if (used < total - room)
		skip = width_fit(s, total - room + 1, &used);
	line = xasprintf("%s%s", ell, s + skip);
	n = curses_put(y, x, cols, line, attr);
	free(line);
	return n;
}

void
curses_fill(int y, int x, int cols, attr_t attr)
{
	if (cols <= 0 || y < 0 || y >= LINES)
		return;
	attrset(attr);
	mvhline(y, x, ' ', cols);
	attrset(A_NORMAL);
}

void
curses_frame(const struct curses_rect *r, const char *title, attr_t attr)
{
	int i;

	attrset(attr);
	mvaddch(r->y, r->x, ACS_ULCORNER);
	mvhline(r->y, r->x + 1, ACS_HLINE, r->w - 2);
	mvaddch(r->y, r->x + r->w - 1, ACS_URCORNER);
	for (i = 1; i < r->h - 1; i++) {
		mvaddch(r->y + i, r->x, ACS_VLINE);
		mvaddch(r->y + i, r->x + r->w - 1, ACS_VLINE);
	}
	mvaddch(r->y + r->h - 1, r->x, ACS_LLCORNER);
	mvhline(r->y + r->h - 1, r->x + 1, ACS_HLINE, r->w - 2);
	mvaddch(r->y + r->h - 1, r->x + r->w - 1, ACS_LRCORNER);
	attrset(A_NORMAL);
	if (title != NULL && *title != '\0' && r->w > 6) {
		char *t = xasprintf(" %s ", title);

		curses_put(r->y, r->x + 2, r->w - 4, t, attr | A_BOLD);
		free(t);
	}
}

int
curses_layout_too_small(void)
{
	return LINES < CURSES_MIN_LINES || COLS < CURSES_MIN_COLS;
}

/* The one "too small" screen: the size needed, and the way out. */
static void
curses_layout_draw_too_small(struct wizard *w)
{
	char *text, *line, **lines;
	size_t n, i;
	int y;

	/* TRANSLATORS: shown on a terminal below 76x20; keep "at least %dx%d" short. */
	line = xasprintf(_("This terminal is %dx%d; kmsrecover needs at least %dx%d.\n"
			   "Make the window larger, or press F10 to quit."),
	    COLS, LINES, CURSES_MIN_COLS, CURSES_MIN_LINES);
	/* TRANSLATORS: after "... press F10 to quit." on the "too small" screen. */
	text = xasprintf("%s\n%s", line,
	    _("Or run kmsrecover again with --frontend text: it asks its questions line by "
	      "line and works on any terminal."));
	free(line);
	lines = width_wrap(text, COLS > 2 ? (size_t)COLS - 2 : 1, &n);
	y = (LINES - (int)n) / 2;
	if (y < 1)
		y = 1;
	curses_put(0, 0, COLS, "kmsrecover", w->looks[CL_TITLE]);
	for (i = 0; i < n && y + (int)i < LINES; i++)
		curses_put(y + (int)i, 1, COLS - 2, lines[i],
		    i == 0 ? w->looks[CL_WARNING] : A_NORMAL);
	curses_widget_cursor(w, y > 0 ? y : 0, 1);
	xfree_argv(lines);
	free(text);
}

/* How many of the view's steps are the KB's numbered ones ("of 7"). */
static int
curses_layout_kb_steps(const struct fe_view *v)
{
	size_t i;
	int n = 0;

	for (i = 0; v != NULL && i < v->nsteps; i++)
		if (v->steps[i].id != NULL && v->steps[i].id[0] >= '0' && v->steps[i].id[0] <= '9')
			n++;
	return n;
}

static void
curses_layout_title(struct wizard *w)
{
	const char *service = w->view != NULL && w->view->service_name != NULL ?
	    w->view->service_name :
	    "";
	char *where, *line;

	if (w->summary != NULL)
		where = xstrdup(_("Finished"));
	else if (w->welcome || !w->step.shown)
		where = xstrdup(_("Welcome"));
	else if (w->step.number > 0)
		/* TRANSLATORS: the title line; "Step 3 of 7: Stop the KM Server service". */
		where = xasprintf(_("Step %d of %d: %s"), w->step.number,
		    curses_layout_kb_steps(w->view), w->step.title);
	else
		where = xstrdup(w->step.title);
	line = xasprintf("kmsrecover - %s%s%s", service, *service != '\0' ? " - " : "", where);
	curses_fill(0, 0, COLS, w->looks[CL_TITLE]);
	curses_put(0, 1, COLS - 2, line, w->looks[CL_TITLE]);
	free(line);
	free(where);
}

static const char *
curses_layout_state_word(enum fe_step_state s)
{
	switch (s) {
	case FE_STEP_RUNNING:
		/* TRANSLATORS: a step's state in the step list; keep it under 12 columns. */
		return _("in progress");
	case FE_STEP_DONE:
		return _("done");
	case FE_STEP_FAILED:
		return _("failed");
	case FE_STEP_SKIPPED:
		return _("skipped");
	default:
		return _("pending");
	}
}

static attr_t
curses_layout_state_look(struct wizard *w, enum fe_step_state s)
{
	switch (s) {
	case FE_STEP_RUNNING:
		return w->looks[CL_RUNNING];
	case FE_STEP_DONE:
		return w->looks[CL_DONE];
	case FE_STEP_FAILED:
		return w->looks[CL_FAILED];
	default:
		return w->looks[CL_DIM];
	}
}

/* One step of the list: on one line, or with its state on a second. */
static void
curses_layout_step(struct wizard *w, size_t i, int y, int x, int width, int two)
{
	const struct fe_step *s = &w->view->steps[i];
	int current = (int)i == w->view->current;
	char *name, *state;
	int sw;

	name = xasprintf("%s %s %s", current ? ">" : " ", s->id, gettext(s->title));
	state = xasprintf("[ %s ]", curses_layout_state_word(s->state));
	sw = (int)width_of(state);
	if (two) {
		curses_put(y, x, width, name, current ? w->looks[CL_HEADING] : A_NORMAL);
		curses_put(y + 1, x + 4, width - 4, state, curses_layout_state_look(w, s->state));
	} else {
		curses_put(y, x, width - sw - 1, name, current ? w->looks[CL_HEADING] : A_NORMAL);
		curses_put(y, x + width - sw, sw, state, curses_layout_state_look(w, s->state));
	}
	if (current && w->base == NULL)
		curses_widget_cursor(w, y, x);
	free(state);
	free(name);
}

/*
 * The step list: each step on two lines (its name, then its state) where
 * they all fit; else, as many as fit on two lines each, around the current
 * step, the frame saying that there are more above or below; and only on a
 * screen too low even for that, one line each.
 */
static void
curses_layout_steps(struct wizard *w, const struct curses_rect *r)
{
	int inner = r->h - 2, two, y, shown, first, cur;
	size_t i, n;

	curses_frame(r, _("Steps"), A_NORMAL);
	if (w->view == NULL || w->view->steps == NULL)
		return;
	n = w->view->nsteps;
	two = inner >= 2 * 4 || (int)(2 * n) <= inner;
	shown = two ? inner / 2 : inner;
	if (shown > (int)n)
		shown = (int)n;
	cur = w->view->current < 0 ? 0 : w->view->current;
	/* The current step in view, with the one after it where there is room. */
	first = cur + 2 - shown;
	if (first > (int)n - shown)
		first = (int)n - shown;
	if (first < 0)
		first = 0;
	y = r->y + 1;
	for (i = (size_t)first; i < (size_t)first + (size_t)shown; i++) {
		curses_layout_step(w, i, y, r->x + 1, r->w - 2, two);
		y += two ? 2 : 1;
	}
	if (first > 0)
		curses_put(r->y, r->x + r->w - 5, 3, "...", w->looks[CL_DIM]);
	if (first + shown < (int)n)
		curses_put(r->y + r->h - 1, r->x + r->w - 5, 3, "...", w->looks[CL_DIM]);
}

/* The step list's width: what its longest name needs, within the room the pane leaves. */
static int
curses_layout_steps_width(const struct wizard *w)
{
	int base = COLS * 3 / 10, most, need = 0, nw;
	size_t i;
	char *name;

	base = base < 24 ? 24 : (base > 36 ? 36 : base);
	/* The main pane keeps at least 56 columns, and the step list two fifths at most. */
	most = COLS * 2 / 5 < COLS - 56 ? COLS * 2 / 5 : COLS - 56;
	for (i = 0; w->view != NULL && w->view->steps != NULL && i < w->view->nsteps; i++) {
		name = xasprintf("> %s %s", w->view->steps[i].id, gettext(w->view->steps[i].title));
		nw = (int)width_of(name) + 3; /* its frame, and a blank before the right one */
		need = nw > need ? nw : need;
		free(name);
	}
	if (need > most)
		need = most;
	return need > base ? need : base;
}

/* Adds a paragraph (text and label escaped, taken over); its index, or -1 when full. */
static int
curses_doc_push(struct curses_doc *d, char *text, char *label, attr_t attr, int indent)
{
	if (d->n >= DOC_MAX_PARAS) {
		free(text);
		free(label);
		return -1;
	}
	d->p[d->n].text = text;
	d->p[d->n].label = label;
	d->p[d->n].attr = attr;
	d->p[d->n].label_attr = attr;
	d->p[d->n].indent = indent;
	return d->n++;
}

/* The bytes of a list item's mark at the start of a line ("  - ", "* ", "• "), or 0. */
static size_t
curses_doc_bullet(const char *line)
{
	size_t n = strspn(line, " ");

	if ((line[n] == '-' || line[n] == '*') && line[n + 1] == ' ')
		n += 2;
	else if (strncmp(line + n, "\xe2\x80\xa2 ", 4) == 0)
		n += 4;
	else
		return 0;
	return n + strspn(line + n, " ");
}

static int
curses_doc_has_list(const char *text)
{
	const char *line = text;

	for (;;) {
		if (curses_doc_bullet(line) > 0)
			return 1;
		if ((line = strchr(line, '\n')) == NULL)
			return 0;
		line++;
	}
}

/*
 * Adds text from column indent. A text with a list in it is split into its
 * lines, each item's mark drawn in the indent, so that an item's wrapped
 * lines line up under its text and not under the margin. Returns the index
 * of the first paragraph added, or -1.
 */
static int
curses_doc_add(struct curses_doc *d, const char *text, attr_t attr, int indent)
{
	char *esc, *line, *next, *mark;
	size_t b;
	int i, first = -1;

	if (text == NULL)
		return -1;
	esc = width_escape(text, WIDTH_KEEP_NEWLINES | WIDTH_EXPAND_TABS);
	if (!curses_doc_has_list(esc))
		return curses_doc_push(d, esc, NULL, attr, indent);
	for (line = esc; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		b = curses_doc_bullet(line);
		mark = b > 0 ? xasprintf("%*s%.*s", indent, "", (int)b, line) : NULL;
		i = curses_doc_push(d, xstrdup(line + b), mark, attr,
		    mark != NULL ? (int)width_of(mark) : indent);
		if (first < 0)
			first = i;
	}
	free(esc);
	return first;
}

static void
curses_doc_free(struct curses_doc *d)
{
	int i;

	for (i = 0; i < d->n; i++) {
		free(d->p[i].text);
		free(d->p[i].label);
	}
	d->n = 0;
}

/* The engine's welcome text; what the operator needs when it says nothing. */
static void
curses_doc_welcome(struct wizard *w, struct curses_doc *d)
{
	const struct fe_question *q = w->q;

	if (q != NULL && q->title != NULL)
		curses_doc_add(d, q->title, w->looks[CL_HEADING], 0);
	if (q != NULL && q->text != NULL) {
		curses_doc_add(d, q->text, 0, 0);
		return;
	}
	curses_doc_add(d,
	    _("kmsrecover restores the Key Management Server's data (Kmsdata) from a backup "
	      "and starts the service again with its original password, following Microsoft's "
	      "KB Q198814 step by step. It asks before each step that changes anything."),
	    0, 0);
	curses_doc_add(d, "", 0, 0);
	curses_doc_add(d, _("You will need:"), w->looks[CL_HEADING], 0);
	curses_doc_add(d, _("- the backup of Kmsdata: an archive file or a folder;"), 0, 2);
	curses_doc_add(d,
	    _("- the ORIGINAL startup password (the \"alpha string\", 14 or 15 letters) "
	      "or the startup disk made when the KM Server was first installed. The new "
	      "one made by reinstalling will not unlock the restored data."),
	    0, 2);
}

static void
curses_doc_summary(struct wizard *w, struct curses_doc *d)
{
	const struct fe_summary *s = w->summary;
	size_t i, lw, widest = 0;
	char *line;
	int k;

	curses_doc_add(d, s->title, w->looks[s->success ? CL_SUCCESS : CL_ERROR], 0);
	curses_doc_add(d, "", 0, 0);
	for (i = 0; i < s->nentries; i++) {
		lw = width_of(s->entries[i].label);
		if (lw > 0 && s->entries[i].label[strlen(s->entries[i].label) - 1] == ':')
			lw--;
		if (lw > widest && lw < 24)
			widest = lw;
	}
	for (i = 0; i < s->nentries; i++) {
		k = curses_doc_add(d, s->entries[i].value != NULL ? s->entries[i].value : "", 0,
		    (int)widest + 2);
		if (k >= 0 && d->p[k].label == NULL) {
			lw = strlen(s->entries[i].label);
			line = xasprintf("%s%s", s->entries[i].label,
			    lw > 0 && s->entries[i].label[lw - 1] == ':' ? "" : ":");
			d->p[k].label = width_escape(line, 0);
			d->p[k].label_attr = A_BOLD;
			free(line);
		}
	}
	if (s->reminder != NULL) {
		curses_doc_add(d, "", 0, 0);
		curses_doc_add(d, s->reminder, w->looks[CL_WARNING], 0);
	}
}

static void
curses_doc_step(struct wizard *w, struct curses_doc *d)
{
	size_t i;

	curses_doc_add(d, w->step.title, w->looks[CL_HEADING], 0);
	curses_doc_add(d, w->step.explanation, 0, 0);
	if (w->step.action != NULL) {
		curses_doc_add(d, "", 0, 0);
		curses_doc_add(d, _("What will be done:"), w->looks[CL_HEADING], 0);
		curses_doc_add(d, w->step.action, 0, 2);
	}
	for (i = 0; i < w->nnotes; i++) {
		if (i == 0)
			curses_doc_add(d, "", 0, 0);
		curses_doc_add(d, w->notes[i], w->looks[CL_DIM], 0);
	}
}

/*
 * The question's text, or NULL when there is none or it only repeats the
 * step's "What will be done:" (the engine gives the action as the text for
 * the frontends that show no step).
 */
static const char *
curses_question_text(const struct wizard *w)
{
	const char *text = w->q != NULL ? w->q->text : NULL;

	if (text != NULL && w->step.shown && w->step.action != NULL &&
	    strcmp(text, w->step.action) == 0)
		return NULL;
	return text;
}

/* What the main pane says, as paragraphs. */
static void
curses_doc_build(struct wizard *w, struct curses_doc *d)
{
	d->n = 0;
	d->question = -1;
	if (w->summary != NULL) {
		curses_doc_summary(w, d);
		return;
	}
	if (w->welcome) {
		curses_doc_welcome(w, d);
		return;
	}
	if (w->step.shown)
		curses_doc_step(w, d);
	if (w->q != NULL) {
		if (d->n > 0)
			curses_doc_add(d, "", 0, 0);
		d->question = d->n;
		curses_doc_add(d, w->q->title,
		    w->looks[w->q->destructive ? CL_WARNING : CL_HEADING], 0);
		curses_doc_add(d, curses_question_text(w), 0, 0);
	}
}

/* The text's lines at this width; *qline: the line the question starts at, or -1. */
static int
curses_doc_lines(const struct curses_doc *d, int width, int *qline)
{
	size_t n;
	int i, line = 0;

	*qline = -1;
	for (i = 0; i < d->n; i++) {
		if (i == d->question)
			*qline = line;
		xfree_argv(width_wrap(d->p[i].text, (size_t)(width - d->p[i].indent), &n));
		line += (int)n;
	}
	return line;
}

/* The rows the pane's text needs to be read without scrolling: the question's, or all. */
static int
curses_layout_doc_needs(struct wizard *w, int width)
{
	struct curses_doc d;
	int lines, qline;

	curses_doc_build(w, &d);
	lines = curses_doc_lines(&d, width, &qline);
	curses_doc_free(&d);
	return qline < 0 ? lines : lines - qline;
}

/* Draws the pane's text in r, scrolled; returns its number of lines. */
static int
curses_layout_doc(struct wizard *w, const struct curses_rect *r)
{
	struct curses_doc d;
	char **lines;
	size_t n, j;
	int i, line, qline, y;

	curses_doc_build(w, &d);
	line = curses_doc_lines(&d, r->w, &qline);
	if (w->doc_scroll_auto)
		w->doc_scroll = qline < 0 ? 0 : (line - r->h < qline ? line - r->h : qline);
	if (w->doc_scroll > line - r->h)
		w->doc_scroll = line - r->h;
	if (w->doc_scroll < 0)
		w->doc_scroll = 0;
	for (i = 0, y = -w->doc_scroll; i < d.n; i++) {
		lines = width_wrap(d.p[i].text, (size_t)(r->w - d.p[i].indent), &n);
		for (j = 0; j < n; j++, y++) {
			if (y < 0 || y >= r->h)
				continue;
			if (j == 0 && d.p[i].label != NULL)
				curses_put(r->y + y, r->x, d.p[i].indent, d.p[i].label,
				    d.p[i].label_attr);
			curses_put(r->y + y, r->x + d.p[i].indent, r->w - d.p[i].indent, lines[j],
			    d.p[i].attr);
		}
		xfree_argv(lines);
	}
	curses_doc_free(&d);
	return line;
}

/* The rows the pane widget gets at the pane's foot, at most all but 3. */
static int
curses_layout_foot(struct wizard *w, const struct curses_rect *inner)
{
	int h;

	if (w->base == NULL)
		return w->summary == NULL && !w->welcome ? 1 : 0;
	if (w->base->height == NULL)
		return 0;
	h = w->base->height(w, w->base, inner->w);
	if (h > inner->h - 3)
		h = inner->h - 3;
	return h < 0 ? 0 : h;
}

static void
curses_layout_pane(struct wizard *w, const struct curses_rect *r)
{
	struct curses_rect inner, text;
	const char *task = w->view != NULL ? w->view->task_title : NULL;
	int fh, lines;

	curses_frame(r, task, A_NORMAL);
	inner.y = r->y + 1;
	inner.x = r->x + 2;
	inner.h = r->h - 2;
	inner.w = r->w - 4;
	w->foot_tight = 0;
	fh = curses_layout_foot(w, &inner);
	if (fh > 0 && curses_layout_doc_needs(w, inner.w) > inner.h - fh - 1) {
		/* The widget gives up what it can spare (a list's help) for the text. */
		w->foot_tight = 1;
		fh = curses_layout_foot(w, &inner);
	}
	text = inner;
	text.h = fh > 0 ? inner.h - fh - 1 : inner.h;
	w->foot = inner;
	w->foot.y = inner.y + inner.h - fh;
	w->foot.h = fh;
	lines = curses_layout_doc(w, &text);
	w->doc_lines = lines;
	w->doc_rows = text.h;
	/* TRANSLATORS: scroll marks on the pane's border; keep them short. */
	if (w->doc_scroll > 0)
		curses_put(r->y, r->x + r->w - 18, 16, _(" PgUp: more "), w->looks[CL_DIM]);
	if (w->doc_scroll + text.h < lines)
		curses_put(r->y + r->h - 1, r->x + r->w - 18, 16, _(" PgDn: more "),
		    w->looks[CL_DIM]);
}

void
curses_layout_draw(struct wizard *w)
{
	struct curses_rect steps, pane;
	int sw;

	erase();
	w->foot.h = 0;
	if (curses_layout_too_small()) {
		curses_layout_draw_too_small(w);
		return;
	}
	sw = curses_layout_steps_width(w);
	steps.y = pane.y = 1;
	steps.h = pane.h = LINES - 2;
	steps.x = 0;
	steps.w = sw;
	pane.x = sw;
	pane.w = COLS - sw;
	curses_layout_title(w);
	curses_layout_steps(w, &steps);
	curses_layout_pane(w, &pane);
}

/* PgUp/PgDn in the pane's text. */
void
curses_layout_scroll(struct wizard *w, int pages)
{
	int step = w->doc_rows > 2 ? w->doc_rows - 1 : 1;

	w->doc_scroll_auto = 0;
	w->doc_scroll += pages * step;
	if (w->doc_scroll > w->doc_lines - w->doc_rows)
		w->doc_scroll = w->doc_lines - w->doc_rows;
	if (w->doc_scroll < 0)
		w->doc_scroll = 0;
}

/* Appends a paragraph and a blank line to a help text. */
static char *
curses_help_add(char *text, const char *para)
{
	char *next;

	if (para == NULL)
		return text;
	next = xasprintf("%s%s\n\n", text, para);
	free(text);
	return next;
}

/* A choice for the help: its label, and its one-line help when it has one. */
static char *
curses_help_choice(char *text, const struct fe_question *q, size_t i)
{
	char *plain = fe_label_plain(q->choices[i]), *line;
	const char *help = q->choice_help != NULL ? q->choice_help[i] : NULL;

	if (help == NULL || *help == '\0')
		line = xstrdup(plain);
	else
		line = xasprintf("%s: %s", plain, help);
	text = curses_help_add(text, line);
	free(line);
	free(plain);
	return text;
}

/* F1: the screen's full text, the question's choices, and the keys. */
char *
curses_help_text(struct wizard *w)
{
	char *text = xstrdup(""), *keys, *line;
	const struct fe_question *q = w->q;
	size_t i;

	if (w->step.shown && !w->welcome && w->summary == NULL) {
		text = curses_help_add(text, w->step.title);
		text = curses_help_add(text, w->step.explanation);
		if (w->step.action != NULL) {
			line = xasprintf("%s\n%s", _("What will be done:"), w->step.action);
			text = curses_help_add(text, line);
			free(line);
		}
	}
	if (q != NULL) {
		text = curses_help_add(text, q->title);
		text = curses_help_add(text, curses_question_text(w));
		for (i = 0; q->choices != NULL && i < q->nchoices; i++)
			text = curses_help_choice(text, q, i);
	}
	keys = curses_keys_help(w->welcome && w->summary == NULL);
	line = xasprintf("%s\n%s", _("Keys"), keys);
	text = curses_help_add(text, line);
	free(line);
	free(keys);
	return text;
}
