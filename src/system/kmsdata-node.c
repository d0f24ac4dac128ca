/*
 * What the other kmsdata files build on: a folder's entries listed, a
 * sibling's name checked and located, a folder opened or flushed through
 * descriptors, and a node: a folder an operation moves from or to, looked
 * at before anything moves. Messages say what state things are left in.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "fs.h"
#include "i18n.h"
#include "xmalloc.h"
#include "kmsdata-private.h"

/* Adds to *cause what state the folders are left in. */
void __attribute__((format(printf, 2, 3))) kmsdata_state(char **cause, const char *fmt, ...)
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
int
kmsdata_is_entry(const char *name)
{
	return *name != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0;
}

/* The path of a sibling of Kmsdata, for messages. */
char *
kmsdata_where(const struct kmsdata *k, const char *name)
{
	if (strcmp(k->parent, "/") == 0)
		return xasprintf("/%s", name);
	return xasprintf("%s/%s", k->parent, name);
}

int
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
kmsdata_sibling_exists(const struct kmsdata *k, const char *name)
{
	struct stat st;

	if (fstatat(k->parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno != ENOENT;
}

/* The names in a folder but "." and "..", newly allocated. */
int
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

void
kmsdata_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
kmsdata_open_dir(int dirfd, const char *name, const char *path, char **cause)
{
	int fd;

	if ((fd = openat(dirfd, name, KMSDATA_DIR_FLAGS)) == -1)
		*cause = xasprintf(_("cannot open the folder %1$s: %2$s"), path, strerror(errno));
	return fd;
}

int
kmsdata_sync_fd(int fd, const char *path, char **cause)
{
	if (fs_fsync(fd) != 0) {
		*cause = xasprintf(_("cannot flush %1$s to disk: %2$s"), path, strerror(errno));
		return -1;
	}
	return 0;
}

void
kmsdata_node_init(struct kmsdata_node *n, int dirfd, const char *name, char *path)
{
	memset(n, 0, sizeof *n);
	n->dirfd = dirfd;
	n->name = name;
	n->path = path;
}

/* Finds out whether n exists (as a folder: anything else is an error), is empty, is mounted. */
int
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

int
kmsdata_sync_node(const struct kmsdata_node *n, char **cause)
{
	int fd, ret;

	if ((fd = kmsdata_open_dir(n->dirfd, n->name, n->path, cause)) == -1)
		return -1;
	ret = kmsdata_sync_fd(fd, n->path, cause);
	close(fd);
	return ret;
}
