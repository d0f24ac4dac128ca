/*
 * The curses wizard: the struct frontend the engine drives (frontend.h),
 * on top of the one loop every screen runs in (loop.c), which it gives its
 * global keys (F1 help, F2 transcript, F10 quit, the pane's scrolling) and
 * the boxes the loop needs (Quit? Stop the work?).
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
#include <poll.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "frontends.h"
#include "fs.h"
#include "i18n.h"
#include "secret.h"
#include "wizard.h"
#include "xmalloc.h"

#define WIZARD_DRAW_EVERY 0.1   /* seconds between two paints of the gauge */
#define WIZARD_POLL_EVERY 0.02  /* seconds between two looks at the keyboard during work */
#define WIZARD_LINE_WAITED 0.02 /* a paint that took longer waited for the terminal */

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
		if (curses_loop_quit(w))
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
	curses_loop_draw(w);
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
	w->unwinding = 0;
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
	r = curses_loop_run(w, w->base);
	w->base = NULL;
	w->q = NULL;
	w->unwinding = 0;
	if (r == CURSES_UNWIND || w->lost)
		r = FE_QUIT;
	*fp = f;
	curses_loop_draw(w);
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
		curses_loop_draw(w);
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

/*
 * Whether the terminal still holds output of an earlier paint that the line
 * has not carried yet (a serial console at 9600 baud carries 960 bytes a
 * second). The gauge then skips a frame: the work never waits in write(2)
 * for the operator's screen. A serial line says what it holds (TIOCOUTQ):
 * at most a tenth of a second of its output (baudrate()) may wait. A
 * pseudo-terminal always says 0; there a paint waits until the terminal
 * can take output without blocking.
 */
static int
wizard_line_busy(void)
{
	struct pollfd out = { .fd = STDOUT_FILENO, .events = POLLOUT };
	int queued = 0, bps = baudrate();
	int limit = bps > 0 ? bps / 100 : 1024;

	if (limit < 96)
		limit = 96;
	if (ioctl(STDOUT_FILENO, TIOCOUTQ, &queued) == 0 && queued > limit)
		return 1;
	return poll(&out, 1, 0) == 0;
}

static int
wizard_progress(struct frontend *fe, const char *label, const struct progress_state *s)
{
	struct wizard *w = wizard_of(fe);
	struct curses_widget *gw;
	double now;
	int paint = 0, r;

	if (w->lost)
		return 1;
	/* After a quit, the work left is the engine's clean-up: it is not stopped. */
	if (!w->active || w->quit)
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
	now = curses_widget_now();
	if (now - w->last_poll >= WIZARD_POLL_EVERY) {
		r = curses_loop_poll(w, gw);
		/* A box opened meanwhile (Stop?, F1, F2) held the work: and the gauge's clock. */
		curses_gauge_hold(w->gauge, curses_widget_now() - now);
		now = curses_widget_now();
		w->last_poll = now;
		w->unwinding = 0;
		if (r < 0)
			return 1;
		paint |= r;
	}
	if ((paint || now - w->last_draw >= WIZARD_DRAW_EVERY) && now >= w->draw_after &&
	    !wizard_line_busy()) {
		curses_loop_draw(w);
		/*
		 * A paint that had to wait for the line (a pseudo-terminal read
		 * slowly says nothing of what it holds until it is full): the
		 * next waits nine times as long, so that the work loses a tenth
		 * at most, and the line drains what is queued.
		 */
		if (w->last_draw - now > WIZARD_LINE_WAITED)
			w->draw_after = w->last_draw + 9 * (w->last_draw - now);
	}
	return 0;
}

static void
wizard_note(struct frontend *fe, enum fe_level level, const char *text, const char *detail)
{
	struct wizard *w = wizard_of(fe);
	double since;

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
		curses_loop_draw(w);
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
	since = curses_widget_now();
	curses_dialog_note(w, level, text, detail);
	/* If the work goes on, the time the box was open is not the work's. */
	curses_gauge_hold(w->gauge, curses_widget_now() - since);
	w->unwinding = 0;
	curses_loop_draw(w);
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
	free(w);
	free(fe);
}

static const struct frontend_ops wizard_ops = {
	.begin = wizard_begin,
	.end = wizard_end,
	.welcome = wizard_welcome,
	.step = wizard_step,
	.confirm = wizard_confirm,
	.choose = wizard_choose,
	.ask_text = wizard_ask_text,
	.ask_secret = wizard_ask_secret,
	.progress = wizard_progress,
	.note = wizard_note,
	.summary = wizard_summary,
	.destroy = wizard_destroy,
};

struct frontend *
curses_frontend_new(char **cause)
{
	struct frontend *fe;
	struct wizard *w;

	if (!curses_terminal_usable(cause))
		return NULL;
	w = xcalloc(1, sizeof *w);
	fe = xcalloc(1, sizeof *fe);
	w->fe = fe;
	w->global = wizard_global;
	w->ask_quit = curses_dialog_quit;
	w->ask_stop = curses_dialog_stop;
	fe->name = "curses";
	fe->data = w;
	fe->ops = &wizard_ops;
	return fe;
}
