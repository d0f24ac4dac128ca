/*
 * The Kmsdata folder and its siblings (see kmsdata.h). Step 3 moves
 * Kmsdata's tree into the quarantine beside it and leaves an empty Kmsdata;
 * step 4 moves the staged tree in; their undos move the trees back. Every
 * change is a rename on one file system, made through the parent folder's
 * descriptor with *at() calls that follow no symlink, so a path swapped
 * under us cannot redirect the work.
 *
 * No operation keeps state of its own: each first looks at where the two
 * folders are and what they hold, and from any state it can have left
 * behind (killed at any instruction, a system call failed) a second run
 * finishes the job (DESIGN.md, safety rules 2 to 4). A rename of a whole
 * folder is atomic; a folder that cannot be renamed (Kmsdata as a mount
 * point: EBUSY) has its entries renamed one by one instead, never
 * replacing anything, which works where the file system allows it (Linux
 * refuses renames between mounts with EXDEV: the operation then stops with
 * nothing moved).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "i18n.h"
#include "kmsdata.h"
#include "xmalloc.h"

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

static int kmsdata_walk_dir(struct kmsdata_walk *w, int fd, const char *path);

/* Adds to *cause what state the folders are left in. */
static void __attribute__((format(printf, 2, 3))) kmsdata_state(char **cause, const char *fmt, ...)
{
	va_list ap;
	char *state, *what = *cause;

	va_start(ap, fmt);
	state = xvasprintf(fmt, ap);
	va_end(ap);
	/* TRANSLATORS: what failed, then what state the folders are left in. */
	*cause = xasprintf(_("%1$s; %2$s"), what, state);
	free(what);
	free(state);
}

/* Whether name is a single entry of a folder. */
static int
kmsdata_is_entry(const char *name)
{
	return *name != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0;
}

/* The path of a sibling of Kmsdata, for messages. */
static char *
kmsdata_where(const struct kmsdata *k, const char *name)
{
	if (strcmp(k->parent, "/") == 0)
		return xasprintf("/%s", name);
	return xasprintf("%s/%s", k->parent, name);
}

static int
kmsdata_check_sibling(const struct kmsdata *k, const char *name, char **cause)
{
	if (!kmsdata_is_entry(name)) {
		*cause = xasprintf(_("\"%s\" is not the name of a folder beside Kmsdata"), name);
		return -1;
	}
	if (strcmp(name, k->base) == 0) {
		*cause = xasprintf(_("\"%s\" is the Kmsdata folder itself, not a folder beside it"),
		    name);
		return -1;
	}
	return 0;
}

int
kmsdata_open(struct kmsdata *k, const char *path, char **cause)
{
	struct stat st;
	size_t end, slash, top;
	int error;

	memset(k, 0, sizeof *k);
	k->parent_fd = -1;
	end = strlen(path);
	while (end > 1 && path[end - 1] == '/')
		end--;
	if (path[0] != '/' || end <= 1) {
		*cause = xasprintf(_("the Kmsdata folder must be an absolute path other than /, "
				     "not \"%s\""),
		    path);
		return -1;
	}
	for (slash = end - 1; path[slash] != '/'; slash--)
		;
	for (top = slash; top > 0 && path[top - 1] == '/'; top--)
		;
	k->path = xstrdup(path);
	k->base = xstrndup(path + slash + 1, end - slash - 1);
	k->parent = xstrndup(path, top == 0 ? 1 : top);
	if (!kmsdata_is_entry(k->base)) {
		*cause = xasprintf(_("\"%s\" does not name a folder"), path);
		goto fail;
	}
	if ((k->parent_fd = open(k->parent, KMSDATA_DIR_FLAGS)) == -1) {
		error = errno;
		if (lstat(k->parent, &st) == 0 && S_ISLNK(st.st_mode))
			*cause = xasprintf(
			    _("the folder %s holding Kmsdata is a symbolic link; give "
			      "the real path of Kmsdata"),
			    k->parent);
		else
			*cause = xasprintf(_("cannot open the folder %1$s holding Kmsdata: %2$s"),
			    k->parent, strerror(error));
		goto fail;
	}
	return 0;
fail:
	kmsdata_close(k);
	return -1;
}

void
kmsdata_close(struct kmsdata *k)
{
	if (k->path != NULL && k->parent_fd != -1)
		close(k->parent_fd);
	free(k->path);
	free(k->parent);
	free(k->base);
	memset(k, 0, sizeof *k);
	k->parent_fd = -1;
}

int
kmsdata_sibling_exists(const struct kmsdata *k, const char *name)
{
	struct stat st;

	if (fstatat(k->parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno != ENOENT;
}

char *
kmsdata_quarantine_name(const struct kmsdata *k, const char *stamp)
{
	return xasprintf("%s.pre-recovery-%s", k->base, stamp);
}

char *
kmsdata_staged_name(const struct kmsdata *k, const char *stamp)
{
	return xasprintf("%s.staged-%s", k->base, stamp);
}

/* The names in a folder but "." and "..", newly allocated. */
static int
kmsdata_list(int dirfd, const char *name, const char *path, char ***names, size_t *count,
    char **cause)
{
	DIR *dir = NULL;
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, size = 0;
	int fd;

	if ((fd = openat(dirfd, name, KMSDATA_DIR_FLAGS)) == -1 || (dir = fdopendir(fd)) == NULL)
		goto fail;
	for (;;) {
		errno = 0;
		if ((de = readdir(dir)) == NULL)
			break;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == size) {
			size = size == 0 ? 16 : size * 2;
			v = xreallocarray(v, size, sizeof *v);
		}
		v[n++] = xstrdup(de->d_name);
	}
	if (errno != 0)
		goto fail;
	closedir(dir);
	*names = v;
	*count = n;
	return 0;
fail:
	*cause = xasprintf(_("cannot read the folder %1$s: %2$s"), path, strerror(errno));
	if (dir != NULL)
		closedir(dir);
	else if (fd != -1)
		close(fd);
	while (n > 0)
		free(v[--n]);
	free(v);
	return -1;
}

static void
kmsdata_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int
kmsdata_open_dir(int dirfd, const char *name, const char *path, char **cause)
{
	int fd;

	if ((fd = openat(dirfd, name, KMSDATA_DIR_FLAGS)) == -1)
		*cause = xasprintf(_("cannot open the folder %1$s: %2$s"), path, strerror(errno));
	return fd;
}

static int
kmsdata_sync_fd(int fd, const char *path, char **cause)
{
	if (fault_fail("fsync") != 0 || fsync(fd) != 0) {
		*cause = xasprintf(_("cannot flush %1$s to disk: %2$s"), path, strerror(errno));
		return -1;
	}
	return 0;
}

#ifndef HAVE_SYNCFS
static int
kmsdata_sync_file(int dirfd, const char *name, const char *path, char **cause)
{
	int fd, ret;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		*cause = xasprintf(_("cannot open %1$s: %2$s"), path, strerror(errno));
		return -1;
	}
	ret = kmsdata_sync_fd(fd, path, cause);
	close(fd);
	return ret;
}
#endif

static void
kmsdata_node_init(struct kmsdata_node *n, int dirfd, const char *name, char *path)
{
	memset(n, 0, sizeof *n);
	n->dirfd = dirfd;
	n->name = name;
	n->path = path;
}

/* Finds out whether n exists (as a folder: anything else is an error), is empty, is mounted. */
static int
kmsdata_look(struct kmsdata_node *n, char **cause)
{
	struct stat dst;
	char **names;
	size_t count;

	n->exists = n->empty = n->mounted = 0;
	if (n->dirfd == -1)
		return 0;
	if (fstatat(n->dirfd, n->name, &n->st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		*cause = xasprintf(_("cannot examine %1$s: %2$s"), n->path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(n->st.st_mode)) {
		*cause = xasprintf(_("%s is not a folder; it has been left alone"), n->path);
		return -1;
	}
	if (fstat(n->dirfd, &dst) != 0) {
		*cause = xasprintf(_("cannot examine the folder holding %1$s: %2$s"), n->path,
		    strerror(errno));
		return -1;
	}
	if (kmsdata_list(n->dirfd, n->name, n->path, &names, &count, cause) != 0)
		return -1;
	kmsdata_free_names(names, count);
	n->exists = 1;
	n->empty = count == 0;
	n->mounted = n->st.st_dev != dst.st_dev;
	return 0;
}

static int
kmsdata_sync_node(const struct kmsdata_node *n, char **cause)
{
	int fd, ret;

	if ((fd = kmsdata_open_dir(n->dirfd, n->name, n->path, cause)) == -1)
		return -1;
	ret = kmsdata_sync_fd(fd, n->path, cause);
	close(fd);
	return ret;
}

/*
 * Gives folder n the owner and mode of want. No chown when the owner is
 * already right, so that an unprivileged run works wherever nothing needs
 * changing; the mode is set after the owner, which may clear set-id bits.
 */
static int
kmsdata_adopt(const struct kmsdata_node *n, const struct stat *want, char **cause)
{
	struct stat st;
	int fd, chowned = 0, ret = -1;

	if ((fd = kmsdata_open_dir(n->dirfd, n->name, n->path, cause)) == -1)
		return -1;
	if (fstat(fd, &st) != 0) {
		*cause = xasprintf(_("cannot examine %1$s: %2$s"), n->path, strerror(errno));
		goto out;
	}
	if (st.st_uid != want->st_uid || st.st_gid != want->st_gid) {
		if (fault_fail("chown") != 0 || fchown(fd, want->st_uid, want->st_gid) != 0) {
			*cause = xasprintf(_("cannot give %1$s the owner %2$lu:%3$lu: %4$s"),
			    n->path, (unsigned long)want->st_uid, (unsigned long)want->st_gid,
			    strerror(errno));
			goto out;
		}
		chowned = 1;
	}
	if ((chowned || (st.st_mode & 07777) != (want->st_mode & 07777)) &&
	    fchmod(fd, want->st_mode & 07777) != 0) {
		*cause = xasprintf(_("cannot set the mode of %1$s to %2$04o: %3$s"), n->path,
		    (unsigned int)(want->st_mode & 07777), strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Creates folder n (there already is fine) with the owner and mode of want. */
static int
kmsdata_make_dir(const struct kmsdata_node *n, const struct stat *want, char **cause)
{
	if (fault_fail("mkdir") != 0 || mkdirat(n->dirfd, n->name, 0700) != 0) {
		if (errno != EEXIST) {
			*cause = xasprintf(_("cannot create the folder %1$s: %2$s"), n->path,
			    strerror(errno));
			return -1;
		}
	}
	return kmsdata_adopt(n, want, cause);
}

/* Removes the empty folder n; absent is fine. */
static int
kmsdata_remove_empty(const struct kmsdata_node *n, char **cause)
{
	if (fault_fail("unlink") != 0 || unlinkat(n->dirfd, n->name, AT_REMOVEDIR) != 0) {
		if (errno == ENOENT)
			return 0;
		*cause = xasprintf(_("cannot remove the empty folder %1$s: %2$s"), n->path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* renameat() that never replaces anything (EEXIST instead). */
static int
kmsdata_rename_new(int fromfd, const char *from, int tofd, const char *to)
{
	struct stat st;

	if (fault_fail("rename") != 0)
		return -1;
#ifdef RENAME_NOREPLACE
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return -1;
#endif
	if (fstatat(tofd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return renameat(fromfd, from, tofd, to);
}

/* Renames every entry of folder from into folder to; *moved counts them. */
static int
kmsdata_move_entries(const struct kmsdata_node *from, const struct kmsdata_node *to,
    const char *kill_point, size_t *moved, char **cause)
{
	char **names;
	size_t n, i;
	int ffd = -1, tfd = -1, ret = -1;

	*moved = 0;
	if (kmsdata_list(from->dirfd, from->name, from->path, &names, &n, cause) != 0)
		return -1;
	if ((ffd = kmsdata_open_dir(from->dirfd, from->name, from->path, cause)) == -1 ||
	    (tfd = kmsdata_open_dir(to->dirfd, to->name, to->path, cause)) == -1)
		goto out;
	for (i = 0; i < n; i++, (*moved)++) {
		if (kmsdata_rename_new(ffd, names[i], tfd, names[i]) == 0) {
			fault_point(kill_point);
			continue;
		}
		if (errno == EXDEV)
			*cause = xasprintf(
			    _("cannot move %1$s/%2$s into %3$s: they are on different "
			      "file systems (is Kmsdata a mount point?), and kmsrecover "
			      "moves files only by renaming them"),
			    from->path, names[i], to->path);
		else
			*cause = xasprintf(_("cannot move %1$s/%2$s into %3$s: %4$s"), from->path,
			    names[i], to->path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ffd != -1)
		close(ffd);
	if (tfd != -1)
		close(tfd);
	kmsdata_free_names(names, n);
	return ret;
}

/*
 * Moves entry by entry, from a folder that cannot be renamed. When nothing
 * could be moved, a folder made here is removed again: nothing changed.
 */
static int
kmsdata_move_each(struct kmsdata_node *from, struct kmsdata_node *to, const char *kill_point,
    char **cause)
{
	int made = 0;
	size_t moved;
	char *ignored = NULL;

	if (!to->exists) {
		if (kmsdata_make_dir(to, &from->st, cause) != 0) {
			kmsdata_state(cause, _("nothing has been moved"));
			return -1;
		}
		made = to->exists = 1;
	}
	if (kmsdata_move_entries(from, to, kill_point, &moved, cause) == 0)
		return 0;
	if (moved == 0 && made && kmsdata_remove_empty(to, &ignored) != 0)
		free(ignored);
	if (moved == 0)
		kmsdata_state(cause, _("nothing has been moved"));
	else
		kmsdata_state(cause,
		    _("part of the files are in %1$s and the rest still in %2$s; "
		      "running this again carries on, rolling back puts them back"),
		    to->path, from->path);
	return -1;
}

/* kmsdata_empty_out's move: from is there and holds files, or to is missing. */
static int
kmsdata_empty_out_move(struct kmsdata_node *from, struct kmsdata_node *to, const char *kill_point,
    char **cause)
{
	if (to->exists && !from->mounted) {
		if (!to->empty) {
			*cause = xasprintf(
			    _("both %1$s and %2$s hold files, which no interrupted run "
			      "leaves behind; both have been left as they are"),
			    from->path, to->path);
			return -1;
		}
		if (kmsdata_remove_empty(to, cause) != 0) {
			kmsdata_state(cause, _("nothing has been moved"));
			return -1;
		}
		to->exists = 0;
	}
	if (!from->mounted) {
		if (kmsdata_rename_new(from->dirfd, from->name, to->dirfd, to->name) == 0) {
			fault_point(kill_point);
			return 0;
		}
		if (errno != EBUSY && errno != EXDEV) {
			*cause = xasprintf(_("cannot move %1$s to %2$s: %3$s"), from->path,
			    to->path, strerror(errno));
			kmsdata_state(cause, _("nothing has been moved"));
			return -1;
		}
	}
	return kmsdata_move_each(from, to, kill_point, cause);
}

/*
 * kmsdata_empty_out's end: from exists, empty, with the mode and owner it
 * had (which, once renamed, only to still has); all flushed to disk.
 */
static int
kmsdata_empty_out_finish(const struct kmsdata *k, struct kmsdata_node *from,
    struct kmsdata_node *to, int from_adopts, char **cause)
{
	if (kmsdata_look(from, cause) != 0 || kmsdata_look(to, cause) != 0)
		goto fail;
	if (!to->exists) {
		*cause = xasprintf(_("%s has disappeared"), to->path);
		return -1;
	}
	if (!from->exists) {
		if (kmsdata_make_dir(from, &to->st, cause) != 0)
			goto fail;
	} else if (from->mounted) {
		if (kmsdata_adopt(to, &from->st, cause) != 0)
			goto fail;
	} else if (from_adopts) {
		if (kmsdata_adopt(from, &to->st, cause) != 0)
			goto fail;
	}
	if (kmsdata_sync_node(to, cause) != 0 || kmsdata_sync_node(from, cause) != 0 ||
	    kmsdata_sync_fd(k->parent_fd, k->parent, cause) != 0)
		goto fail;
	return 0;
fail:
	kmsdata_state(cause,
	    _("the files of %1$s are all in %2$s; running this again finishes "
	      "the job"),
	    from->path, to->path);
	return -1;
}

/*
 * Moves the tree of folder from (Kmsdata) into folder to (missing, or
 * empty) and leaves from an empty folder with its mode and owner: step 3,
 * and the undo of step 4. When both are there and from is empty, the move
 * is done; from_adopts then says whether to holds from's true mode and
 * owner (the quarantine is Kmsdata itself, renamed).
 */
static int
kmsdata_empty_out(const struct kmsdata *k, struct kmsdata_node *from, struct kmsdata_node *to,
    int from_adopts, const char *kill_point, char **cause)
{
	if (kmsdata_look(from, cause) != 0 || kmsdata_look(to, cause) != 0)
		return -1;
	if (!from->exists && !to->exists) {
		*cause = xasprintf(_("neither %1$s nor %2$s exists; there is nothing to move"),
		    from->path, to->path);
		return -1;
	}
	if (from->exists && (!to->exists || !from->empty)) {
		if (kmsdata_empty_out_move(from, to, kill_point, cause) != 0)
			return -1;
	}
	return kmsdata_empty_out_finish(k, from, to, from_adopts, cause);
}

/*
 * Gives the entry the owner w->uid:w->gid (either may be -1 for unchanged)
 * when it has another, and counts it in w->changed. Without syncfs the
 * change is flushed here; with it, one syncfs at the end stands for all.
 */
static int
kmsdata_chown_visit(struct kmsdata_walk *w, int dirfd, const char *name, int fd,
    const struct stat *st, const char *path)
{
	int r;

	if ((w->uid == (uid_t)-1 || st->st_uid == w->uid) &&
	    (w->gid == (gid_t)-1 || st->st_gid == w->gid))
		return 0;
	if ((r = fault_fail("chown")) == 0) {
		if (fd != -1)
			r = fchown(fd, w->uid, w->gid);
		else
			r = fchownat(dirfd, name, w->uid, w->gid, AT_SYMLINK_NOFOLLOW);
	}
	if (r != 0) {
		*w->cause = xasprintf(_("cannot give %1$s the owner %2$lu:%3$lu: %4$s"), path,
		    (unsigned long)w->uid, (unsigned long)w->gid, strerror(errno));
		return -1;
	}
	w->changed++;
#ifndef HAVE_SYNCFS
	if (S_ISDIR(st->st_mode))
		return kmsdata_sync_fd(fd, path, w->cause);
	if (S_ISREG(st->st_mode))
		return kmsdata_sync_file(dirfd, name, path, w->cause);
#endif
	return 0;
}

/* Flushes the file system holding the folder open at fd: the changes of a whole walk. */
static int
kmsdata_sync_changes(int fd, const char *path, char **cause)
{
#ifdef HAVE_SYNCFS
	if (fault_fail("fsync") != 0 || syncfs(fd) != 0) {
		*cause = xasprintf(_("cannot flush %1$s to disk: %2$s"), path, strerror(errno));
		return -1;
	}
#else
	(void)fd;
	(void)path;
	(void)cause;
#endif
	return 0;
}

/*
 * Gives every entry below folder n (and n itself with top) the owner
 * uid:gid, either may be -1 for unchanged, and flushes n to disk. The
 * files themselves are on disk already (staging flushed them, syncfs
 * included), so nothing below n is visited unless an owner is asked, and
 * then only what changed is flushed: step 4 costs a few system calls
 * whatever the number of files.
 */
static int
kmsdata_settle(const struct kmsdata_node *n, uid_t uid, gid_t gid, int top, char **cause)
{
	struct kmsdata_walk w;
	struct stat st;
	int fd, ret = -1;

	memset(&w, 0, sizeof w);
	w.visit = kmsdata_chown_visit;
	w.uid = uid;
	w.gid = gid;
	w.cause = cause;
	if ((fd = kmsdata_open_dir(n->dirfd, n->name, n->path, cause)) == -1)
		return -1;
	if (uid == (uid_t)-1 && gid == (gid_t)-1)
		goto sync;
	if (kmsdata_walk_dir(&w, fd, n->path) != 0)
		goto out;
	if (top && fstat(fd, &st) != 0) {
		*cause = xasprintf(_("cannot examine %1$s: %2$s"), n->path, strerror(errno));
		goto out;
	}
	if (top && kmsdata_chown_visit(&w, n->dirfd, n->name, fd, &st, n->path) != 0)
		goto out;
	if (w.changed > 0 && kmsdata_sync_changes(fd, n->path, cause) != 0)
		goto out;
sync:
	ret = kmsdata_sync_fd(fd, n->path, cause);
out:
	close(fd);
	return ret;
}

/*
 * Step 4, before the tree moves in: its top takes Kmsdata's mode and owner
 * (with no Kmsdata, the owner asked for), every entry the owner asked for,
 * and all is on disk, so what appears in Kmsdata is complete at once.
 */
static int
kmsdata_prepare(const struct kmsdata_node *from, const struct kmsdata_node *to,
    const struct kmsdata_fill *f, char **cause)
{
	if (to->exists && kmsdata_adopt(from, &to->st, cause) != 0)
		return -1;
	return kmsdata_settle(from, f->uid, f->gid, !to->exists, cause);
}

/* kmsdata_fill_in's move: from is there, to is missing, empty or a mount point. */
static int
kmsdata_fill_in_move(struct kmsdata_node *from, struct kmsdata_node *to,
    const struct kmsdata_fill *f, char **cause)
{
	if (f->restore && kmsdata_prepare(from, to, f, cause) != 0) {
		kmsdata_state(cause, _("nothing has been moved"));
		return -1;
	}
	if (!to->mounted) {
		/* Replaces an empty to at once: Kmsdata is never missing. */
		if (fault_fail("rename") == 0 &&
		    renameat(from->dirfd, from->name, to->dirfd, to->name) == 0) {
			fault_point(f->kill_point);
			return 0;
		}
		if (errno != EBUSY && errno != EXDEV) {
			*cause = xasprintf(_("cannot move %1$s to %2$s: %3$s"), from->path,
			    to->path, strerror(errno));
			kmsdata_state(cause, _("nothing has been moved"));
			return -1;
		}
	}
	if (kmsdata_move_each(from, to, f->kill_point, cause) != 0)
		return -1;
	if (kmsdata_remove_empty(from, cause) != 0) {
		kmsdata_state(cause,
		    _("all the files are in %s; running this again finishes the job"), to->path);
		return -1;
	}
	return 0;
}

/* kmsdata_fill_in when from is gone: done, if to is there (and, for step 4, holds files). */
static int
kmsdata_fill_in_done(const struct kmsdata_node *from, const struct kmsdata_node *to,
    const struct kmsdata_fill *f, char **cause)
{
	if (!to->exists) {
		*cause = xasprintf(_("neither %1$s nor %2$s exists; there is nothing to move"),
		    from->path, to->path);
		return -1;
	}
	if (f->restore && to->empty) {
		*cause = xasprintf(_("%1$s does not exist and %2$s is empty; there is nothing to "
				     "restore"),
		    from->path, to->path);
		return -1;
	}
	if (f->restore && kmsdata_settle(to, f->uid, f->gid, 0, cause) != 0)
		return -1;
	return 0;
}

/*
 * Moves the tree of folder from into folder to (Kmsdata, missing or
 * empty): the undo of step 3, and step 4. When from is gone and to is
 * there, the move is done. A to holding files is refused, changing
 * nothing; only the undo carries on into a mount point (whose entries an
 * interrupted undo may have moved in part).
 */
static int
kmsdata_fill_in(const struct kmsdata *k, struct kmsdata_node *from, struct kmsdata_node *to,
    const struct kmsdata_fill *f, char **cause)
{
	if (kmsdata_look(from, cause) != 0 || kmsdata_look(to, cause) != 0)
		return -1;
	if (!from->exists) {
		if (kmsdata_fill_in_done(from, to, f, cause) != 0)
			return -1;
	} else if (to->exists && !to->empty && (f->restore || !to->mounted)) {
		*cause = xasprintf(_("%1$s is not empty; moving %2$s into it would mix two trees, "
				     "so nothing has been changed"),
		    to->path, from->path);
		return -1;
	} else if (kmsdata_fill_in_move(from, to, f, cause) != 0)
		return -1;
	if (kmsdata_sync_node(to, cause) != 0 ||
	    kmsdata_sync_fd(k->parent_fd, k->parent, cause) != 0) {
		kmsdata_state(cause,
		    _("all the files are in %s; running this again finishes the job"), to->path);
		return -1;
	}
	return 0;
}

/*
 * The staged tree as a node: the staging folder itself (payload ""), or
 * the folder payload inside it, which create makes when missing (the undo
 * of step 4 puts the tree back there).
 */
static int
kmsdata_staged_open(const struct kmsdata *k, const char *staged, const char *payload, int create,
    struct kmsdata_staged *s, struct kmsdata_node *n, char **cause)
{
	s->fd = -1;
	s->path = NULL;
	if (kmsdata_check_sibling(k, staged, cause) != 0)
		return -1;
	if (*payload != '\0' && !kmsdata_is_entry(payload)) {
		*cause = xasprintf(_("\"%s\" is not the name of a folder in the staging folder"),
		    payload);
		return -1;
	}
	s->path = kmsdata_where(k, staged);
	if (*payload == '\0') {
		kmsdata_node_init(n, k->parent_fd, staged, xstrdup(s->path));
		return 0;
	}
	if (create && (fault_fail("mkdir") != 0 || mkdirat(k->parent_fd, staged, 0700) != 0) &&
	    errno != EEXIST) {
		*cause = xasprintf(_("cannot create the folder %1$s: %2$s"), s->path,
		    strerror(errno));
		return -1;
	}
	s->fd = openat(k->parent_fd, staged, KMSDATA_DIR_FLAGS);
	if (s->fd == -1 && (errno != ENOENT || create)) {
		*cause = xasprintf(_("cannot open the folder %1$s: %2$s"), s->path,
		    strerror(errno));
		return -1;
	}
	kmsdata_node_init(n, s->fd, payload, xasprintf("%s/%s", s->path, payload));
	return 0;
}

static void
kmsdata_staged_close(struct kmsdata_staged *s)
{
	if (s->fd != -1)
		close(s->fd);
	free(s->path);
}

int
kmsdata_quarantine(const struct kmsdata *k, const char *quarantine, char **cause)
{
	struct kmsdata_node from, to;
	int ret;

	if (kmsdata_check_sibling(k, quarantine, cause) != 0)
		return -1;
	kmsdata_node_init(&from, k->parent_fd, k->base, kmsdata_where(k, k->base));
	kmsdata_node_init(&to, k->parent_fd, quarantine, kmsdata_where(k, quarantine));
	ret = kmsdata_empty_out(k, &from, &to, 1, "quarantine-renamed", cause);
	free(from.path);
	free(to.path);
	return ret;
}

int
kmsdata_unquarantine(const struct kmsdata *k, const char *quarantine, char **cause)
{
	struct kmsdata_node from, to;
	struct kmsdata_fill f = { 0, (uid_t)-1, (gid_t)-1, "unquarantine-renamed" };
	int ret;

	if (kmsdata_check_sibling(k, quarantine, cause) != 0)
		return -1;
	kmsdata_node_init(&from, k->parent_fd, quarantine, kmsdata_where(k, quarantine));
	kmsdata_node_init(&to, k->parent_fd, k->base, kmsdata_where(k, k->base));
	ret = kmsdata_fill_in(k, &from, &to, &f, cause);
	free(from.path);
	free(to.path);
	return ret;
}

/* After step 4: the staging folder goes if the tree was all it held; else it is flushed. */
static int
kmsdata_staged_drop(const struct kmsdata *k, const char *staged, struct kmsdata_staged *s,
    char **cause)
{
	if (fault_fail("unlink") == 0 && unlinkat(k->parent_fd, staged, AT_REMOVEDIR) == 0)
		return kmsdata_sync_fd(k->parent_fd, k->parent, cause);
	if (errno == ENOENT)
		return 0;
	if (errno == ENOTEMPTY || errno == EEXIST)
		return kmsdata_sync_fd(s->fd, s->path, cause);
	*cause = xasprintf(_("cannot remove the empty folder %1$s: %2$s"), s->path,
	    strerror(errno));
	return -1;
}

int
kmsdata_settle_staged(const struct kmsdata *k, const char *staged, const char *payload, uid_t uid,
    gid_t gid, char **cause)
{
	struct kmsdata_node n;
	struct kmsdata_staged s;
	int ret;

	if (kmsdata_staged_open(k, staged, payload, 0, &s, &n, cause) != 0) {
		kmsdata_staged_close(&s);
		return -1;
	}
	ret = kmsdata_settle(&n, uid, gid, 1, cause);
	free(n.path);
	kmsdata_staged_close(&s);
	return ret;
}

int
kmsdata_swap_in(const struct kmsdata *k, const char *staged, const char *payload, uid_t uid,
    gid_t gid, char **cause)
{
	struct kmsdata_node from, to;
	struct kmsdata_staged s;
	struct kmsdata_fill f = { 1, uid, gid, "swap-renamed" };
	int ret = -1;

	if (kmsdata_staged_open(k, staged, payload, 0, &s, &from, cause) != 0) {
		kmsdata_staged_close(&s);
		return -1;
	}
	kmsdata_node_init(&to, k->parent_fd, k->base, kmsdata_where(k, k->base));
	if (kmsdata_fill_in(k, &from, &to, &f, cause) != 0)
		goto out;
	if (s.fd != -1 && kmsdata_staged_drop(k, staged, &s, cause) != 0) {
		kmsdata_state(cause, _("%s has been restored; running this again finishes the job"),
		    to.path);
		goto out;
	}
	ret = 0;
out:
	free(from.path);
	free(to.path);
	kmsdata_staged_close(&s);
	return ret;
}

int
kmsdata_swap_out(const struct kmsdata *k, const char *staged, const char *payload, char **cause)
{
	struct kmsdata_node from, to;
	struct kmsdata_staged s;
	int create, ret = -1;

	create = kmsdata_sibling_exists(k, k->base);
	if (kmsdata_staged_open(k, staged, payload, create, &s, &to, cause) != 0) {
		kmsdata_staged_close(&s);
		return -1;
	}
	kmsdata_node_init(&from, k->parent_fd, k->base, kmsdata_where(k, k->base));
	if (kmsdata_empty_out(k, &from, &to, 0, "swap-out-renamed", cause) != 0)
		goto out;
	if (s.fd != -1 && kmsdata_sync_fd(s.fd, s.path, cause) != 0) {
		kmsdata_state(cause,
		    _("the files of %1$s are all in %2$s; running this again "
		      "finishes the job"),
		    from.path, to.path);
		goto out;
	}
	ret = 0;
out:
	free(from.path);
	free(to.path);
	kmsdata_staged_close(&s);
	return ret;
}

/* One entry of a walk: a folder's contents first, then the entry itself. */
static int
kmsdata_walk_entry(struct kmsdata_walk *w, int dirfd, const char *name, const char *dirpath)
{
	struct stat st;
	char *path;
	int fd = -1, ret = -1;

	path = xasprintf("%s/%s", dirpath, name);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		*w->cause = xasprintf(_("cannot examine %1$s: %2$s"), path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if ((fd = kmsdata_open_dir(dirfd, name, path, w->cause)) == -1)
			goto out;
		if (kmsdata_walk_dir(w, fd, path) != 0)
			goto out;
	}
	ret = w->visit(w, dirfd, name, fd, &st, path);
out:
	if (fd != -1)
		close(fd);
	free(path);
	return ret;
}

/* Walks the contents of the folder open at fd. */
static int
kmsdata_walk_dir(struct kmsdata_walk *w, int fd, const char *path)
{
	char **names;
	size_t n, i;
	int ret = 0;

	if (kmsdata_list(fd, ".", path, &names, &n, w->cause) != 0)
		return -1;
	for (i = 0; i < n && ret == 0; i++)
		ret = kmsdata_walk_entry(w, fd, names[i], path);
	kmsdata_free_names(names, n);
	return ret;
}

static int
kmsdata_count_visit(struct kmsdata_walk *w, int dirfd, const char *name, int fd,
    const struct stat *st, const char *path)
{
	(void)dirfd;
	(void)name;
	(void)fd;
	(void)path;
	if (S_ISREG(st->st_mode)) {
		w->state.files_done++;
		w->state.bytes_done += (uint64_t)st->st_size;
	}
	return 0;
}

/* Counts the regular files and their bytes below the folder open at fd. */
static int
kmsdata_count(int fd, const char *path, uint64_t *files, uint64_t *bytes, char **cause)
{
	struct kmsdata_walk w;

	memset(&w, 0, sizeof w);
	w.visit = kmsdata_count_visit;
	w.cause = cause;
	if (kmsdata_walk_dir(&w, fd, path) != 0)
		return -1;
	*files = w.state.files_done;
	*bytes = w.state.bytes_done;
	return 0;
}

int
kmsdata_survey(const struct kmsdata *k, uint64_t *files, uint64_t *bytes, char **cause)
{
	struct kmsdata_node n;
	int fd = -1, ret = -1;

	kmsdata_node_init(&n, k->parent_fd, k->base, kmsdata_where(k, k->base));
	if (kmsdata_look(&n, cause) != 0)
		goto out;
	if (!n.exists) {
		*cause = xasprintf(_("the Kmsdata folder %s does not exist"), n.path);
		goto out;
	}
	if ((fd = kmsdata_open_dir(n.dirfd, n.name, n.path, cause)) == -1)
		goto out;
	ret = kmsdata_count(fd, n.path, files, bytes, cause);
out:
	if (fd != -1)
		close(fd);
	free(n.path);
	return ret;
}

int
kmsdata_free_space(const struct kmsdata *k, uint64_t *avail, char **cause)
{
	struct statvfs sv;

	if (fstatvfs(k->parent_fd, &sv) != 0) {
		*cause = xasprintf(_("cannot find the free space on the file system of %1$s: %2$s"),
		    k->parent, strerror(errno));
		return -1;
	}
	*avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return 0;
}

/* Whether gid is this process's group or one of its supplementary groups. */
static int
kmsdata_in_group(gid_t gid)
{
	gid_t *groups;
	int n, i, found = 0;

	if (gid == getegid())
		return 1;
	if ((n = getgroups(0, NULL)) <= 0)
		return 0;
	groups = xcalloc((size_t)n, sizeof *groups);
	n = getgroups(n, groups);
	for (i = 0; i < n && !found; i++)
		found = groups[i] == gid;
	free(groups);
	return found;
}

/* Whether this process may give a file the owner uid:gid (either -1 for unchanged). */
static int
kmsdata_may_own(uid_t uid, gid_t gid)
{
	if (geteuid() == 0)
		return 1;
	return (uid == (uid_t)-1 || uid == geteuid()) &&
	    (gid == (gid_t)-1 || kmsdata_in_group(gid));
}

int
kmsdata_check_writable(const struct kmsdata *k, uid_t uid, gid_t gid, char **cause)
{
	struct stat st;
	const char *path = k->parent;
	int error = 0;

	if (faccessat(k->parent_fd, ".", W_OK | X_OK, 0) != 0) {
		error = errno;
	} else if (fstatat(k->parent_fd, k->base, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISDIR(st.st_mode)) {
		return 0; /* no Kmsdata to change: step 1 says so */
	} else {
		path = k->path;
		if (faccessat(k->parent_fd, k->base, W_OK | X_OK, 0) != 0)
			error = errno;
		else if (!kmsdata_may_own(st.st_uid, st.st_gid) || !kmsdata_may_own(uid, gid))
			error = EPERM;
	}
	if (error == 0)
		return 0;
	/* TRANSLATORS: %1$s is a folder (Kmsdata or the one holding it), %2$s why (strerror). */
	*cause = xasprintf(_("kmsrecover may not change %1$s: %2$s. Nothing was changed. Run "
			     "kmsrecover as root (or as the owner of Kmsdata and of the folder "
			     "holding it), with that file system mounted read-write."),
	    path, strerror(error));
	return -1;
}

static int
kmsdata_remove_visit(struct kmsdata_walk *w, int dirfd, const char *name, int fd,
    const struct stat *st, const char *path)
{
	int dir = S_ISDIR(st->st_mode), stop;

	(void)fd;
	if (fault_fail("unlink") != 0 || unlinkat(dirfd, name, dir ? AT_REMOVEDIR : 0) != 0) {
		if (errno != ENOENT) {
			*w->cause = xasprintf(_("cannot remove %1$s: %2$s"), path, strerror(errno));
			return -1;
		}
	}
	if (dir)
		return 0;
	if (S_ISREG(st->st_mode)) {
		w->state.files_done++;
		w->state.bytes_done += (uint64_t)st->st_size;
	}
	w->state.current = path;
	stop = progress_update(w->progress, &w->state);
	w->state.current = NULL;
	if (stop != 0) {
		*w->cause = xasprintf(_("the removal was stopped after %s"), path);
		return -1;
	}
	return 0;
}

int
kmsdata_remove_sibling(const struct kmsdata *k, const char *name, const struct progress *progress,
    char **cause)
{
	struct kmsdata_walk w;
	struct stat st;
	char *path;
	int fd = -1, ret = -1;

	if (kmsdata_check_sibling(k, name, cause) != 0)
		return -1;
	path = kmsdata_where(k, name);
	memset(&w, 0, sizeof w);
	w.visit = kmsdata_remove_visit;
	w.progress = progress;
	w.cause = cause;
	if (fstatat(k->parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			ret = 0;
		else
			*cause = xasprintf(_("cannot examine %1$s: %2$s"), path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if ((fd = kmsdata_open_dir(k->parent_fd, name, path, cause)) == -1 ||
		    kmsdata_count(fd, path, &w.state.files_total, &w.state.bytes_total, cause) != 0)
			goto out;
		if (kmsdata_walk_dir(&w, fd, path) != 0) {
			kmsdata_state(cause,
			    _("part of %s has been removed; removing it again "
			      "finishes the job"),
			    path);
			goto out;
		}
	}
	if ((ret = kmsdata_remove_visit(&w, k->parent_fd, name, fd, &st, path)) == 0)
		ret = kmsdata_sync_fd(k->parent_fd, k->parent, cause);
out:
	if (fd != -1)
		close(fd);
	free(path);
	return ret;
}
