/*
 * The engine: KB Q198814's steps as a table, run one after another through
 * a frontend, with the journal written at every change of state so that a
 * run can be resumed or rolled back (DESIGN.md, "The procedure").
 */
#ifndef KMSRECOVER_PROCEDURE_H
#define KMSRECOVER_PROCEDURE_H

#include "frontend.h"
#include "profile.h"

/* Exit codes (DESIGN.md, "Contracts"). */
enum recovery_exit {
	EXIT_RECOVERED = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_BACKUP_UNUSABLE = 3,
	EXIT_PASSWORD_REFUSED = 4
};

/* What to do: the recovery, or one of the tasks before the disaster (tasks.c). */
enum recovery_task { TASK_RECOVER, TASK_BACKUP, TASK_STARTUP_DISK, TASK_REHEARSE };

struct recovery_options {
	enum recovery_task task;
	int choose_task;    /* the welcome screen offers every task */
	const char *output; /* backup, startup-disk: -o FILE */
	int encrypt;        /* backup: --encrypt */
	int force;          /* startup-disk: --force (overwrite) */
	const char *backup; /* --backup, or NULL to ask */
	/* --startup-disk: a path, "" to search media, NULL when not given */
	const char *startup_disk;
	const char *alpha_file;      /* --alpha-file ("-" = stdin), or NULL */
	const char *passphrase_file; /* --backup-passphrase-file, or NULL */
	int dry_run;
	int resume;              /* --resume */
	int rollback;            /* --rollback */
	int remove_quarantine;   /* --remove-quarantine: 1; --keep-quarantine: 0; -1: ask */
	int pause_between_steps; /* confirm each step as it runs (else all before the stop) */
	const char *report_json;
	/* The default profile's path when it does not exist (the built-in defaults are used), else NULL. */
	const char *no_profile;
	/*
	 * Run after a successful recovery (the demo compares the keys served
	 * with the original server's). Returns 0 and a translated line for the
	 * summary, or -1 and a line saying what differs. May be NULL.
	 */
	int (*after)(void *arg, char **line);
	void *after_arg;
};

/*
 * The recovery, start to end (or resumed, or rolled back), asking through
 * fe. Returns an exit code. The frontend is begun and ended here.
 */
int procedure_run(struct profile *p, struct frontend *fe, const struct recovery_options *o);

/*
 * The fire drill: reads the backup through, checks it, changes nothing.
 * Returns EXIT_RECOVERED (0) when sound, EXIT_BACKUP_UNUSABLE otherwise.
 */
int verify_run(struct profile *p, struct frontend *fe, const char *backup,
    const char *passphrase_file);

/*
 * The tasks before the disaster (tasks.c): make a verified backup, write a
 * startup disk, rehearse a recovery on a throw-away copy. Each begins and
 * ends fe. Return an exit code as procedure_run does.
 */
int task_run(struct profile *p, struct frontend *fe, const struct recovery_options *o);

/* Set from a signal handler: stop at the next safe point. */
extern volatile int recovery_interrupted;

#endif
