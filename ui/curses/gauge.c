/*
 * The progress gauge, a pane widget under the step's text while long work
 * runs (reading and verifying the backup into staging, waiting for the
 * service):
 *
 *   Reading and verifying the backup
 *   [#################                 45%                               ]
 *   Files: 120 of 400     Data: 12.5 MiB of 40.0 MiB
 *   Rate: 5.1 MiB/s       Time left: 0:06
 *   File: .../kmsdata/Kmsmdb.edb
 *                              < Stop >
 *
 * The counts stand in two columns where their longest forms fit side by
 * side, else each on a line of its own: a number is never cut. The rate
 * and the time left count only the time the work ran: while a box is open
 * over the gauge (Stop?, F1, F2) the work waits for it, and so does the
 * gauge's clock (curses_gauge_hold).
 *
 * The engine calls progress() as often as it likes; the wizard draws at
 * most ten times a second (gauge_update says when the numbers changed
 * enough to be worth it). The current file name is untrusted: escaped,
 * and cut from the left so that its end, the name, stays in view.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "width.h"
#include "wizard.h"
#include "xmalloc.h"

#define CURSES_GAUGE_ROWS 7 /* label, bar, two rows of counts, file, blank, buttons */

struct curses_gauge {
	char *label;
	struct progress_state s;
	char *current; /* escaped */
	double start;  /* when this label's work began */
	double held;   /* seconds since then the work waited for the operator */
	uint64_t start_bytes;
	struct curses_buttons buttons;
	struct curses_widget widget;
};

static void curses_gauge_draw(struct wizard *, struct curses_widget *);
static int curses_gauge_key(struct wizard *, struct curses_widget *, enum curses_action,
    const struct curses_key *);
static int curses_gauge_height(struct wizard *, struct curses_widget *, int);

struct curses_gauge *
curses_gauge_new(void)
{
	struct curses_gauge *g = xcalloc(1, sizeof *g);
	/* TRANSLATORS: the button under the progress gauge; '&' marks its hotkey. */
	struct curses_button stop = { _("&Stop"), 1 };

	curses_buttons_init(&g->buttons, &stop, 1, 0);
	g->widget.draw = curses_gauge_draw;
	g->widget.key = curses_gauge_key;
	g->widget.height = curses_gauge_height;
	g->widget.data = g;
	g->label = xstrdup("");
	g->current = xstrdup("");
	return g;
}

void
curses_gauge_free(struct curses_gauge *g)
{
	if (g == NULL)
		return;
	free(g->label);
	free(g->current);
	free(g);
}

struct curses_widget *
curses_gauge_widget(struct curses_gauge *g)
{
	return &g->widget;
}

/* Takes the engine's numbers. Returns 1 when new work began (draw now). */
int
curses_gauge_update(struct curses_gauge *g, const char *label, const struct progress_state *s)
{
	int fresh = 0;

	if (label == NULL)
		label = "";
	if (strcmp(label, g->label) != 0 || s->bytes_done < g->s.bytes_done ||
	    s->files_done < g->s.files_done) {
		free(g->label);
		g->label = xstrdup(label);
		g->start = curses_widget_now();
		g->held = 0;
		g->start_bytes = s->bytes_done;
		fresh = 1;
	}
	g->s = *s;
	g->s.current = NULL;
	if (s->current != NULL) {
		free(g->current);
		g->current = width_escape(s->current, 0);
	} else if (fresh) {
		free(g->current);
		g->current = xstrdup("");
	}
	return fresh || (s->bytes_total > 0 && s->bytes_done == s->bytes_total);
}

/* The work waited secs seconds for the operator: not part of its rate. */
void
curses_gauge_hold(struct curses_gauge *g, double secs)
{
	if (g != NULL && secs > 0)
		g->held += secs;
}

/* "12.5 MiB": binary units, one decimal past KiB. */
static void
curses_gauge_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu %s", (unsigned long long)n, unit[0]);
	else
		snprintf(buf, size, "%.1f %s", v, unit[u]);
}

/* "1:02:03" or "2:05". */
static void
curses_gauge_time(double secs, char *buf, size_t size)
{
	unsigned long s = secs > 0 ? (unsigned long)(secs + 0.5) : 0;

	if (s >= 3600)
		snprintf(buf, size, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, size, "%lu:%02lu", s / 60, s % 60);
}

/* The fraction done, or -1 when the total is not known. */
static double
curses_gauge_fraction(const struct curses_gauge *g)
{
	if (g->s.bytes_total > 0)
		return (double)g->s.bytes_done / (double)g->s.bytes_total;
	if (g->s.files_total > 0)
		return (double)g->s.files_done / (double)g->s.files_total;
	return -1;
}

/* The bar: filled part highlighted, the percentage in its middle. */
static void
curses_gauge_bar(struct wizard *w, const struct curses_gauge *g, int y, int x, int width)
{
	double f = curses_gauge_fraction(g);
	char pct[16];
	int inner = width - 2, fill, px, i;

	if (f > 1)
		f = 1;
	curses_put(y, x, 1, "[", A_NORMAL);
	curses_put(y, x + width - 1, 1, "]", A_NORMAL);
	if (f < 0) {
		/* Unknown total: a block that moves as the work does. */
		i = (int)((g->s.bytes_done / 65536 + g->s.files_done) %
		    (uint64_t)(inner > 6 ? inner - 6 : 1));
		curses_fill(y, x + 1 + i, 6, w->looks[CL_GAUGE]);
		return;
	}
	fill = (int)(f * inner);
	snprintf(pct, sizeof pct, "%3d%%", (int)(f * 100));
	px = x + 1 + (inner - (int)strlen(pct)) / 2;
	curses_fill(y, x + 1, fill, w->looks[CL_GAUGE]);
	for (i = 0; pct[i] != '\0'; i++) {
		char one[2] = { pct[i], '\0' };

		curses_put(y, px + i, 1, one, px + i < x + 1 + fill ? w->looks[CL_GAUGE] : A_BOLD);
	}
}

/* The gauge's four counts, as they read now. */
struct curses_gauge_counts {
	char *files, *data, *rate, *left;
};

static char *
curses_gauge_files_text(uint64_t done, uint64_t total)
{
	if (total > 0)
		return xasprintf(_("Files: %llu of %llu"), (unsigned long long)done,
		    (unsigned long long)total);
	return xasprintf(_("Files: %llu"), (unsigned long long)done);
}

static char *
curses_gauge_data_text(uint64_t done, uint64_t total)
{
	char d[32], t[32];

	curses_gauge_bytes(done, d, sizeof d);
	curses_gauge_bytes(total, t, sizeof t);
	if (total > 0)
		return xasprintf(_("Data: %s of %s"), d, t);
	return xasprintf(_("Data: %s"), d);
}

/* The bytes a second since this work began, the time it waited left out; 0 when not known. */
static double
curses_gauge_speed(const struct curses_gauge *g)
{
	double ran = curses_widget_now() - g->start - g->held;

	if (ran >= 1 && g->s.bytes_done > g->start_bytes)
		return (double)(g->s.bytes_done - g->start_bytes) / ran;
	return 0;
}

static void
curses_gauge_counts_make(const struct curses_gauge *g, struct curses_gauge_counts *c)
{
	double rate = curses_gauge_speed(g);
	char r[32], left[32];

	c->files = curses_gauge_files_text(g->s.files_done, g->s.files_total);
	c->data = curses_gauge_data_text(g->s.bytes_done, g->s.bytes_total);
	if (rate > 0) {
		curses_gauge_bytes((uint64_t)rate, r, sizeof r);
		c->rate = xasprintf(_("Rate: %s/s"), r);
	} else
		c->rate = xstrdup(_("Rate: measuring"));
	if (rate > 0 && g->s.bytes_total > g->s.bytes_done) {
		curses_gauge_time((double)(g->s.bytes_total - g->s.bytes_done) / rate, left,
		    sizeof left);
		c->left = xasprintf(_("Time left: %s"), left);
	} else if (g->s.bytes_total > 0 && g->s.bytes_done >= g->s.bytes_total)
		c->left = xasprintf(_("Time left: %s"), "0:00");
	else
		c->left = xstrdup(_("Time left: not known yet"));
}

static void
curses_gauge_counts_free(struct curses_gauge_counts *c)
{
	free(c->files);
	free(c->data);
	free(c->rate);
	free(c->left);
}

static int
curses_gauge_wider(int a, char *s)
{
	int w = (int)width_of(s);

	free(s);
	return w > a ? w : a;
}

/*
 * Where the second column starts: after the widest the first column's
 * texts can be during this work, if the widest the second's can be fits
 * after it; 0 when they do not fit side by side. The widest forms are
 * the texts with the totals (and the longest rate and time) in them, so
 * the columns stay put while the numbers grow.
 */
static int
curses_gauge_column(const struct curses_gauge *g, int width)
{
	uint64_t files = g->s.files_total > g->s.files_done ? g->s.files_total : g->s.files_done;
	uint64_t bytes = g->s.bytes_total > g->s.bytes_done ? g->s.bytes_total : g->s.bytes_done;
	int left = 0, right = 0, col;

	left = curses_gauge_wider(left, curses_gauge_files_text(files, g->s.files_total));
	left = curses_gauge_wider(left, xasprintf(_("Rate: %s/s"), "1023.9 MiB"));
	left = curses_gauge_wider(left, xstrdup(_("Rate: measuring")));
	right = curses_gauge_wider(right, curses_gauge_data_text(bytes, g->s.bytes_total));
	right = curses_gauge_wider(right, xasprintf(_("Time left: %s"), "99:59:59"));
	right = curses_gauge_wider(right, xstrdup(_("Time left: not known yet")));
	col = left + 3 > width / 2 ? left + 3 : width / 2;
	if (col + right > width)
		col = left + 2;
	return col + right <= width ? col : 0;
}

/* The counts' rows: 2 in two columns, else 4. */
static int
curses_gauge_count_rows(const struct curses_gauge *g, int width)
{
	return curses_gauge_column(g, width) > 0 ? 2 : 4;
}

/*
 *   Files: 120 of 400     Data: 12.5 MiB of 40.0 MiB
 *   Rate: 5.1 MiB/s       Time left: 0:06
 * or each on a line of its own. Returns the rows used.
 */
static int
curses_gauge_counts(const struct curses_gauge *g, int y, int x, int width)
{
	struct curses_gauge_counts c;
	int col = curses_gauge_column(g, width);

	curses_gauge_counts_make(g, &c);
	if (col > 0) {
		curses_put(y, x, col - 1, c.files, A_NORMAL);
		curses_put(y, x + col, width - col, c.data, A_NORMAL);
		curses_put(y + 1, x, col - 1, c.rate, A_NORMAL);
		curses_put(y + 1, x + col, width - col, c.left, A_NORMAL);
	} else {
		curses_put(y, x, width, c.files, A_NORMAL);
		curses_put(y + 1, x, width, c.data, A_NORMAL);
		curses_put(y + 2, x, width, c.rate, A_NORMAL);
		curses_put(y + 3, x, width, c.left, A_NORMAL);
	}
	curses_gauge_counts_free(&c);
	return col > 0 ? 2 : 4;
}

/* "File: …/end/of/the/path": cut from the left, never inside a glyph. */
static void
curses_gauge_file(const struct curses_gauge *g, int y, int x, int width)
{
	/* TRANSLATORS: before the name of the file being handled; keep it short. */
	int pw = curses_put(y, x, width, _("File: "), A_NORMAL);

	curses_put_tail(y, x + pw, width - pw, g->current, A_NORMAL);
}

static void
curses_gauge_draw(struct wizard *w, struct curses_widget *wd)
{
	struct curses_gauge *g = wd->data;
	const struct curses_rect *r = &w->foot;

	int y;

	if (r->h < curses_gauge_height(w, wd, r->w))
		return;
	curses_put(r->y, r->x, r->w, g->label, w->looks[CL_HEADING]);
	curses_gauge_bar(w, g, r->y + 1, r->x, r->w);
	y = r->y + 2 + curses_gauge_counts(g, r->y + 2, r->x, r->w);
	if (*g->current != '\0' && y < r->y + r->h - 1)
		curses_gauge_file(g, y, r->x, r->w);
	curses_buttons_draw(w, &g->buttons, r->y + r->h - 1, r->x, r->w, 1);
	w->hints.stop = 1;
}

static int
curses_gauge_key(struct wizard *w, struct curses_widget *wd, enum curses_action a,
    const struct curses_key *k)
{
	struct curses_gauge *g = wd->data;

	if (a == CA_ENTER || (a == CA_CHAR && k->ch == ' ') ||
	    ((a == CA_CHAR || a == CA_HOTKEY) && curses_buttons_find(&g->buttons, k->ch) == 0))
		return curses_dialog_stop(w) ? 1 : CURSES_CONTINUE;
	return CURSES_PASS;
}

/* Its rows; the blank one before the button goes when the pane's text needs it. */
static int
curses_gauge_height(struct wizard *w, struct curses_widget *wd, int width)
{
	struct curses_gauge *g = wd->data;

	return CURSES_GAUGE_ROWS - 2 + curses_gauge_count_rows(g, width) - (w->foot_tight ? 1 : 0);
}
