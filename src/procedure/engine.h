/*
 * The engine's insides, shared by procedure.c (the steps, resume, roll
 * back), prereq.c (step P: the backup and the password) and media.c. Not
 * for the frontends: they see only frontend.h.
 */
#ifndef KMSRECOVER_ENGINE_H
#define KMSRECOVER_ENGINE_H

#include <stdint.h>
#include <sys/stat.h>
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
	char *alpha_source;     /* translated: "typed", or the startup disk's path */
	const char *alpha_kind; /* the JSON report's: "typed", "file", "startup-disk" */
	char *alpha_path;       /* the file or KMSPWD.INI read, or NULL */
	struct secret *passphrase;
	enum backup_kind backup_kind;
	char *backup;
	struct backup_result staged;
	int staged_ok;
	/* What was staged: a backup file that comes back unchanged is not read again. */
	struct stat staged_from;
	int prereq_again;   /* step P asked again (Back): an option's answer is shown, not taken */
	int alpha_can_back; /* the password's first question may go back (step P) */
	int alpha_choice;   /* the password's source chosen last (kept for Back) */

	uint64_t files_before, bytes_before; /* Kmsdata before step 3 */
	struct timespec down_since;
	double downtime;

	struct fe_view view;
	struct fe_step steps[STEP_COUNT];
	const struct step *table;  /* steps_table, for the files below steps.c */
	char *actions[STEP_COUNT]; /* what each step does, as confirmed */
	int pausing;               /* each step confirmed as it runs (pause-between-steps) */
	int surveyed;              /* files_before and bytes_before are counted */
	char *state_text;  /* where things stand, with the advice to run again when unfinished */
	char *state_plain; /* the same without the advice */
	char *cause;       /* the last failure, for the report */
	int rolled_back;
	int declined; /* the operator said no or quit at a confirmation */
	int stopped;  /* the operator (or a signal) stopped work in progress */
	int started_iso_set;
	char *started_iso;
	/* A run that resumes an interrupted recovery: its own start and stamp (the report's name). */
	char *resumed_iso;
	char *resumed_stamp;
};

/*
 * What a step returns, besides an exit code (enum recovery_exit, >= 0) that
 * ends the run: go on with the next step, or go back to the one before.
 * (The procedure's other functions that may end the run say -1 to go on.)
 */
enum step_result { STEP_GO_ON = -1, STEP_GO_BACK = -2 };

/* One of KB Q198814's steps (steps.c). */
struct step {
	const char *id;
	int number;
	const char *title;       /* N_() */
	const char *explanation; /* N_() */
	int destructive;
	/*
	 * Shows the step and asks for its confirmation (NULL: nothing to ask), and
	 * does it (NULL: nothing to do). Each returns STEP_GO_ON, STEP_GO_BACK, or
	 * an exit code (>= 0) that ends the run.
	 */
	int (*ask)(struct recovery *r);
	int (*act)(struct recovery *r);
	/* The phase the journal holds once the step is done (or -1). */
	int done_phase;
};
/* A progress adapter for the backend modules; arg is a struct progress_ctx. */
struct progress_ctx {
	struct recovery *r;
	const char *label;
};

/*
 * The files of the procedure, each using only those before it in this list
 * (tests/style/layers.sh keeps the rule that no two call each other).
 */

/* recovery.c: the context. */
void recovery_init(struct recovery *r, struct profile *p, struct frontend *fe,
    const struct recovery_options *o);
void recovery_release(struct recovery *r);
/* A message to the operator, also in the transcript. detail (may be NULL) is a tool's output. */
void recovery_note(struct recovery *r, enum fe_level level, const char *detail, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
/*
 * A failure: noted as an error (with detail, which may be NULL) and kept as
 * the run's cause for the report and the summary, replacing an earlier one.
 * Takes cause.
 */
void recovery_fail(struct recovery *r, const char *detail, char *cause);
/* When no profile was found: says so, and which defaults are used, before anything else. */
void recovery_note_profile(struct recovery *r);
/* Progress to the frontend; non-zero when the operator (or a signal) asked to stop. */
int recovery_progress(struct recovery *r, const char *label, const struct progress_state *s);
int recovery_progress_cb(void *arg, const struct progress_state *s);
/* Puts where Kmsdata and the service stand into words (state_text, state_plain). */
void recovery_set_state(struct recovery *r);
/* Saves the journal at phase (not in a dry run). 0, or -1 with the failure noted. */
int recovery_save(struct recovery *r, enum journal_phase phase);
int recovery_open_transcript(struct recovery *r, const char *path);
/* mkdir -p, 0700. */
int recovery_state_dir(const char *dir, char **cause);

/*
 * ask.c: a question put to the frontend. Each returns the frontend's reply;
 * FE_ERROR (batch: no answer) has its cause noted already. ask_exit gives
 * the exit code a reply other than FE_OK ends the run with: usage_code for
 * FE_ERROR, EXIT_FAILED for Quit or Back.
 */
int ask_text(struct recovery *r, const struct fe_question *q, char **answer);
int ask_secret(struct recovery *r, const struct fe_question *q, struct secret **out);
int ask_choose(struct recovery *r, const struct fe_question *q, int *choice);
int ask_confirm(struct recovery *r, const struct fe_question *q);
int ask_exit(int reply, int usage_code);

/* prereq.c: step P, the backup read into staging, the password proven. -1 to go on, or an exit code. */
int prereq_run(struct recovery *r);
/* Asks for the alpha string again (step 7's "another password", resume). -1, or an exit code. */
int prereq_ask_alpha(struct recovery *r, int again);
/* Runs the verifier, if any, on dir. 1 unlocks (or no verifier), 0 refused (noted), -1 failed (noted). */
int prereq_verify_alpha(struct recovery *r, const char *dir);
/* The backup's path. With can_back, Back returns STEP_GO_BACK. */
int prereq_backup(struct recovery *r, int can_back);
/* The backup's passphrase when it is encrypted. With can_back, Back returns STEP_GO_BACK. */
int prereq_passphrase(struct recovery *r, int can_back);
int prereq_passphrase_ask(struct recovery *r, struct fe_question *q);
/* The gauge's label while the backup is read (step P, verify). */
void prereq_progress_label(struct progress_ctx *ctx, struct recovery *r);

/* rollback.c: undoing what the journal says was done. */
/* Removes the staged folder of an abandoned run. 0, or -1 with the cause noted. */
int rollback_discard_staged(struct recovery *r);
/*
 * A run that changed nothing: its staged copy removed and its journal closed,
 * so that no later run takes it for an interrupted one. 0, or -1 (noted).
 */
int rollback_unstage(struct recovery *r);
/* Undoes in reverse, saving the journal after each undo. 0, or -1 (noted). */
int rollback_undo(struct recovery *r);
/* Rolls back after a failed step: always EXIT_FAILED (the recovery did not happen). */
int rollback_recovery(struct recovery *r);
/* Rolls back an interrupted recovery, as the operator asked: 0 when done, else EXIT_FAILED. */
int rollback_as_asked(struct recovery *r);

/* step-screen.c: a step shown and confirmed (the table from r->table). */
/* Shows step i (running); confirmed: it was confirmed before and runs now. */
void steps_show(struct recovery *r, int i, const char *action, int confirmed);
/* Keeps step i's action (taken) for its screen while it runs. */
void steps_set_action(struct recovery *r, int i, char *action);
/* Step i's confirmation: STEP_GO_ON, STEP_GO_BACK or an exit code. */
int steps_confirm(struct recovery *r, int i, const char *title, const char *text, int destructive);
/* The last question before the service goes down: STEP_GO_ON, STEP_GO_BACK or an exit code. */
int steps_ready(struct recovery *r);

/* steps-act.c: what steps 2-7 do once confirmed. */
int step2_stop(struct recovery *r);
int step3_clear(struct recovery *r);
int step4_restore(struct recovery *r);
int step6_check(struct recovery *r);
int step7_start(struct recovery *r);
/* The end's quarantine question; its path when kept, else NULL. */
char *steps_finish_quarantine(struct recovery *r);

/* steps.c: KB Q198814, one table. */
extern const struct step steps_table[STEP_COUNT];
/* The step list of the view, from the table. */
void steps_view(struct recovery *r);

/* finish.c: the end of every recovery run; returns code (or a failure of the end's own). */
int finish_run(struct recovery *r, int code);

/* run.c: runs the steps from first on. Returns an exit code. */
int run_steps(struct recovery *r, int first);

/* resume.c: a journal was found. An exit code, or -1 for a new run (first set). */
int resume_from_journal(struct recovery *r, int *first);

/* task-view.c: what the tasks show with (their step list, a step, the summary). */
void task_view_steps(struct recovery *r, const char *title, const char *const *titles, size_t n);
/* Shows step i as running (i < 0: the task's title alone). */
void task_view_show(struct recovery *r, int i, const char *explanation, const char *action);
void task_view_done(struct recovery *r, int i, int ok);
void task_view_summary(struct recovery *r, int success, const char *title,
    const struct fe_summary_line *lines, size_t n);

/* task-disk.c: the startup disk's task. */
#define TASK_DISK_STEPS 5
extern const char *const task_disk_titles[TASK_DISK_STEPS];
int task_disk_make(struct recovery *r);

/* task-backup-where.c: where the backup goes, checked before the stop; NULL with *ret. */
char *task_backup_where(struct recovery *r, int *ret);

/*
 * What a task or the recovery returns when the operator went back from its
 * first question: the welcome screen is shown again (procedure.c).
 */
#define RUN_WELCOME STEP_GO_BACK

/* tasks.c: a task other than the recovery, with the frontend already begun. */
int task_dispatch(struct recovery *r, enum recovery_task task);

#endif
