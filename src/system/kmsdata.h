/*
 * The Kmsdata folder and its siblings: the quarantine (step 3), the staged
 * tree (step 4), and their undo. Everything is done relative to the parent
 * folder's file descriptor with *at() calls and O_NOFOLLOW, so a path
 * swapped under us cannot redirect the work. Every operation is idempotent:
 * run again after an interruption at any point, it finishes the job, which
 * is what makes resume and roll back possible (DESIGN.md, rule 4).
 */
#ifndef KMSRECOVER_KMSDATA_H
#define KMSRECOVER_KMSDATA_H

#include <stdint.h>
#include <sys/types.h>

#include "progress.h"

struct kmsdata {
	char *path;   /* as given, absolute */
	char *parent; /* dirname */
	char *base;   /* basename */
	int parent_fd;
};

/* Opens the parent folder. Kmsdata itself need not exist. -1 with *cause. */
int kmsdata_open(struct kmsdata *k, const char *path, char **cause);
void kmsdata_close(struct kmsdata *k);

/* Whether parent/name exists (lstat). */
int kmsdata_sibling_exists(const struct kmsdata *k, const char *name);

/* "<base>.pre-recovery-<stamp>" and "<base>.staged-<stamp>", newly allocated. */
char *kmsdata_quarantine_name(const struct kmsdata *k, const char *stamp);
char *kmsdata_staged_name(const struct kmsdata *k, const char *stamp);

/*
 * Counts Kmsdata's regular files and bytes (no symlinks followed). Returns 0,
 * or -1 with *cause when Kmsdata is missing or not a folder.
 */
int kmsdata_survey(const struct kmsdata *k, uint64_t *files, uint64_t *bytes, char **cause);

/* Bytes available to an unprivileged writer on Kmsdata's file system. */
int kmsdata_free_space(const struct kmsdata *k, uint64_t *avail, char **cause);

/*
 * Whether this process may make the changes of steps 3 and 4: rename in
 * Kmsdata's parent and in Kmsdata, give a new Kmsdata the owner of the old
 * one, and give the restored tree the owner uid:gid (either -1 when none is
 * asked). Not root, or a read-only mount, is found here, before anything is
 * done, rather than half way through step 3. 0, or -1 with *cause.
 */
int kmsdata_check_writable(const struct kmsdata *k, uid_t uid, gid_t gid, char **cause);

/*
 * Step 3: moves Kmsdata's contents into the sibling quarantine (renames on
 * the same file system) and leaves Kmsdata an empty folder with the same
 * mode and owner. Durable (fsync of both folders and the parent) on return.
 */
int kmsdata_quarantine(const struct kmsdata *k, const char *quarantine, char **cause);
/* Undo of step 3: the quarantine's contents back into Kmsdata (which must be empty or absent). */
int kmsdata_unquarantine(const struct kmsdata *k, const char *quarantine, char **cause);

/*
 * Before the stop: gives the staged tree (staged/payload), its top
 * included, the owner uid:gid (either (uid_t)-1 for unchanged) and makes
 * that durable, so that step 4 has only renames left to do while the
 * service is down.
 */
int kmsdata_settle_staged(const struct kmsdata *k, const char *staged, const char *payload,
    uid_t uid, gid_t gid, char **cause);

/*
 * Step 4: moves the staged tree (staged/payload; payload "" = staged itself)
 * into Kmsdata, which must be empty or absent. The tree takes Kmsdata's
 * folder mode and owner; with uid/gid not (uid_t)-1 every restored entry is
 * chowned to them (a walk of the tree: kmsdata_settle_staged does it before
 * the stop, then -1 here). The tree's files must be on disk already, as
 * staging leaves them; the renames are durable on return.
 */
int kmsdata_swap_in(const struct kmsdata *k, const char *staged, const char *payload, uid_t uid,
    gid_t gid, char **cause);
/* Undo of step 4: Kmsdata's contents back to the staged folder, Kmsdata left empty. */
int kmsdata_swap_out(const struct kmsdata *k, const char *staged, const char *payload,
    char **cause);

/*
 * Removes the sibling name and everything under it without following
 * symlinks. Absent is success. Reports progress per file.
 */
int kmsdata_remove_sibling(const struct kmsdata *k, const char *name,
    const struct progress *progress, char **cause);

#endif
