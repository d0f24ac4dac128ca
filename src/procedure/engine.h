/*
 * The engine's insides, shared by procedure.c (the steps, resume, roll
 * back), prereq.c (step P: the backup and the password) and media.c. Not
 * for the frontends: they see only frontend.h.
 */
#ifndef KMSRECOVER_ENGINE_H
#define KMSRECOVER_ENGINE_H

#include <stdint.h>
#include <time.h>

#include "backup.h"
#include "journal.h"
#include "kmsdata.h"
#include "log.h"
#include "procedure.h"
#include "service.h"

enum { STEP_P, STEP_1, STEP_2, STEP_3, STEP_4, STEP_5, STEP_6, STEP_7, STEP_F, STEP_COUNT };

struct recovery {
	struct profile *profile;
	struct frontend *fe;
	const struct recovery_options *opt;

	struct kmsdata kmsdata;
	struct journal *journal;
	struct transcript transcript;
	char *stamp;

	struct secret *alpha;
	char *alpha_source; /* translated: "typed", or the startup disk's path */
	struct secret *passphrase;
	enum backup_kind backup_kind;
	char *backup;
	struct backup_result staged;
	int staged_ok;

	uint64_t files_before, bytes_before; /* Kmsdata before step 3 */
	struct timespec down_since;
	double downtime;

	struct fe_view view;
	struct fe_step steps[STEP_COUNT];
	char *state_text;  /* where things stand, with the advice to run again when unfinished */
	char *state_plain; /* the same without the advice */
	char *cause;       /* the last failure, for the report */
	int rolled_back;
	int declined; /* the operator said no or quit at a confirmation */
	int started_iso_set;
	char *started_iso;
};

/* One of KB Q198814's steps (steps.c). */
struct step {
	const char *id;
	int number;
	const char *title;       /* N_() */
	const char *explanation; /* N_() */
	int destructive;
	/* Runs the step; returns -1 to go on, or an exit code to end the run. */
	int (*run)(struct recovery *r);
	/* The phase the journal holds once the step is done (or -1). */
	int done_phase;
};
extern const struct step recovery_step_table[STEP_COUNT];

/* steps.c: the end's quarantine question; its path when kept, else NULL. */
char *steps_finish_quarantine(struct recovery *r);

/* rollback.c */
int recovery_discard_staged(struct recovery *r);
int recovery_rollback(struct recovery *r);
int recovery_from_journal(struct recovery *r, int *first);

/* procedure.c, for steps.c and rollback.c */
int recovery_finish(struct recovery *r, int code);
int recovery_steps(struct recovery *r, int first);
int recovery_open_transcript(struct recovery *r, const char *path);

/* Step P (prereq.c): the backup read into staging, the password proven. Returns an exit code or -1 to go on. */
int prereq_run(struct recovery *r);
/* Asks for the alpha string again (step 7's "another password", resume). 0, or an exit code. */
int prereq_ask_alpha(struct recovery *r, int again);
/* Runs the verifier, if any, on dir. 1 unlocks (or no verifier), 0 refused (noted), -1 failed (noted). */
int prereq_verify_alpha(struct recovery *r, const char *dir);

/* procedure.c helpers used by prereq.c. */
void recovery_note(struct recovery *r, enum fe_level level, const char *detail, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
int recovery_progress(struct recovery *r, const char *label, const struct progress_state *s);
/* A progress adapter for the backend modules; arg is a struct progress_ctx. */
struct progress_ctx {
	struct recovery *r;
	const char *label;
};
int recovery_progress_cb(void *arg, const struct progress_state *s);
void recovery_set_state(struct recovery *r);
void recovery_init(struct recovery *r, struct profile *p, struct frontend *fe,
    const struct recovery_options *o);
void recovery_release(struct recovery *r);
/* mkdir -p, 0700. */
int recovery_state_dir(const char *dir, char **cause);
/* tasks.c: a task other than the recovery, with the frontend already begun. */
int task_dispatch(struct recovery *r, enum recovery_task task);
/* prereq.c, shared with tasks.c. */
int prereq_backup(struct recovery *r);
int prereq_passphrase(struct recovery *r);
int prereq_passphrase_ask(struct recovery *r, struct fe_question *q);
int recovery_save(struct recovery *r, enum journal_phase phase);

#endif
