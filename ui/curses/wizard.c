/*
 * The curses wizard: the struct frontend the engine drives (frontend.h)
 * and the one loop every screen runs in.
 *
 * Each question puts a form (form.c) at the foot of the main pane and runs
 * the loop until the form has an answer; a dialog or a viewer runs the same
 * loop as an overlay. The loop repaints everything from state before each
 * key, so a resize (KEY_RESIZE) or Ctrl-L anywhere is only a redraw, and
 * it handles what no widget does: F1 help, F2 transcript, F10 quit, the
 * pane's PgUp/PgDn, Ctrl-C and a lost terminal. While work runs, progress()
 * feeds the gauge, draws at most ten times a second and polls the keys
 * without waiting, through the same dispatch.
 *
 * After SIGHUP or SIGTERM the screen is given back at once and every
 * question answers FE_QUIT: the engine's journal says where things stand.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontends.h"
#include "fs.h"
#include "i18n.h"
#include "secret.h"
#include "wizard.h"
#include "xmalloc.h"

#define WIZARD_WAIT_MS 250     /* the loop looks at the signal flags this often */
#define WIZARD_DRAW_EVERY 0.1  /* seconds between two paints of the gauge */
#define WIZARD_POLL_EVERY 0.02 /* seconds between two looks at the keyboard during work */
#define WIZARD_DEAD_READS 50   /* reads failing at once, in a row: the terminal is gone */

struct wizard_data {
	struct wizard w;
	double last_draw;
	int dead_reads;
	int unwinding; /* Quit confirmed: every loop returns CURSES_UNWIND */
};

static struct wizard_data *
wizard_data(struct wizard *w)
{
	return (struct wizard_data *)w;
}

double
curses_now(void)
{
	return (double)fs_monotonic_ns() / 1e9;
}

void
curses_wizard_cursor(struct wizard *w, int y, int x)
{
	w->cursor_y = y;
	w->cursor_x = x;
}

/* SIGHUP, SIGTERM, or a dead terminal: give the screen back, stop asking. */
static int
wizard_lost(struct wizard *w)
{
	if (!w->lost && w->active && curses_terminal_hung_up())
		w->lost = 1;
	if (w->lost && w->active)
		curses_terminal_stop(w);
	return w->lost;
}

/* While nothing is asked the pane's foot says the work goes on. */
static void
wizard_draw_idle(struct wizard *w)
{
	if (w->summary != NULL || w->welcome)
		return;
	/* TRANSLATORS: at the foot of the pane while kmsrecover works and asks nothing. */
	if (w->foot.h > 0)
		curses_put(w->foot.y, w->foot.x, w->foot.w, _("Working, please wait..."),
		    w->looks[CL_DIM]);
}

void
curses_wizard_draw(struct wizard *w)
{
	int i, small;

	if (!w->active || w->lost)
		return;
	memset(&w->hints, 0, sizeof w->hints);
	w->cursor_y = w->cursor_x = -1;
	curses_layout_draw(w);
	small = curses_layout_too_small();
	if (!small && w->base != NULL)
		w->base->draw(w, w->base);
	else if (!small)
		wizard_draw_idle(w);
	if (!small)
		curses_layout_hints(w);
	for (i = 0; i < w->noverlays && !small; i++)
		w->overlays[i]->draw(w, w->overlays[i]);
	if (w->cursor_y >= 0 && w->cursor_y < LINES && w->cursor_x < COLS) {
		curs_set(1);
		move(w->cursor_y, w->cursor_x);
	} else
		curs_set(0);
	refresh();
	wizard_data(w)->last_draw = curses_now();
}

static void
wizard_help(struct wizard *w)
{
	char *text = curses_help_text(w);

	/* TRANSLATORS: the title of the F1 help viewer. */
	curses_viewer_run(w, _("Help"), text, 0);
	free(text);
}

/* Reads the transcript, or its last 2 MiB. NULL with errno on failure. */
static char *
wizard_read_file(const char *path)
{
	FILE *f;
	char *buf = NULL;
	long size;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0) {
		if (size > 2L * 1024 * 1024)
			fseek(f, size - 2L * 1024 * 1024, SEEK_SET);
		else
			rewind(f);
		buf = xmalloc((size_t)(size > 2L * 1024 * 1024 ? 2L * 1024 * 1024 : size) + 1);
		n = fread(buf, 1, (size_t)(size > 2L * 1024 * 1024 ? 2L * 1024 * 1024 : size), f);
		buf[n] = '\0';
	} else
		buf = xstrdup("");
	fclose(f);
	return buf;
}

static void
wizard_transcript(struct wizard *w)
{
	const char *path = w->view != NULL ? w->view->transcript_path : NULL;
	char *text, *msg;

	if (path == NULL) {
		curses_dialog_note(w, FE_INFO,
		    _("There is no transcript yet: it is opened when the recovery starts."), NULL);
		return;
	}
	if ((text = wizard_read_file(path)) == NULL) {
		msg = xasprintf(_("The transcript %s cannot be read: %s."), path, strerror(errno));
		curses_dialog_note(w, FE_WARNING, msg, NULL);
		free(msg);
		return;
	}
	/* TRANSLATORS: the title of the F2 viewer; %s is the file. */
	msg = xasprintf(_("Transcript: %s"), path);
	curses_viewer_run(w, msg, text, 1);
	free(msg);
	free(text);
}

int
curses_wizard_quit(struct wizard *w)
{
	int r;

	if (w->in_quit)
		return 0;
	w->in_quit = 1;
	r = curses_dialog_quit(w);
	w->in_quit = 0;
	if (r == 1) {
		w->quit = 1;
		wizard_data(w)->unwinding = 1;
	}
	return r == 1 || w->lost;
}

/* The keys no widget took: help, transcript, quit, the pane's scrolling. */
static int
wizard_global(struct wizard *w, struct curses_widget *wd, enum curses_action a)
{
	switch (a) {
	case CA_HELP:
		wizard_help(w);
		break;
	case CA_TRANSCRIPT:
		wizard_transcript(w);
		break;
	case CA_QUIT:
		if (curses_wizard_quit(w))
			return CURSES_UNWIND;
		break;
	case CA_PAGE_UP:
	case CA_PAGE_DOWN:
		if (wd == w->base)
			curses_layout_scroll(w, a == CA_PAGE_UP ? -1 : 1);
		break;
	default:
		break;
	}
	return CURSES_CONTINUE;
}

static int
wizard_dispatch(struct wizard *w, struct curses_widget *wd, const struct curses_key *k)
{
	enum curses_action a;
	int r;

	a = curses_keys_action(k, wd->keymap != NULL ? wd->keymap(wd) : 0);
	if (a == CA_RESIZE || a == CA_NONE)
		return CURSES_CONTINUE;
	if (a == CA_REDRAW) {
		clearok(curscr, TRUE);
		return CURSES_CONTINUE;
	}
	if (curses_layout_too_small()) {
		/* Nothing can be shown: F10 quits at once (the screen says so). */
		if (a != CA_QUIT)
			return CURSES_CONTINUE;
		w->quit = 1;
		wizard_data(w)->unwinding = 1;
		return CURSES_UNWIND;
	}
	r = wd->key(w, wd, a, k);
	return r == CURSES_PASS ? wizard_global(w, wd, a) : r;
}

/* Ctrl-C: in the Quit question it confirms; elsewhere it asks to quit. */
static int
wizard_interrupt(struct wizard *w, struct curses_widget *wd)
{
	struct curses_key none = { 0, 0, 0 };

	if (w->in_quit)
		return wd->key(w, wd, CA_QUIT, &none);
	return curses_wizard_quit(w) ? CURSES_UNWIND : CURSES_CONTINUE;
}

/* Whether reads fail at once, over and over: the terminal has gone away. */
static void
wizard_check_dead(struct wizard *w, double asked)
{
	struct wizard_data *d = wizard_data(w);

	if (curses_now() - asked < 0.01) {
		if (++d->dead_reads >= WIZARD_DEAD_READS)
			w->lost = 1;
	} else
		d->dead_reads = 0;
}

static void
wizard_push(struct wizard *w, struct curses_widget *wd)
{
	if (wd != w->base && w->noverlays < CURSES_MAX_OVERLAYS)
		w->overlays[w->noverlays++] = wd;
}

static void
wizard_pop(struct wizard *w, struct curses_widget *wd)
{
	if (w->noverlays > 0 && w->overlays[w->noverlays - 1] == wd)
		w->noverlays--;
}

/*
 * Runs wd (the pane widget, or an overlay pushed over the rest) until its
 * _key gives a result, which is returned; CURSES_UNWIND when quitting was
 * confirmed or the terminal is gone.
 */
int
curses_wizard_run(struct wizard *w, struct curses_widget *wd)
{
	struct curses_key k;
	int r = CURSES_CONTINUE;
	double asked;

	wizard_push(w, wd);
	while (r == CURSES_CONTINUE) {
		if (wizard_lost(w) || wizard_data(w)->unwinding) {
			r = CURSES_UNWIND;
			break;
		}
		if (curses_terminal_interrupted()) {
			r = wizard_interrupt(w, wd);
			continue;
		}
		curses_wizard_draw(w);
		asked = curses_now();
		if (curses_keys_read(WIZARD_WAIT_MS, &k) != 0) {
			wizard_check_dead(w, asked);
			continue;
		}
		wizard_data(w)->dead_reads = 0;
		r = wizard_dispatch(w, wd, &k);
	}
	wizard_pop(w, wd);
	return r;
}

/*
 * During work: takes the keys that came, without waiting. Returns -1 when
 * the work is to stop, 1 when the screen needs painting, 0 otherwise.
 */
int
curses_wizard_poll(struct wizard *w, struct curses_widget *wd)
{
	struct curses_key k;
	int r, drawn = 0;

	if (wizard_lost(w) || w->quit)
		return -1;
	if (curses_terminal_interrupted()) {
		if (curses_dialog_stop(w))
			return -1;
		drawn = 1;
	}
	while (curses_keys_read(0, &k) == 0) {
		r = wizard_dispatch(w, wd, &k);
		if (r == CURSES_UNWIND || r == 1 || w->quit || wizard_lost(w))
			return -1;
		drawn = 1;
	}
	return drawn;
}

static struct wizard *
wizard_of(struct frontend *fe)
{
	return fe->data;
}

static int
wizard_begin(struct frontend *fe, struct fe_view *view, char **cause)
{
	struct wizard *w = wizard_of(fe);

	w->view = view;
	if (w->active)
		return 0;
	if (curses_terminal_start(w, cause) != 0)
		return -1;
	curses_wizard_draw(w);
	return 0;
}

static void
wizard_end(struct frontend *fe)
{
	struct wizard *w = wizard_of(fe);

	w->base = NULL;
	curses_terminal_stop(w);
}

/* Drops the gauge from the pane (its work is over). */
static void
wizard_settle(struct wizard *w)
{
	w->base = NULL;
	w->noverlays = 0;
	wizard_data(w)->unwinding = 0;
}

/*
 * Asks a question with a form of the given kind: FE_OK, FE_NO, FE_BACK,
 * FE_QUIT or FE_ERROR. *fp is the form, for the caller to read and free.
 */
static int
wizard_ask(struct wizard *w, enum curses_form_kind kind, const struct fe_question *q,
    struct curses_form **fp, char **cause)
{
	struct curses_form *f;
	int r;

	*fp = NULL;
	if (w->lost || w->quit)
		return FE_QUIT;
	if (!w->active) {
		*cause = xstrdup(_("the wizard's screen is not set up"));
		return FE_ERROR;
	}
	wizard_settle(w);
	f = curses_form_new(kind, q);
	w->q = q;
	w->doc_scroll_auto = 1;
	w->base = curses_form_widget(f);
	r = curses_wizard_run(w, w->base);
	w->base = NULL;
	w->q = NULL;
	wizard_data(w)->unwinding = 0;
	if (r == CURSES_UNWIND || w->lost)
		r = FE_QUIT;
	*fp = f;
	curses_wizard_draw(w);
	return r;
}

static int
wizard_welcome(struct frontend *fe, const struct fe_question *q, int *choice, char **cause)
{
	struct wizard *w = wizard_of(fe);
	struct curses_form *f;
	int r;

	w->welcome = 1;
	r = wizard_ask(w, CURSES_FORM_WELCOME, q, &f, cause);
	w->welcome = 0;
	if (r == FE_OK || r == FE_AGAIN)
		*choice = curses_form_choice(f);
	curses_form_free(f);
	return r == FE_OK || r == FE_AGAIN || r == FE_ERROR ? r : FE_QUIT;
}

static void
wizard_step_clear(struct wizard *w)
{
	free(w->step.id);
	free(w->step.title);
	free(w->step.explanation);
	free(w->step.action);
	memset(&w->step, 0, sizeof w->step);
	xfree_argv(w->notes);
	w->notes = NULL;
	w->nnotes = 0;
}

static void
wizard_step(struct frontend *fe, const struct fe_step_info *info)
{
	struct wizard *w = wizard_of(fe);

	wizard_step_clear(w);
	w->step.shown = 1;
	w->step.id = xstrdup(info->id != NULL ? info->id : "");
	w->step.number = info->number;
	w->step.title = xstrdup(info->title != NULL ? info->title : "");
	w->step.explanation = xstrdup(info->explanation != NULL ? info->explanation : "");
	w->step.action = info->action != NULL ? xstrdup(info->action) : NULL;
	w->step.destructive = info->destructive;
	w->welcome = 0;
	w->doc_scroll_auto = 1;
	if (w->active && !w->lost) {
		wizard_settle(w);
		curses_wizard_draw(w);
	}
}

static int
wizard_confirm(struct frontend *fe, const struct fe_question *q, char **cause)
{
	struct curses_form *f;
	int r;

	r = wizard_ask(wizard_of(fe), CURSES_FORM_CONFIRM, q, &f, cause);
	curses_form_free(f);
	return r;
}

static int
wizard_choose(struct frontend *fe, const struct fe_question *q, int *choice, char **cause)
{
	struct curses_form *f;
	int r;

	r = wizard_ask(wizard_of(fe), CURSES_FORM_CHOOSE, q, &f, cause);
	if (r == FE_OK)
		*choice = curses_form_choice(f);
	curses_form_free(f);
	return r;
}

static int
wizard_ask_text(struct frontend *fe, const struct fe_question *q, char **answer, char **cause)
{
	struct curses_form *f;
	int r;

	r = wizard_ask(wizard_of(fe), CURSES_FORM_TEXT, q, &f, cause);
	if (r == FE_OK)
		*answer = curses_form_text(f);
	curses_form_free(f);
	return r;
}

static int
wizard_ask_secret(struct frontend *fe, const struct fe_question *q, struct secret **out,
    char **cause)
{
	struct curses_form *f;
	int r;

	r = wizard_ask(wizard_of(fe), CURSES_FORM_SECRET, q, &f, cause);
	if (r == FE_OK)
		*out = curses_form_secret(f);
	curses_form_free(f);
	return r;
}

static int
wizard_progress(struct frontend *fe, const char *label, const struct progress_state *s)
{
	struct wizard *w = wizard_of(fe);
	struct curses_widget *gw;
	double now;
	int paint = 0, r;

	if (w->lost || w->quit)
		return 1;
	if (!w->active)
		return 0;
	if (w->gauge == NULL)
		w->gauge = curses_gauge_new();
	gw = curses_gauge_widget(w->gauge);
	if (w->base != gw) {
		wizard_settle(w);
		w->base = gw;
		paint = 1;
	}
	paint |= curses_gauge_update(w->gauge, label, s);
	now = curses_now();
	if (now - w->last_poll >= WIZARD_POLL_EVERY) {
		r = curses_wizard_poll(w, gw);
		w->last_poll = now;
		wizard_data(w)->unwinding = 0;
		if (r < 0)
			return 1;
		paint |= r;
	}
	if (paint || now - wizard_data(w)->last_draw >= WIZARD_DRAW_EVERY)
		curses_wizard_draw(w);
	return 0;
}

static void
wizard_note(struct frontend *fe, enum fe_level level, const char *text, const char *detail)
{
	struct wizard *w = wizard_of(fe);

	if (text == NULL)
		return;
	if (!w->active || w->lost) {
		if (!w->lost)
			fprintf(stderr, "kmsrecover: %s\n", text);
		return;
	}
	if (level == FE_INFO) {
		/* Shown in the pane with the step; the work goes on. */
		w->notes = xreallocarray(w->notes, w->nnotes + 2, sizeof *w->notes);
		w->notes[w->nnotes++] = xstrdup(text);
		w->notes[w->nnotes] = NULL;
		curses_wizard_draw(w);
		return;
	}
	/*
	 * A warning or an error ends the work it is about, or pauses it: the
	 * gauge (its Stop button, "Ctrl-C Stop") must not sit under the box.
	 * progress() puts it back if the work goes on.
	 */
	if (w->gauge != NULL && w->base == curses_gauge_widget(w->gauge))
		w->base = NULL;
	w->noverlays = 0;
	curses_dialog_note(w, level, text, detail);
	wizard_data(w)->unwinding = 0;
	curses_wizard_draw(w);
}

static void
wizard_summary(struct frontend *fe, const struct fe_summary *s)
{
	struct wizard *w = wizard_of(fe);
	struct curses_form *f;
	int quit = w->quit;

	if (!w->active || w->lost)
		return;
	w->summary = s;
	w->quit = 0;
	wizard_ask(w, CURSES_FORM_SUMMARY, NULL, &f, NULL);
	curses_form_free(f);
	w->summary = NULL;
	w->quit = quit;
}

static void
wizard_destroy(struct frontend *fe)
{
	struct wizard *w;

	if (fe == NULL)
		return;
	w = wizard_of(fe);
	wizard_end(fe);
	wizard_step_clear(w);
	curses_gauge_free(w->gauge);
	free(wizard_data(w));
	free(fe);
}

struct frontend *
curses_frontend_new(char **cause)
{
	struct frontend *fe;
	struct wizard_data *d;

	if (!curses_terminal_usable(cause))
		return NULL;
	d = xcalloc(1, sizeof *d);
	fe = xcalloc(1, sizeof *fe);
	d->w.fe = fe;
	fe->name = "curses";
	fe->data = &d->w;
	fe->begin = wizard_begin;
	fe->end = wizard_end;
	fe->welcome = wizard_welcome;
	fe->step = wizard_step;
	fe->confirm = wizard_confirm;
	fe->choose = wizard_choose;
	fe->ask_text = wizard_ask_text;
	fe->ask_secret = wizard_ask_secret;
	fe->progress = wizard_progress;
	fe->note = wizard_note;
	fe->summary = wizard_summary;
	fe->destroy = wizard_destroy;
	return fe;
}
