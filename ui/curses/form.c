/*
 * The questions, asked at the foot of the main pane, under the step's text
 * (which layout.c draws with the question's title and text):
 *
 *   welcome  the tasks as a list, < Next >  < Quit >; F3 the language box
 *   confirm  < Yes >  < No >  [< Back >]; a destructive one starts on No
 *   choose   the choices as a list with their one-line help, < Next >
 *   text     a path field, the suggestions to pick from below it
 *   secret   a masked field (two when the answer is asked twice)
 *   summary  < OK >
 *
 * The focus moves over "slots" (the fields, the list, each button) with
 * Tab and Shift-Tab; the arrows move within a list, between buttons, or in
 * a field. An underlined letter presses its button (in a field: Esc, then
 * the letter, as a field takes letters as text). The boxes are dialog.c's.
 */
#include "config.h"

#include <stdlib.h>
#include <wctype.h>

#include "i18n.h"
#include "width.h"
#include "wizard.h"
#include "xmalloc.h"

#define SLOT_FIELD0 0
#define SLOT_FIELD1 1
#define SLOT_LIST 2
#define SLOT_BUTTON 0x100 /* | the button's index */
#define MAX_SLOTS (3 + CURSES_MAX_BUTTONS)
#define SUGGESTION_ROWS 5
#define PATH_MAX_CHARS 4096
#define SECRET_MAX_CHARS 256

struct curses_form {
	enum curses_form_kind kind;
	const struct fe_question *q;
	const char *const *items; /* choices (with '&') or suggestions */
	const char *const *help;
	size_t nitems;
	size_t sel;
	size_t top;
	struct curses_entry *field[2];
	int nfields;
	struct curses_buttons buttons;
	int slots[MAX_SLOTS];
	int nslots;
	int focus;
	const char *message; /* a word under the field: what is wrong */
	int reveal;
	struct curses_widget widget;
};

static void curses_form_draw(struct wizard *, struct curses_widget *);
static int curses_form_key(struct wizard *, struct curses_widget *, enum curses_action,
    const struct curses_key *);
static int curses_form_keymap(struct curses_widget *);
static int curses_form_height(struct wizard *, struct curses_widget *, int);

static void
curses_form_buttons(struct curses_form *f)
{
	/* TRANSLATORS: button labels; '&' marks the hotkey, which must differ within a row. */
	struct curses_button next = { _("&Next"), FE_OK }, back = { _("&Back"), FE_BACK };
	struct curses_button b[CURSES_MAX_BUTTONS];
	int n = 0;

	switch (f->kind) {
	case CURSES_FORM_WELCOME:
		b[n++] = next;
		b[n++] = (struct curses_button){ _("&Quit"), FE_QUIT };
		break;
	case CURSES_FORM_CONFIRM:
		b[n++] = (struct curses_button){ _("&Yes"), FE_OK };
		b[n++] = (struct curses_button){ _("&No"), FE_NO };
		break;
	case CURSES_FORM_SUMMARY:
		b[n++] = (struct curses_button){ _("&OK"), FE_OK };
		break;
	default:
		b[n++] = next;
		break;
	}
	if (f->q != NULL && f->q->can_back && f->kind != CURSES_FORM_SUMMARY)
		b[n++] = back;
	curses_buttons_init(&f->buttons, b, n, 0);
}

/* The list and the fields this kind of question has. */
static void
curses_form_parts(struct curses_form *f, const struct fe_question *q)
{
	size_t n = 0;

	if (f->kind == CURSES_FORM_WELCOME || f->kind == CURSES_FORM_CHOOSE) {
		f->items = q->choices;
		f->help = q->choice_help;
		f->nitems = q->choices != NULL ? q->nchoices : 0;
		f->sel = q->def >= 0 && (size_t)q->def < f->nitems ? (size_t)q->def : 0;
	} else if (f->kind == CURSES_FORM_TEXT) {
		f->field[f->nfields++] = curses_entry_new(PATH_MAX_CHARS, 0);
		if (q->def_text != NULL)
			curses_entry_set(f->field[0], q->def_text);
		while (q->suggestions != NULL && q->suggestions[n] != NULL)
			n++;
		f->items = q->suggestions;
		f->nitems = n;
	} else if (f->kind == CURSES_FORM_SECRET) {
		f->field[f->nfields++] = curses_entry_new(SECRET_MAX_CHARS, 1);
		if (q->twice)
			f->field[f->nfields++] = curses_entry_new(SECRET_MAX_CHARS, 1);
	}
}

/* The focus order; the first focus: the list or field, else the default button. */
static void
curses_form_slots(struct curses_form *f)
{
	int i, def = 0;

	for (i = 0; i < f->nfields; i++)
		f->slots[f->nslots++] = i == 0 ? SLOT_FIELD0 : SLOT_FIELD1;
	if (f->nitems > 0)
		f->slots[f->nslots++] = SLOT_LIST;
	for (i = 0; i < f->buttons.n; i++)
		f->slots[f->nslots++] = SLOT_BUTTON | i;
	if (f->kind == CURSES_FORM_CONFIRM && (f->q->destructive || f->q->def != 1))
		def = 1; /* No */
	f->buttons.focus = def;
	f->focus = f->nslots - f->buttons.n + def;
	if (f->kind != CURSES_FORM_CONFIRM && f->kind != CURSES_FORM_SUMMARY &&
	    f->nslots > f->buttons.n)
		f->focus = 0;
}

struct curses_form *
curses_form_new(enum curses_form_kind kind, const struct fe_question *q)
{
	static const struct fe_question none;
	struct curses_form *f = xcalloc(1, sizeof *f);

	f->kind = kind;
	f->q = q != NULL ? q : &none;
	curses_form_parts(f, f->q);
	curses_form_buttons(f);
	curses_form_slots(f);
	f->widget.draw = curses_form_draw;
	f->widget.key = curses_form_key;
	f->widget.keymap = curses_form_keymap;
	f->widget.height = curses_form_height;
	f->widget.data = f;
	return f;
}

void
curses_form_free(struct curses_form *f)
{
	int i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nfields; i++)
		curses_entry_free(f->field[i]);
	free(f);
}

struct curses_widget *
curses_form_widget(struct curses_form *f)
{
	return &f->widget;
}

int
curses_form_choice(const struct curses_form *f)
{
	return (int)f->sel;
}

char *
curses_form_text(const struct curses_form *f)
{
	return f->nfields > 0 ? curses_entry_text(f->field[0]) : xstrdup("");
}

struct secret *
curses_form_secret(const struct curses_form *f)
{
	return f->nfields > 0 ? curses_entry_secret(f->field[0]) : NULL;
}

static int
curses_form_slot(const struct curses_form *f)
{
	return f->slots[f->focus];
}

static void
curses_form_focus(struct curses_form *f, int focus)
{
	f->focus = (focus + f->nslots) % f->nslots;
	if (curses_form_slot(f) & SLOT_BUTTON)
		f->buttons.focus = curses_form_slot(f) & ~SLOT_BUTTON;
}

/* Lines of an item's help at this width. */
static size_t
curses_form_help_lines(const struct curses_form *f, size_t i, int width)
{
	size_t n = 0;

	if (f->help == NULL || f->help[i] == NULL || *f->help[i] == '\0')
		return 0;
	xfree_argv(width_wrap(f->help[i], (size_t)(width > 8 ? width - 6 : 2), &n));
	return n;
}

/* How the choices' one-line help is shown under the list. */
enum curses_help_mode {
	CURSES_HELP_NONE,     /* not at all (F1 still has it) */
	CURSES_HELP_SELECTED, /* the selected choice's, in two rows under the list */
	CURSES_HELP_ALL       /* each choice's under it */
};

/*
 * Every choice's help where it fits, leaving the step's text some room;
 * else the selected one's; none when the pane's text needs the rows
 * (w->foot_tight) or there is none.
 */
static enum curses_help_mode
curses_form_help_mode(const struct wizard *w, const struct curses_form *f, int width)
{
	size_t i, rows = f->nitems, help = 0;

	for (i = 0; i < f->nitems; i++)
		help += curses_form_help_lines(f, i, width);
	if (help == 0 || w->foot_tight)
		return CURSES_HELP_NONE;
	return (int)(rows + help) + 2 <= (LINES - 4) / 2 ? CURSES_HELP_ALL : CURSES_HELP_SELECTED;
}

/* Rows of a list of choices with its help, and the buttons under it. */
static int
curses_form_choices_height(struct wizard *w, struct curses_form *f, int width)
{
	size_t i, rows = f->nitems;

	switch (curses_form_help_mode(w, f, width)) {
	case CURSES_HELP_ALL:
		for (i = 0; i < f->nitems; i++)
			rows += curses_form_help_lines(f, i, width);
		break;
	case CURSES_HELP_SELECTED:
		rows += 2;
		break;
	default:
		break;
	}
	return (int)rows + 2;
}

static int
curses_form_height(struct wizard *w, struct curses_widget *wd, int width)
{
	struct curses_form *f = wd->data;
	size_t rows = 0;

	switch (f->kind) {
	case CURSES_FORM_WELCOME:
	case CURSES_FORM_CHOOSE:
		return curses_form_choices_height(w, f, width);
	case CURSES_FORM_TEXT:
		rows = f->nitems > 0 ?
		    1 + (f->nitems < SUGGESTION_ROWS ? f->nitems : SUGGESTION_ROWS) :
		    0;
		return (int)rows + 4;
	case CURSES_FORM_SECRET:
		return f->nfields + 3;
	default:
		return 1;
	}
}

/* One choice: "(*) Label" with its hotkey, highlighted when it has the focus. */
static void
curses_form_choice_row(struct wizard *w, struct curses_form *f, size_t i, int y, int x, int width)
{
	int focused = curses_form_slot(f) == SLOT_LIST, here = i == f->sel;
	attr_t attr = here && focused ? w->looks[CL_SELECTED] : (here ? A_BOLD : A_NORMAL);

	if (here && focused)
		curses_fill(y, x, width, attr);
	curses_put(y, x, 4, here ? "(*) " : "( ) ", attr);
	curses_label_draw(w, y, x + 4, width - 4, f->items[i], attr);
	if (here && focused)
		curses_widget_cursor(w, y, x + 1);
}

/* Draws help wrapped from row y, at most max rows; returns the rows used. */
static int
curses_form_help_draw(const char *help, int y, int x, int width, int max, attr_t attr)
{
	char **lines;
	size_t n, i;

	if (help == NULL || *help == '\0' || max <= 0)
		return 0;
	lines = width_wrap(help, (size_t)width, &n);
	for (i = 0; i < n && (int)i < max; i++)
		curses_put(y + (int)i, x, width, lines[i], attr);
	xfree_argv(lines);
	return (int)(n < (size_t)max ? n : (size_t)max);
}

static void
curses_form_draw_choices(struct wizard *w, struct curses_form *f, const struct curses_rect *r)
{
	enum curses_help_mode mode = curses_form_help_mode(w, f, r->w);
	int rows = r->h - 2, y = r->y, list;
	size_t i;

	if (mode == CURSES_HELP_ALL) {
		for (i = 0; i < f->nitems && y < r->y + rows; i++) {
			curses_form_choice_row(w, f, i, y++, r->x, r->w);
			y += curses_form_help_draw(f->help != NULL ? f->help[i] : NULL, y, r->x + 6,
			    r->w - 6, r->y + rows - y, w->looks[CL_DIM]);
		}
		return;
	}
	list = mode == CURSES_HELP_SELECTED ? rows - 2 : rows;
	if (list < 1)
		list = 1;
	if (f->sel < f->top)
		f->top = f->sel;
	if (f->sel >= f->top + (size_t)list)
		f->top = f->sel - (size_t)list + 1;
	for (i = f->top; i < f->nitems && y < r->y + list; i++)
		curses_form_choice_row(w, f, i, y++, r->x, r->w);
	if (mode == CURSES_HELP_SELECTED)
		curses_form_help_draw(f->help[f->sel], r->y + list, r->x + 4, r->w - 4, rows - list,
		    w->looks[CL_DIM]);
}

static void
curses_form_draw_suggestions(struct wizard *w, struct curses_form *f, int y, int x, int width,
    int rows)
{
	int focused = curses_form_slot(f) == SLOT_LIST;
	size_t i;
	char *name;

	/* TRANSLATORS: heading of the list of backups found on removable media. */
	curses_put(y++, x, width, _("Found (Down arrow to pick one):"), w->looks[CL_HEADING]);
	if (f->sel < f->top)
		f->top = f->sel;
	if (f->sel >= f->top + (size_t)rows)
		f->top = f->sel - (size_t)rows + 1;
	for (i = f->top; i < f->nitems && (int)(i - f->top) < rows; i++, y++) {
		attr_t attr = i == f->sel && focused ? w->looks[CL_SELECTED] : A_NORMAL;

		name = width_escape(f->items[i], 0);
		if (attr != A_NORMAL)
			curses_fill(y, x, width, attr);
		curses_put_tail(y, x + 2, width - 2, name, attr);
		if (i == f->sel && focused)
			curses_widget_cursor(w, y, x + 2);
		free(name);
	}
}

/* The fields (with labels when there are two) and the line under them. */
static void
curses_form_draw_fields(struct wizard *w, struct curses_form *f, const struct curses_rect *r)
{
	/* TRANSLATORS: labels of the two entries of a secret asked twice. */
	const char *label[2] = { _("Type it:"), _("Again:") };
	int i, lw = 0, masked = f->kind == CURSES_FORM_SECRET && !f->reveal;
	const char *status = f->message;

	if (f->nfields == 2)
		lw = (int)(width_of(label[0]) > width_of(label[1]) ? width_of(label[0]) :
								     width_of(label[1])) +
		    1;
	for (i = 0; i < f->nfields; i++) {
		if (f->nfields == 2)
			curses_put(r->y + i, r->x, lw, label[i], A_NORMAL);
		curses_entry_draw(w, f->field[i], r->y + i, r->x + lw, r->w - lw, masked,
		    curses_form_slot(f) == (i == 0 ? SLOT_FIELD0 : SLOT_FIELD1));
	}
	if (status == NULL && f->kind == CURSES_FORM_SECRET)
		status = f->reveal ?
		    _("Shown on screen: F4 hides it again.") :
		    (f->q->can_reveal ? _("Hidden. F4 shows it, to check it against the paper.") :
					_("Hidden as you type."));
	if (status != NULL)
		curses_put(r->y + f->nfields, r->x, r->w, status,
		    f->message != NULL ? w->looks[CL_ERROR] : w->looks[CL_DIM]);
	if (f->nitems > 0)
		curses_form_draw_suggestions(w, f, r->y + f->nfields + 1, r->x, r->w,
		    r->h - f->nfields - 4 > 0 ? r->h - f->nfields - 4 : 1);
}

static void
curses_form_draw(struct wizard *w, struct curses_widget *wd)
{
	struct curses_form *f = wd->data;
	const struct curses_rect *r = &w->foot;

	if (r->h <= 0)
		return;
	if (f->kind == CURSES_FORM_WELCOME || f->kind == CURSES_FORM_CHOOSE)
		curses_form_draw_choices(w, f, r);
	else if (f->nfields > 0)
		curses_form_draw_fields(w, f, r);
	curses_buttons_draw(w, &f->buttons, r->y + r->h - 1, r->x, r->w,
	    (curses_form_slot(f) & SLOT_BUTTON) != 0);
	w->hints.move = f->nslots > 1;
	w->hints.back = f->q->can_back;
	w->hints.reveal = f->kind == CURSES_FORM_SECRET && f->q->can_reveal;
	w->hints.language = f->kind == CURSES_FORM_WELCOME;
}

static int
curses_form_keymap(struct curses_widget *wd)
{
	struct curses_form *f = wd->data;

	return curses_form_slot(f) & SLOT_BUTTON || curses_form_slot(f) == SLOT_LIST ?
	    0 :
	    CURSES_KEYS_TEXT;
}

/* Whether the answer can be taken; if not, says why and moves the focus. */
static int
curses_form_valid(struct curses_form *f)
{
	if (f->kind == CURSES_FORM_TEXT && curses_entry_length(f->field[0]) == 0) {
		f->message = _("Type a path, or pick one from the list.");
		curses_form_focus(f, 0);
		return 0;
	}
	if (f->kind != CURSES_FORM_SECRET)
		return 1;
	if (curses_entry_length(f->field[0]) == 0) {
		f->message = _("Nothing was typed yet.");
		curses_form_focus(f, 0);
		return 0;
	}
	if (f->nfields == 2 && curses_entry_length(f->field[1]) == 0) {
		curses_form_focus(f, 1);
		return 0;
	}
	if (f->nfields == 2 && !curses_entry_equal(f->field[0], f->field[1])) {
		f->message = _("The two entries differ. Type it again, twice.");
		curses_entry_clear(f->field[0]);
		curses_entry_clear(f->field[1]);
		curses_form_focus(f, 0);
		return 0;
	}
	return 1;
}

/* A button pressed (or Enter in a field or the list): the answer, or not yet. */
static int
curses_form_press(struct wizard *w, struct curses_form *f, int result)
{
	if (result == FE_QUIT)
		return curses_loop_quit(w) ? CURSES_UNWIND : CURSES_CONTINUE;
	if (result != FE_OK)
		return result;
	return curses_form_valid(f) ? FE_OK : CURSES_CONTINUE;
}

/* Moves the list's selection; a suggestion goes into the path field. */
static void
curses_form_select(struct curses_form *f, long sel)
{
	if (f->nitems == 0)
		return;
	if (sel < 0)
		sel = 0;
	if (sel >= (long)f->nitems)
		sel = (long)f->nitems - 1;
	f->sel = (size_t)sel;
	if (f->kind == CURSES_FORM_TEXT) {
		curses_entry_set(f->field[0], f->items[f->sel]);
		f->message = NULL;
	}
}

/* A hotkey: a button's, or a choice's (which is then selected). */
static int
curses_form_hotkey(struct wizard *w, struct curses_form *f, wint_t ch, int items_first)
{
	size_t i;
	int b;

	if (f->kind == CURSES_FORM_CHOOSE || f->kind == CURSES_FORM_WELCOME) {
		for (i = 0; items_first && i < f->nitems; i++)
			if (curses_label_hotkey(f->items[i]) == towlower(ch)) {
				curses_form_select(f, (long)i);
				return CURSES_CONTINUE;
			}
		if (ch >= '1' && ch <= '9' && (size_t)(ch - '1') < f->nitems) {
			curses_form_select(f, ch - '1');
			return CURSES_CONTINUE;
		}
	}
	if ((b = curses_buttons_find(&f->buttons, ch)) >= 0) {
		curses_form_focus(f, f->nslots - f->buttons.n + b);
		return curses_form_press(w, f, f->buttons.b[b].result);
	}
	return items_first ? CURSES_CONTINUE : curses_form_hotkey(w, f, ch, 1);
}

static int
curses_form_field_key(struct wizard *w, struct curses_form *f, enum curses_action a,
    const struct curses_key *k)
{
	struct curses_entry *e = f->field[curses_form_slot(f) == SLOT_FIELD0 ? 0 : 1];
	int masked = f->kind == CURSES_FORM_SECRET && !f->reveal;

	if (a == CA_ENTER) {
		if (f->nfields == 2 && curses_form_slot(f) == SLOT_FIELD0) {
			curses_form_focus(f, 1);
			return CURSES_CONTINUE;
		}
		return curses_form_press(w, f, FE_OK);
	}
	if (a == CA_UP || a == CA_DOWN) {
		if (a == CA_UP && f->focus == 0)
			return CURSES_CONTINUE;
		curses_form_focus(f, f->focus + (a == CA_UP ? -1 : 1));
		/* "Down arrow to pick one": the highlighted suggestion goes into the field. */
		if (a == CA_DOWN && curses_form_slot(f) == SLOT_LIST)
			curses_form_select(f, (long)f->sel);
		return CURSES_CONTINUE;
	}
	if (curses_entry_key(e, a, k, masked)) {
		f->message = NULL;
		return CURSES_CONTINUE;
	}
	return CURSES_PASS;
}

static int
curses_form_list_key(struct wizard *w, struct curses_form *f, enum curses_action a,
    const struct curses_key *k)
{
	switch (a) {
	case CA_UP:
		if (f->sel == 0 && f->kind == CURSES_FORM_TEXT)
			curses_form_focus(f, f->focus - 1);
		else
			curses_form_select(f, (long)f->sel - 1);
		return CURSES_CONTINUE;
	case CA_DOWN:
		curses_form_select(f, (long)f->sel + 1);
		return CURSES_CONTINUE;
	case CA_HOME:
		curses_form_select(f, 0);
		return CURSES_CONTINUE;
	case CA_END:
		curses_form_select(f, (long)f->nitems - 1);
		return CURSES_CONTINUE;
	case CA_ENTER:
		if (f->kind == CURSES_FORM_TEXT)
			curses_form_select(f, (long)f->sel);
		return curses_form_press(w, f, FE_OK);
	case CA_CHAR:
		return curses_form_hotkey(w, f, k->ch, 1);
	default:
		return CURSES_PASS;
	}
}

static int
curses_form_button_key(struct wizard *w, struct curses_form *f, enum curses_action a,
    const struct curses_key *k)
{
	int first = f->nslots - f->buttons.n, b = f->buttons.focus;

	switch (a) {
	case CA_LEFT:
		curses_form_focus(f, first + (b + f->buttons.n - 1) % f->buttons.n);
		return CURSES_CONTINUE;
	case CA_RIGHT:
		curses_form_focus(f, first + (b + 1) % f->buttons.n);
		return CURSES_CONTINUE;
	case CA_UP:
		if (first > 0)
			curses_form_focus(f, first - 1);
		return CURSES_CONTINUE;
	case CA_ENTER:
		return curses_form_press(w, f, f->buttons.b[b].result);
	case CA_CHAR:
		if (k->ch == ' ')
			return curses_form_press(w, f, f->buttons.b[b].result);
		return curses_form_hotkey(w, f, k->ch, 0);
	default:
		return CURSES_PASS;
	}
}

static int
curses_form_key(struct wizard *w, struct curses_widget *wd, enum curses_action a,
    const struct curses_key *k)
{
	struct curses_form *f = wd->data;
	int slot = curses_form_slot(f);

	switch (a) {
	case CA_NEXT:
	case CA_PREV:
		curses_form_focus(f, f->focus + (a == CA_NEXT ? 1 : -1));
		return CURSES_CONTINUE;
	case CA_ESCAPE:
		if (f->kind == CURSES_FORM_SUMMARY)
			return FE_OK;
		return f->q->can_back ? FE_BACK : CURSES_CONTINUE;
	case CA_QUIT:
		return f->kind == CURSES_FORM_SUMMARY ? FE_OK : CURSES_PASS;
	case CA_REVEAL:
		if (f->kind == CURSES_FORM_SECRET && f->q->can_reveal)
			f->reveal = !f->reveal;
		return CURSES_CONTINUE;
	case CA_LANGUAGE:
		/* Another language: the engine asks again, its texts translated anew. */
		if (f->kind != CURSES_FORM_WELCOME)
			return CURSES_PASS;
		return curses_language_choose(w) ? FE_AGAIN : CURSES_CONTINUE;
	case CA_HOTKEY:
		return curses_form_hotkey(w, f, k->ch, slot == SLOT_LIST);
	default:
		break;
	}
	if (slot & SLOT_BUTTON)
		return curses_form_button_key(w, f, a, k);
	if (slot == SLOT_LIST)
		return curses_form_list_key(w, f, a, k);
	return curses_form_field_key(w, f, a, k);
}
