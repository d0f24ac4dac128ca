/*
 * The three frontends (DESIGN.md, "Layers"): each returns a struct frontend
 * (src/frontend/frontend.h) to hand to the engine, freed with frontend_free().
 */
#ifndef KMSRECOVER_FRONTENDS_H
#define KMSRECOVER_FRONTENDS_H

#include <stdio.h>

#include "frontend.h"

/*
 * Batch: unattended. Answers come from a table of key=value pairs (the
 * command-line options and an answers file), looked up by fe_question.key.
 * confirm() of a destructive question needs "yes"=1. A missing answer is
 * FE_ERROR with a cause naming the option.
 */
struct batch_answers {
	char **keys;   /* NULL-terminated */
	char **values; /* same length */
	int yes;       /* --yes */
};
struct frontend *batch_frontend_new(const struct batch_answers *answers, FILE *out);
/* answers.c: adds key = value (a copy of each). */
void batch_answers_add(struct batch_answers *a, const char *key, const char *value);
/* The value of key, the first given; NULL when none was. */
const char *batch_answers_get(const struct batch_answers *a, const char *key);
void batch_answers_free(struct batch_answers *a);
/*
 * Reads an answers file: "key = value" lines, # and ; comments, every key
 * and value checked (an unknown key, a value its question cannot take, a
 * key given twice). Keys a already holds (the options) are kept. 0, or -1
 * with *cause (translated) naming the file and line.
 */
int batch_answers_read(struct batch_answers *a, const char *path, char **cause);

/*
 * Text: line mode for serial consoles, TERM=dumb, screen readers. The
 * answers are read from in, one a line (also when it is not a terminal:
 * --frontend text). yes (--yes) answers every confirmation yes, saying so,
 * but the quarantine's removal, which it declines.
 */
struct frontend *text_frontend_new(FILE *in, FILE *out, int yes);

/* Curses: the wizard. NULL with *cause when the terminal cannot carry it. */
struct frontend *curses_frontend_new(char **cause);

void frontend_free(struct frontend *fe);

/* Shared by the line-mode frontends (line.c): the summary as lines. */
void line_summary(FILE *out, const struct fe_summary *s);

/*
 * The columns a line on out may take (line.c): the terminal's width when
 * out is a terminal, else COLUMNS when set and sane, else 80; less one,
 * so that a line that fills the terminal does not wrap on its own.
 */
int line_columns(FILE *out);
/*
 * Writes prefix (may be NULL) and text word-wrapped to the width of out
 * (the terminal's, else COLUMNS, else 80; less one), the lines after the
 * first indented by hang blanks; a word is never split, so a path stays
 * whole (line.c).
 */
void line_wrapped(FILE *out, const char *prefix, const char *text, int hang);
/*
 * As line_wrapped, but a value that is a path (it starts with '/' or '~')
 * or a single word goes on one line with its prefix however long: a
 * summary's value, a candidate found on media.
 */
void line_value(FILE *out, const char *prefix, const char *value, int hang);

/* Shared by the line-mode frontends: when a progress line is due (every step percent, or after seconds). */
struct line_progress {
	int last_percent; /* -1 at first */
	long last_time;
};
int line_progress_due(struct line_progress *lp, const struct progress_state *s, int step,
    int seconds, int *percent);

#endif
