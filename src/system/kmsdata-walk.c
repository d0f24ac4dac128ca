/*
 * Walks below a folder of Kmsdata's, through folder descriptors and
 * following no symbolic link: counting files and bytes, giving the entries
 * an owner, removing a tree (a sibling the operator asked to remove).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "i18n.h"
#include "xmalloc.h"
#include "kmsdata-private.h"

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

/*
 * Gives the entry the owner w->uid:w->gid (either may be -1 for unchanged)
 * when it has another, and counts it in w->changed. Without syncfs the
 * change is flushed here; with it, one syncfs at the end stands for all.
 */
int
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
int
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
int
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
int
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
