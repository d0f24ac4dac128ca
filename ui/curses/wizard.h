/*
 * The curses wizard's insides, shared by the files of ui/curses/ (the
 * world outside sees only curses_frontend_new in ui/frontends.h).
 *
 * The screen is painted from state, every time: the layout (title line,
 * step list, the main pane with the step's text, the key hints) and then
 * the widgets. A widget is a pane widget (the question or the gauge at the
 * foot of the main pane) or an overlay (a dialog box, a viewer) drawn over
 * everything; each has a _draw that repaints it from its state and a _key
 * that takes an abstract action (keys.c maps keys to actions through a
 * binding table). One loop, curses_loop_run (loop.c), serves them all, so a
 * resize is nothing but a redraw wherever it happens.
 */
#ifndef KMSRECOVER_CURSES_WIZARD_H
#define KMSRECOVER_CURSES_WIZARD_H

#include <curses.h>
#include <stdint.h>
#include <time.h>
#include <wchar.h>

#include "frontend.h"

struct secret;

/*
 * Below this the wizard shows only how large it needs to be. 80x23 is what
 * tmux and screen leave of an 80x24 terminal; down to 76x20 the margins
 * shrink, the pane's text scrolls and the step list shortens (as dialog).
 */
#define CURSES_MIN_COLS 76
#define CURSES_MIN_LINES 20

/* What a widget's _key returns besides a result (>= FE_ERROR). */
#define CURSES_CONTINUE (-1000) /* keep going */
#define CURSES_PASS (-1001)     /* not for this widget: the wizard's global keys */
#define CURSES_UNWIND (-1002)   /* quit confirmed or terminal gone: leave every loop */

/* The abstract actions keys are bound to (keys.c). */
enum curses_action {
	CA_NONE,
	CA_CHAR,   /* a printable character: text, or a hotkey */
	CA_HOTKEY, /* Esc then a letter (Alt-letter): a hotkey even in a text field */
	CA_ENTER,
	CA_ESCAPE, /* Back; Cancel in a dialog */
	CA_NEXT,   /* Tab */
	CA_PREV,   /* Shift-Tab */
	CA_LEFT,
	CA_RIGHT,
	CA_UP,
	CA_DOWN,
	CA_PAGE_UP,
	CA_PAGE_DOWN,
	CA_HOME,
	CA_END,
	CA_BACKSPACE,
	CA_DELETE,
	CA_KILL_LINE, /* Ctrl-U */
	CA_KILL_END,  /* Ctrl-K */
	CA_HELP,
	CA_TRANSCRIPT,
	CA_QUIT,
	CA_REVEAL,
	CA_LANGUAGE, /* F3: the language chooser, on the first screen */
	CA_REDRAW,
	CA_RESIZE,
	CA_SEARCH,
	CA_SEARCH_NEXT,
	CA_SEARCH_PREV,
	CA_CLOSE
};

/* Which binding tables a widget has on, besides the global one. */
#define CURSES_KEYS_TEXT 0x1   /* a text field has the focus: printable keys are text */
#define CURSES_KEYS_VIEWER 0x2 /* a viewer: '/', 'n', 'q' ... */

struct curses_key {
	int fkey;  /* a KEY_* code, or 0 for a character */
	wint_t ch; /* the character when fkey is 0 */
	int esc;   /* read right after Esc: Esc 1 is F1, Esc letter a hotkey */
};

/* The looks, resolved once for a colour or a monochrome terminal. */
enum curses_look {
	CL_NORMAL,
	CL_TITLE,
	CL_HEADING,
	CL_DIM,
	CL_DONE,
	CL_RUNNING,
	CL_FAILED,
	CL_BUTTON,
	CL_BUTTON_FOCUS,
	CL_HOTKEY,
	CL_FIELD,
	CL_FIELD_FOCUS,
	CL_SELECTED,
	CL_WARNING,
	CL_ERROR,
	CL_SUCCESS,
	CL_HINT_KEY,
	CL_GAUGE,
	CL_MATCH,
	CL_COUNT
};

struct wizard;

struct curses_rect {
	int y, x, h, w;
};

struct curses_widget {
	/* Repaints from state: a pane widget in w->foot, an overlay anywhere. */
	void (*draw)(struct wizard *w, struct curses_widget *wd);
	/* Takes one action: a result, CURSES_CONTINUE, CURSES_PASS or CURSES_UNWIND. */
	int (*key)(struct wizard *w, struct curses_widget *wd, enum curses_action a,
	    const struct curses_key *k);
	/* The CURSES_KEYS_* tables now on; NULL for none. */
	int (*keymap)(struct curses_widget *wd);
	/* A pane widget: the rows it wants at the pane's foot for this width. NULL: an overlay. */
	int (*height)(struct wizard *w, struct curses_widget *wd, int width);
	void *data;
};

/* A button: its label with an '&' before the hotkey, and what it answers. */
struct curses_button {
	const char *label; /* translated */
	int result;
};

#define CURSES_MAX_BUTTONS 4
struct curses_buttons {
	struct curses_button b[CURSES_MAX_BUTTONS];
	int n;
	int focus;
};

/* The step on screen, copied from the engine's fe_step_info. */
struct curses_step {
	int shown;
	char *id;
	int number;
	char *title;
	char *explanation;
	char *action;
	int destructive;
};

/* What the key hint line offers besides the function keys. */
struct curses_hints {
	int move;     /* Tab moves */
	int back;     /* Esc goes back */
	int reveal;   /* F4 shows the secret */
	int stop;     /* Ctrl-C stops */
	int language; /* F3 chooses the language */
};

struct curses_gauge;

#define CURSES_MAX_OVERLAYS 8

struct wizard {
	struct frontend *fe;
	struct fe_view *view;
	SCREEN *screen;
	int active; /* between begin() and end() */
	int lost;   /* SIGHUP, SIGTERM, or the terminal gone: no more drawing */
	int quit;   /* Quit confirmed: questions answer FE_QUIT, work stops */
	int in_quit;
	int color;
	attr_t looks[CL_COUNT];

	struct curses_step step;
	char **notes; /* FE_INFO notes for the step on screen, shown in the pane */
	size_t nnotes;
	const struct fe_question *q; /* the question being asked, or NULL */
	const struct fe_summary *summary;
	int welcome;             /* the welcome screen is up */
	int doc_scroll;          /* first line of the pane's text shown */
	int doc_scroll_auto;     /* place the scroll so the question is seen */
	int doc_lines, doc_rows; /* as last drawn: for PgUp/PgDn */

	struct curses_widget *base; /* the pane widget, or NULL */
	struct curses_widget *overlays[CURSES_MAX_OVERLAYS];
	int noverlays;
	struct curses_rect foot; /* where the pane widget draws */
	int foot_tight; /* the pane's text needs the rows: the widget keeps to what it must show */
	struct curses_hints hints;
	int cursor_y, cursor_x; /* where the focus is: the cursor is parked there */

	struct curses_gauge *gauge;
	double last_poll; /* when progress() last looked at the keyboard */
	double last_draw; /* when the screen was last painted */
	/* the gauge paints again no sooner: the last paint waited for a slow line */
	double draw_after;
	int dead_reads; /* reads that failed at once, in a row */
	int unwinding;  /* Quit confirmed: every loop returns CURSES_UNWIND */

	/*
	 * Set by the wizard, called by the loop (loop.c), which knows no widget
	 * by name. global: a key no widget took (help, transcript, quit, the
	 * pane's scrolling): CURSES_CONTINUE or CURSES_UNWIND. ask_quit: the
	 * Quit question: 1 quit, 0 stay. ask_stop: Ctrl-C during work: 1 stop.
	 */
	int (*global)(struct wizard *w, struct curses_widget *wd, enum curses_action a);
	int (*ask_quit)(struct wizard *w);
	int (*ask_stop)(struct wizard *w);
};

/* widget.c: what every widget draws with. */
void curses_widget_cursor(struct wizard *w, int y, int x);
double curses_widget_now(void);

/*
 * loop.c: the one loop. curses_loop_run runs wd (the pane widget, or an
 * overlay pushed over the rest) until its _key gives a result, which is
 * returned; CURSES_UNWIND when quitting was confirmed or the terminal is
 * gone. curses_loop_poll, during work: -1 when the work is to stop, 1 when
 * the screen needs painting, 0 otherwise. curses_loop_quit asks the Quit
 * question (once at a time): 1 when the wizard is to unwind.
 */
int curses_loop_run(struct wizard *w, struct curses_widget *wd);
int curses_loop_poll(struct wizard *w, struct curses_widget *wd);
void curses_loop_draw(struct wizard *w);
int curses_loop_quit(struct wizard *w);

/* terminal.c: taking and giving back the terminal, signals. */
int curses_terminal_usable(char **cause);
int curses_terminal_start(struct wizard *w, char **cause);
void curses_terminal_stop(struct wizard *w);
int curses_terminal_interrupted(void);
int curses_terminal_hung_up(void);

/* keys.c: reading keys and the binding table. */
int curses_keys_read(int timeout_ms, struct curses_key *k);
enum curses_action curses_keys_action(const struct curses_key *k, int keymap);
char *curses_keys_help(int welcome);

/* layout.c: the screen's parts and drawing helpers. */
int curses_layout_too_small(void);
void curses_layout_draw(struct wizard *w);
void curses_layout_scroll(struct wizard *w, int pages);
int curses_put(int y, int x, int cols, const char *s, attr_t attr);
int curses_put_tail(int y, int x, int cols, const char *s, attr_t attr);
void curses_fill(int y, int x, int cols, attr_t attr);
void curses_frame(const struct curses_rect *r, const char *title, attr_t attr);
char *curses_help_text(struct wizard *w);

/* buttons.c: a row of buttons with hotkeys. */
void curses_buttons_init(struct curses_buttons *bs, const struct curses_button *b, int n,
    int focus);
int curses_buttons_width(const struct curses_buttons *bs);
void curses_buttons_draw(struct wizard *w, const struct curses_buttons *bs, int y, int x, int width,
    int focused);
int curses_buttons_find(const struct curses_buttons *bs, wint_t ch);
wint_t curses_label_hotkey(const char *label);
int curses_label_draw(struct wizard *w, int y, int x, int cols, const char *label, attr_t attr);
int curses_label_width(const char *label);

/* entry.c: a line of text, or a secret. */
struct curses_entry;
struct curses_entry *curses_entry_new(size_t cap, int secret);
void curses_entry_free(struct curses_entry *e);
void curses_entry_set(struct curses_entry *e, const char *utf8);
void curses_entry_clear(struct curses_entry *e);
size_t curses_entry_length(const struct curses_entry *e);
char *curses_entry_text(const struct curses_entry *e);
struct secret *curses_entry_secret(const struct curses_entry *e);
int curses_entry_equal(const struct curses_entry *a, const struct curses_entry *b);
int curses_entry_key(struct curses_entry *e, enum curses_action a, const struct curses_key *k,
    int masked);
void curses_entry_draw(struct wizard *w, struct curses_entry *e, int y, int x, int width,
    int masked, int focused);

/* gauge.c: the progress gauge (a pane widget). */
struct curses_gauge *curses_gauge_new(void);
void curses_gauge_free(struct curses_gauge *g);
int curses_gauge_update(struct curses_gauge *g, const char *label, const struct progress_state *s);
struct curses_widget *curses_gauge_widget(struct curses_gauge *g);
void curses_gauge_hold(struct curses_gauge *g, double secs);

/* language.c: the F3 box; 1 when the language was switched. */
int curses_language_choose(struct wizard *w);

/* viewer.c: a scrollable, searchable text (an overlay). */
void curses_viewer_run(struct wizard *w, const char *title, const char *text, int at_end);

/* dialog.c: boxes over the screen. */
int curses_dialog_run(struct wizard *w, enum fe_level level, const char *title, const char *text,
    const char *detail, const struct curses_button *b, int nb, int def, int esc_result);
void curses_dialog_note(struct wizard *w, enum fe_level level, const char *text,
    const char *detail);
int curses_dialog_quit(struct wizard *w);
int curses_dialog_stop(struct wizard *w);

/* form.c: the questions in the pane. */
enum curses_form_kind {
	CURSES_FORM_WELCOME,
	CURSES_FORM_CONFIRM,
	CURSES_FORM_CHOOSE,
	CURSES_FORM_TEXT,
	CURSES_FORM_SECRET,
	CURSES_FORM_SUMMARY
};
struct curses_form;
struct curses_form *curses_form_new(enum curses_form_kind kind, const struct fe_question *q);
void curses_form_free(struct curses_form *f);
struct curses_widget *curses_form_widget(struct curses_form *f);
int curses_form_choice(const struct curses_form *f);
char *curses_form_text(const struct curses_form *f);
struct secret *curses_form_secret(const struct curses_form *f);

#endif
