/*
 * The only thing the backend knows of the screens (DESIGN.md, "Layers").
 * The engine (procedure.c) drives; a frontend (ui/curses, ui/text.c,
 * ui/batch.c) shows and asks. The backend never draws and never reads the
 * keyboard; a frontend never touches Kmsdata or the service.
 *
 * Strings: every string the engine passes is already translated, except
 * the step titles in struct fe_view, which are untranslated (N_) so that a
 * frontend can redraw the step list after a language switch. Labels of
 * choices mark their hotkey with '&' ("&Resume"); a frontend that has no
 * hotkeys drops the '&' ("&&" is a literal '&').
 *
 * Ownership: everything passed in is the engine's and valid only during
 * the call, except the fe_view given to begin(), which stays valid, and is
 * kept current by the engine, until end().
 */
#ifndef KMSRECOVER_FRONTEND_H
#define KMSRECOVER_FRONTEND_H

#include <stddef.h>

#include "progress.h"

struct secret;

/* What a question call returns. */
enum fe_reply {
	FE_OK = 0,    /* answered: yes, or *choice / *answer set */
	FE_NO = 1,    /* confirm() only: no */
	FE_BACK = 2,  /* the operator went back (only when the question allows it) */
	FE_QUIT = 3,  /* the operator chose to quit (already confirmed by the frontend) */
	FE_AGAIN = 4, /* welcome() only: the language was switched; ask again, translated anew */
	FE_ERROR = -1 /* no answer can be had (batch: a missing option); *cause set */
};

enum fe_level { FE_INFO, FE_WARNING, FE_ERROR_LEVEL };

enum fe_step_state {
	FE_STEP_PENDING,
	FE_STEP_RUNNING,
	FE_STEP_DONE,
	FE_STEP_FAILED,
	FE_STEP_SKIPPED
};

struct fe_step {
	const char *id;    /* "P", "1" .. "7", "F" */
	const char *title; /* untranslated: the frontend calls gettext on it */
	enum fe_step_state state;
};

/* Where the run stands; kept current by the engine between begin() and end(). */
struct fe_view {
	const char *task_title;      /* translated: "Recover the KM Server", ... */
	const char *service_name;    /* "MSExchangeKMS" */
	const char *manager;         /* "systemd", "sysv", "command" */
	const char *kmsdata;         /* the Kmsdata path */
	const char *transcript_path; /* NULL until the transcript is open */
	struct fe_step *steps;
	size_t nsteps;
	int current;            /* index into steps of the step on screen, -1 for none */
	const char *state_text; /* translated: what state Kmsdata and the service are in now */
};

/* One step, as it is about to run. */
struct fe_step_info {
	const char *id;    /* as in fe_step */
	int number;        /* 1..7 for the KB's steps, 0 for the prerequisites and the end */
	const char *title; /* translated */
	/* translated: what the KB step is and why; paragraphs split by "\n\n" */
	const char *explanation;
	/* translated: exactly what the tool is about to do (paths, service, counts); may be NULL */
	const char *action;
	int destructive; /* the step changes Kmsdata or the service */
	/* the step was confirmed before and runs now (steps 2-7 after the last confirmation) */
	int confirmed;
};

struct fe_question {
	/* stable name: the batch option or answers-file key ("backup", "confirm-3") */
	const char *key;
	const char *title; /* translated, short */
	const char *text;  /* translated explanation; may be NULL */
	/* choose(): the labels (with '&' hotkeys), one-line help for each (may be NULL), stable keys */
	const char *const *choices;
	const char *const *choice_help;
	const char *const *choice_keys;
	size_t nchoices;
	int def;         /* choose(): the default index; confirm(): 1 = yes is the default */
	int destructive; /* confirm(): a step that changes things; the default must then be No */
	int can_back;    /* Back is offered */
	int can_reveal;  /* ask_secret(): a reveal toggle may be offered */
	int twice;       /* ask_secret(): ask twice, the two must match */
	/* ask_text(): candidates (e.g. backups found on media); NULL-terminated, may be NULL */
	const char *const *suggestions;
	const char *def_text; /* ask_text(): the pre-filled answer; may be NULL */
	/* > 0 when asked again because the last answer was refused (batch then gives up) */
	int retry;
};

struct fe_summary_line {
	const char *label; /* translated */
	const char *value; /* may hold file names: already escaped */
};

struct fe_summary {
	int success;                           /* the outcome */
	const char *title;                     /* translated: "The KM Server is recovered." */
	const struct fe_summary_line *entries; /* (not "lines": term.h defines that) */
	size_t nentries;
	const char *reminder; /* translated: e.g. store the startup disk safely; may be NULL */
};

struct frontend;

/*
 * What a frontend does: one static const table per frontend, shared by
 * every instance (the instance's state is struct frontend's data).
 */
struct frontend_ops {
	/* Takes the screen. view stays valid until end(). -1 with *cause if it cannot. */
	int (*begin)(struct frontend *fe, struct fe_view *view, char **cause);
	/* Gives the screen back, sane. Safe to call twice. */
	void (*end)(struct frontend *fe);

	/*
	 * The first screen: what kmsrecover does and what the operator needs.
	 * q->choices are the tasks (Recover, Back up, ...). May switch the
	 * language: then FE_AGAIN, with *choice the task selected so far, for
	 * the engine to translate its texts anew and ask again. Returns FE_OK
	 * with *choice, FE_AGAIN or FE_QUIT.
	 */
	int (*welcome)(struct frontend *fe, const struct fe_question *q, int *choice, char **cause);

	/* Shows a step (the step list comes from the view). */
	void (*step)(struct frontend *fe, const struct fe_step_info *info);

	/* Yes/no. FE_OK (yes), FE_NO, FE_BACK, FE_QUIT, or FE_ERROR with *cause. */
	int (*confirm)(struct frontend *fe, const struct fe_question *q, char **cause);

	/* One of q->choices. FE_OK with *choice, FE_BACK, FE_QUIT, FE_ERROR. */
	int (*choose)(struct frontend *fe, const struct fe_question *q, int *choice, char **cause);

	/* A line of text (a path). FE_OK with *answer (caller frees), FE_BACK, FE_QUIT, FE_ERROR. */
	int (*ask_text)(struct frontend *fe, const struct fe_question *q, char **answer,
	    char **cause);

	/* A secret, masked. FE_OK with *out (secret_free after), FE_BACK, FE_QUIT, FE_ERROR. */
	int (*ask_secret)(struct frontend *fe, const struct fe_question *q, struct secret **out,
	    char **cause);

	/*
	 * Long work going on: label (translated) and the counts. Called often;
	 * the frontend throttles its drawing and serves the keyboard. Returns
	 * 0 to go on, non-zero when the operator asked to stop.
	 */
	int (*progress)(struct frontend *fe, const char *label, const struct progress_state *s);

	/* A message. detail (may be NULL) is the service's or a tool's own output. */
	void (
	    *note)(struct frontend *fe, enum fe_level level, const char *text, const char *detail);

	/* The end: outcome and where things are. */
	void (*summary)(struct frontend *fe, const struct fe_summary *s);

	/* Frees fe and its data (after end()). */
	void (*destroy)(struct frontend *fe);
};

struct frontend {
	const char *name; /* "curses", "text", "batch" */
	void *data;       /* the frontend's own */
	const struct frontend_ops *ops;
};

/*
 * A label without its '&' marks, newly allocated ("&&" -> "&"); *hot is the
 * byte offset in it of the hotkey (the character after the first single
 * '&'), or -1 when it has none.
 */
char *fe_label_parse(const char *label, long *hot);
/* Strips '&' hotkey marks from a label into a new string ("&&" -> "&"). */
char *fe_label_plain(const char *label);
/*
 * A label for a frontend without hotkeys (line mode): as fe_label_plain,
 * and a hotkey given after the text as "(&X)" (the CJK catalogs' way) left
 * out, since no key reads it there. Newly allocated.
 */
char *fe_label_words(const char *label);
/* The hotkey of a label: the Unicode code point after a single '&', or 0. */
int fe_label_hotkey(const char *label);

#endif
