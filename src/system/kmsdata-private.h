/*
 * What the files of the Kmsdata folder's code share (not for other
 * layers: they see kmsdata.h). Each uses only those before it:
 * kmsdata-node.c (listing, naming, opening and looking at folders),
 * kmsdata-walk.c (walks below a folder: count, owners, removal),
 * kmsdata-swap.c (quarantine, swap-in and their undos) and kmsdata.c (the
 * folder opened, its siblings named, space, writability, survey).
 */
#ifndef KMSRECOVER_KMSDATA_PRIVATE_H
#define KMSRECOVER_KMSDATA_PRIVATE_H

#include <sys/stat.h>
#include <sys/types.h>

#include "kmsdata.h"
#include "progress.h"

#define KMSDATA_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* A folder an operation moves from or to: where it is and how it looks. */
struct kmsdata_node {
	int dirfd;        /* the folder it is in; -1 when that is missing too */
	const char *name; /* its name there */
	char *path;       /* for messages */
	int exists;
	int empty;
	int mounted; /* on another file system than dirfd: a mount point */
	struct stat st;
};

/* The staging folder, open when the tree is a folder inside it. */
struct kmsdata_staged {
	int fd; /* -1 when the tree is the staging folder itself, or it is missing */
	char *path;
};

/* How kmsdata_fill_in treats the tree it moves into Kmsdata. */
struct kmsdata_fill {
	int restore; /* step 4: Kmsdata's mode and owner, uid:gid below, flushed */
	uid_t uid;
	gid_t gid;
	const char *kill_point; /* fault_point() once the tree is in */
};

/* A walk below a folder, following no symlink. */
struct kmsdata_walk {
	/*
	 * Called for each entry, a folder after its contents; fd is a folder's
	 * own descriptor, -1 for anything else. Returns 0 to go on, or -1 with
	 * *cause set.
	 */
	int (*visit)(struct kmsdata_walk *w, int dirfd, const char *name, int fd,
	    const struct stat *st, const char *path);
	uid_t uid;
	gid_t gid;
	const struct progress *progress;
	struct progress_state state;
	size_t changed; /* entries given another owner */
	char **cause;
};

/* kmsdata-node.c */
/* Adds to *cause what state the folders are left in. */
void __attribute__((format(printf, 2, 3))) kmsdata_state(char **cause, const char *fmt, ...);
int kmsdata_is_entry(const char *name);
char *kmsdata_where(const struct kmsdata *k, const char *name);
int kmsdata_check_sibling(const struct kmsdata *k, const char *name, char **cause);
int kmsdata_list(int dirfd, const char *name, const char *path, char ***names, size_t *count,
    char **cause);
void kmsdata_free_names(char **names, size_t n);
int kmsdata_open_dir(int dirfd, const char *name, const char *path, char **cause);
int kmsdata_sync_fd(int fd, const char *path, char **cause);
void kmsdata_node_init(struct kmsdata_node *n, int dirfd, const char *name, char *path);
int kmsdata_look(struct kmsdata_node *n, char **cause);
int kmsdata_sync_node(const struct kmsdata_node *n, char **cause);

/* kmsdata-walk.c */
int kmsdata_chown_visit(struct kmsdata_walk *w, int dirfd, const char *name, int fd,
    const struct stat *st, const char *path);
int kmsdata_sync_changes(int fd, const char *path, char **cause);
int kmsdata_walk_dir(struct kmsdata_walk *w, int fd, const char *path);
int kmsdata_count(int fd, const char *path, uint64_t *files, uint64_t *bytes, char **cause);

#endif
