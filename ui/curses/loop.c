/*
 * The one loop every screen of the wizard runs in (wizard.h). It repaints
 * everything from state (the key bar at the foot too) before each key, so
 * a resize (KEY_RESIZE) or Ctrl-L anywhere is only a redraw; it hands each key to the widget on
 * top, and what no widget takes to the wizard's global keys (w->global:
 * F1 help, F2 transcript, F10 quit, the pane's PgUp/PgDn); it hears Ctrl-C
 * and a lost terminal. While work runs, curses_loop_poll takes the keys
 * that came without waiting, through the same dispatch. The questions it
 * needs answered itself (quit? stop the work?) go through w->ask_quit and
 * w->ask_stop, which the wizard sets: the loop knows no widget by name.
 *
 * After SIGHUP or SIGTERM the screen is given back at once and every
 * question answers FE_QUIT: the engine's journal says where things stand.
 */
#include "config.h"

#include <string.h>

#include "i18n.h"
#include "width.h"
#include "wizard.h"

#define LOOP_WAIT_MS 250   /* the loop looks at the signal flags this often */
#define LOOP_DEAD_READS 50 /* reads failing at once, in a row: the terminal is gone */

/* SIGHUP, SIGTERM, or a dead terminal: give the screen back, stop asking. */
static int
loop_lost(struct wizard *w)
{
	if (!w->lost && w->active && curses_terminal_hung_up())
		w->lost = 1;
	if (w->lost && w->active)
		curses_terminal_stop(w);
	return w->lost;
}

/* While nothing is asked the pane's foot says the work goes on. */
static void
loop_draw_idle(struct wizard *w)
{
	if (w->summary != NULL || w->welcome)
		return;
	/* TRANSLATORS: at the foot of the pane while kmsrecover works and asks nothing. */
	if (w->foot.h > 0)
		curses_put(w->foot.y, w->foot.x, w->foot.w, _("Working, please wait..."),
		    w->looks[CL_DIM]);
}

/* The width of one "key label" pair of the hint line, with the two blanks after it. */
static int
loop_bar_width(const char *key, const char *label)
{
	int kw = (int)width_of(key);

	return kw + (kw > 0 ? 1 : 0) + (int)width_of(label) + 2;
}

static int
loop_bar_pair(struct wizard *w, int x, const char *key, const char *label)
{
	int kw = (int)width_of(key), lw = (int)width_of(label);

	if (kw > 0) {
		curses_put(LINES - 1, x, kw, key, w->looks[CL_HINT_KEY]);
		x += kw + 1;
	}
	curses_put(LINES - 1, x, lw, label, A_NORMAL);
	return x + lw + 2;
}

/*
 * The key bar. Where not all fit, those least needed give way first (the
 * Esc twins' reminder, then F2, F4, F3), never the keys that move on, go
 * back, stop or quit; those that stay keep their order.
 */
static void
loop_draw_bar(struct wizard *w)
{
	const struct {
		int on;
		int rank; /* the order they give way in: the highest first */
		const char *key, *label;
	} h[] = {
		/* TRANSLATORS: the key hint line: "F1 Help  F2 Transcript  F10 Quit ..."; keep each short. */
		{ 1, 2, "F1", _("Help") },
		{ 1, 5, "F2", _("Transcript") },
		/* TRANSLATORS: on the first screen: F3 chooses the language; keep it short. */
		{ w->hints.language, 3, "F3", _("Language") },
		{ 1, 0, "F10", _("Quit") },
		/* TRANSLATORS: reminds that Esc then 1, 2 or 0 does what F1, F2, F10 do (and 3, F3,
		 * on the first screen). */
		{ 1, 6, "",
		    w->hints.language ? _("(also Esc 1, 2, 3, 0)") : _("(also Esc 1, 2, 0)") },
		{ w->hints.stop, 0, "Ctrl-C", _("Stop") },
		{ w->hints.reveal, 4, "F4", _("Show/hide") },
		{ w->hints.back, 1, "Esc", _("Back") },
		{ w->hints.move, 1, "Tab", _("Move") },
	};
	enum { NH = sizeof h / sizeof h[0] };
	int keep[NH], used = 1, rank, x = 1;
	size_t i;

	for (i = 0; i < NH; i++) {
		keep[i] = h[i].on;
		if (keep[i])
			used += loop_bar_width(h[i].key, h[i].label);
	}
	/* The last pair needs no blanks after it. */
	for (rank = 6; rank >= 0 && used - 2 > COLS; rank--)
		for (i = NH; i-- > 0 && used - 2 > COLS;)
			if (keep[i] && h[i].rank == rank) {
				keep[i] = 0;
				used -= loop_bar_width(h[i].key, h[i].label);
			}
	for (i = 0; i < NH; i++)
		if (keep[i] && x + loop_bar_width(h[i].key, h[i].label) - 2 <= COLS)
			x = loop_bar_pair(w, x, h[i].key, h[i].label);
}

void
curses_loop_draw(struct wizard *w)
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
	else if (!small && w->noverlays == 0)
		/* (A box open over it waits for the operator: the work does not go on.) */
		loop_draw_idle(w);
	if (!small)
		loop_draw_bar(w);
	for (i = 0; i < w->noverlays && !small; i++)
		w->overlays[i]->draw(w, w->overlays[i]);
	if (w->cursor_y >= 0 && w->cursor_y < LINES && w->cursor_x < COLS) {
		curs_set(1);
		move(w->cursor_y, w->cursor_x);
	} else
		curs_set(0);
	refresh();
	w->last_draw = curses_widget_now();
}

int
curses_loop_quit(struct wizard *w)
{
	int r;

	if (w->in_quit)
		return 0;
	w->in_quit = 1;
	r = w->ask_quit(w);
	w->in_quit = 0;
	if (r == 1) {
		w->quit = 1;
		w->unwinding = 1;
	}
	return r == 1 || w->lost;
}

static int
loop_dispatch(struct wizard *w, struct curses_widget *wd, const struct curses_key *k)
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
		w->unwinding = 1;
		return CURSES_UNWIND;
	}
	r = wd->key(w, wd, a, k);
	return r == CURSES_PASS ? w->global(w, wd, a) : r;
}

/* Ctrl-C: in the Quit question it confirms; elsewhere it asks to quit. */
static int
loop_interrupt(struct wizard *w, struct curses_widget *wd)
{
	struct curses_key none = { 0, 0, 0 };

	if (w->in_quit)
		return wd->key(w, wd, CA_QUIT, &none);
	return curses_loop_quit(w) ? CURSES_UNWIND : CURSES_CONTINUE;
}

/* Whether reads fail at once, over and over: the terminal has gone away. */
static void
loop_check_dead(struct wizard *w, double asked)
{
	if (curses_widget_now() - asked < 0.01) {
		if (++w->dead_reads >= LOOP_DEAD_READS)
			w->lost = 1;
	} else
		w->dead_reads = 0;
}

static void
loop_push(struct wizard *w, struct curses_widget *wd)
{
	if (wd != w->base && w->noverlays < CURSES_MAX_OVERLAYS)
		w->overlays[w->noverlays++] = wd;
}

static void
loop_pop(struct wizard *w, struct curses_widget *wd)
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
curses_loop_run(struct wizard *w, struct curses_widget *wd)
{
	struct curses_key k;
	int r = CURSES_CONTINUE;
	double asked;

	loop_push(w, wd);
	while (r == CURSES_CONTINUE) {
		if (loop_lost(w) || w->unwinding) {
			r = CURSES_UNWIND;
			break;
		}
		if (curses_terminal_interrupted()) {
			r = loop_interrupt(w, wd);
			continue;
		}
		curses_loop_draw(w);
		asked = curses_widget_now();
		if (curses_keys_read(LOOP_WAIT_MS, &k) != 0) {
			loop_check_dead(w, asked);
			continue;
		}
		w->dead_reads = 0;
		r = loop_dispatch(w, wd, &k);
	}
	loop_pop(w, wd);
	return r;
}

/*
 * During work: takes the keys that came, without waiting. Returns -1 when
 * the work is to stop, 1 when the screen needs painting, 0 otherwise.
 */
int
curses_loop_poll(struct wizard *w, struct curses_widget *wd)
{
	struct curses_key k;
	int r, drawn = 0;

	if (loop_lost(w) || w->quit)
		return -1;
	if (curses_terminal_interrupted()) {
		if (w->ask_stop(w))
			return -1;
		drawn = 1;
	}
	while (curses_keys_read(0, &k) == 0) {
		r = loop_dispatch(w, wd, &k);
		if (r == CURSES_UNWIND || r == 1 || w->quit || loop_lost(w))
			return -1;
		drawn = 1;
	}
	return drawn;
}
