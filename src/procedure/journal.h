/*
 * The journal: the durable record of where a recovery stands, in the state
 * directory, rewritten atomically (temp file, fsync, rename, fsync of the
 * folder) after every change of state, so that a run interrupted anywhere
 * (DESIGN.md, rule 4) is found by the next one, which offers Resume or Roll
 * back. A plain "key=value" file, one per line, so an operator can read it.
 */
#ifndef KMSRECOVER_JOURNAL_H
#define KMSRECOVER_JOURNAL_H

/* How far a recovery has come; each phase is durable once written. */
enum journal_phase {
	JOURNAL_STAGING,  /* the staged folder may be incomplete */
	JOURNAL_STAGED,   /* staged, verified; nothing else changed */
	JOURNAL_STOPPING, /* the stop was requested */
	JOURNAL_STOPPED,  /* step 2 done */
	JOURNAL_QUARANTINING,
	JOURNAL_QUARANTINED, /* step 3 done */
	JOURNAL_RESTORING,
	JOURNAL_RESTORED, /* step 4 done */
	JOURNAL_STARTING,
	JOURNAL_STARTED /* step 7 done: recovered */
};

struct journal {
	char *path; /* state_dir/journal */
	enum journal_phase phase;
	char *stamp;      /* UTC stamp naming the staged and quarantine folders */
	char *kmsdata;    /* the Kmsdata path */
	char *staged;     /* staged folder name beside Kmsdata */
	char *quarantine; /* quarantine folder name beside Kmsdata */
	char *payload;    /* the tree inside the staged folder ("" or "Kmsdata") */
	char *backup;     /* the backup's path */
	char *backup_sha256;
	char *transcript; /* the transcript's path */
	char *started;    /* when the recovery began (ISO 8601, UTC) */
	/* What step P staged, for the report of a run that resumes it. */
	unsigned long long files, bytes;
	int manifest_found;
	/* When step 2 stopped the service (seconds since the epoch), or 0. */
	double stopped_at;
	int service_was_running;
	int rolling_back; /* a roll back is under way: phase is what remains to undo */
};

/* A new journal for state_dir (not yet written). */
struct journal *journal_new(const char *state_dir);
void journal_free(struct journal *j);

/*
 * Reads state_dir/journal. Returns 1 with *out when one is there, 0 when
 * there is none, -1 with *cause when it is there but unreadable or damaged
 * (naming the file and line).
 */
int journal_load(const char *state_dir, struct journal **out, char **cause);

/* Writes it atomically. -1 with *cause. */
int journal_save(struct journal *j, char **cause);

/* Moves it aside as journal.done-<stamp> (kept for the record). */
int journal_close(struct journal *j, char **cause);

const char *journal_phase_name(enum journal_phase p);

/* "20261125T123824Z" as "2026-11-25 12:38:24 UTC" (newly allocated; the stamp itself when it is not one). */
char *journal_stamp_readable(const char *stamp);

#endif
