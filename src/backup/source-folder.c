/*
 * The folder source: a backup that is a folder, walked depth first
 * through directory fds, never following a symbolic link, each entry
 * opened and checked to be what was looked at.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "i18n.h"
#include "xmalloc.h"
#include "backup-run.h"

/*
 * A folder source, walked through directory fds: lstat semantics
 * throughout, so a symbolic link is an entry (and refused), never followed.
 */

static void
backup_walk_close_data(struct backup_walk *w)
{
	if (w->data_fd >= 0)
		close(w->data_fd);
	w->data_fd = -1;
}

/* Enters the folder returned last, once it has passed the checks. */
static int
backup_walk_descend(struct backup_run *run)
{
	struct backup_walk *w = run->walk;
	struct backup_walk_level *l;
	int fd = w->pending_fd;

	if (fd < 0)
		return 0;
	w->pending_fd = -1;
	if (w->depth + 1 > BACKUP_MAX_DEPTH) {
		close(fd);
		return backup_error(run,
		    _("The backup entry \"%1$s\" is nested more than %2$d "
		      "folders deep."),
		    run->shown, BACKUP_MAX_DEPTH);
	}
	l = &w->level[++w->depth];
	if ((l->dir = fdopendir(fd)) == NULL) {
		close(fd);
		w->depth--;
		return backup_error(run, _("Cannot read the backup folder entry \"%1$s\": %2$s."),
		    run->shown, strerror(errno));
	}
	l->prefix = w->pending_prefix;
	w->pending_prefix = NULL;
	return 0;
}

/* Opens what the entry at st names, making sure it is still what was looked at. */
int
backup_walk_open(int dir_fd, const char *name, const struct stat *st)
{
	struct stat again;
	int fd, flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;

	if (S_ISDIR(st->st_mode))
		flags |= O_DIRECTORY;
	if ((fd = openat(dir_fd, name, flags)) < 0)
		return -1;
	if (fstat(fd, &again) != 0 || again.st_dev != st->st_dev || again.st_ino != st->st_ino) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

/* A symbolic link's target, for the message that refuses it. */
static void
backup_walk_symlink(struct archive_entry *e, int dir_fd, const char *name)
{
	char target[PATH_MAX];
	ssize_t n;

	if ((n = readlinkat(dir_fd, name, target, sizeof target - 1)) < 0)
		n = 0;
	target[n] = '\0';
	archive_entry_set_symlink(e, target);
}

static int
backup_walk_entry(struct backup_run *run, DIR *dir, const char *prefix, const char *name)
{
	struct backup_walk *w = run->walk;
	struct stat st;
	char *path;
	int fd = -1;

	path = xasprintf("%s%s", prefix, name);
	archive_entry_clear(w->entry);
	archive_entry_set_pathname(w->entry, path);
	free(run->shown);
	run->shown = backup_shown(path);
	if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    ((S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) &&
		(fd = backup_walk_open(dirfd(dir), name, &st)) < 0)) {
		free(path);
		return backup_error(run, _("Cannot read the backup folder entry \"%1$s\": %2$s."),
		    run->shown, strerror(errno));
	}
	archive_entry_copy_stat(w->entry, &st);
	if (S_ISLNK(st.st_mode))
		backup_walk_symlink(w->entry, dirfd(dir), name);
	if (S_ISDIR(st.st_mode) && run->staging_fd >= 0 && st.st_dev == run->staging_st.st_dev &&
	    st.st_ino == run->staging_st.st_ino) {
		close(fd);
		free(path);
		return backup_error(run,
		    _("The backup folder %s holds the staging folder: choose a "
		      "backup outside the folder that holds Kmsdata."),
		    run->shown_source);
	}
	if (S_ISDIR(st.st_mode)) {
		w->pending_fd = fd;
		w->pending_prefix = xasprintf("%s/", path);
	} else {
		w->data_fd = fd;
		w->data_off = 0;
	}
	free(path);
	return 1;
}

static int
backup_walk_next(struct backup_run *run, struct archive_entry **entry)
{
	struct backup_walk *w = run->walk;
	struct backup_walk_level *l;
	struct dirent *de;

	backup_walk_close_data(w);
	if (backup_walk_descend(run) != 0)
		return -1;
	while (w->depth >= 0) {
		l = &w->level[w->depth];
		errno = 0;
		if ((de = readdir(l->dir)) == NULL) {
			if (errno != 0)
				return backup_error(run,
				    _("Cannot read the backup folder %1$s: %2$s."),
				    run->shown_source, strerror(errno));
			closedir(l->dir);
			free(l->prefix);
			l->dir = NULL;
			l->prefix = NULL;
			w->depth--;
			continue;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		*entry = w->entry;
		return backup_walk_entry(run, l->dir, l->prefix, de->d_name);
	}
	return 0;
}

static int
backup_walk_data(struct backup_run *run, const void **buf, size_t *len, int64_t *off)
{
	struct backup_walk *w = run->walk;
	ssize_t n;

	if (w->data_fd < 0)
		return 0;
	do {
		n = fault_fail("read") != 0 ? -1 : read(w->data_fd, w->buf, sizeof w->buf);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return backup_error(run, _("Cannot read the backup folder entry \"%1$s\": %2$s."),
		    run->shown, strerror(errno));
	if (n == 0) {
		backup_walk_close_data(w);
		return 0;
	}
	*buf = w->buf;
	*len = (size_t)n;
	*off = w->data_off;
	w->data_off += n;
	w->data_read += (uint64_t)n;
	return 1;
}

static const struct backup_source_ops backup_walk_ops = { backup_walk_next, backup_walk_data };

void
backup_walk_start(struct backup_run *run, int fd)
{
	struct backup_walk *w;

	run->walk = w = xcalloc(1, sizeof *w);
	w->pending_fd = fd;
	w->pending_prefix = xstrdup("");
	w->depth = -1;
	w->data_fd = -1;
	w->entry = archive_entry_new();
	run->ops = &backup_walk_ops;
}

void
backup_walk_free(struct backup_walk *w)
{
	if (w == NULL)
		return;
	backup_walk_close_data(w);
	if (w->pending_fd >= 0)
		close(w->pending_fd);
	free(w->pending_prefix);
	for (; w->depth >= 0; w->depth--) {
		closedir(w->level[w->depth].dir);
		free(w->level[w->depth].prefix);
	}
	archive_entry_free(w->entry);
	free(w);
}
