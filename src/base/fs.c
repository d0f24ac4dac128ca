/*
 * The file system and the clock, written once (fs.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "fs.h"
#include "xmalloc.h"

int
fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if (fault_fail("write") != 0)
			return -1;
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t
fs_read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (fault_fail("read") != 0)
			return -1;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int
fs_fsync(int fd)
{
	if (fault_fail("fsync") != 0)
		return -1;
	return fsync(fd);
}

char *
fs_folder_of(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');

	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	return dir;
}

char *
fs_path_in(const char *given, const char *name)
{
	size_t len = strlen(given);
	struct stat st;

	if (stat(given, &st) != 0 || !S_ISDIR(st.st_mode))
		return xstrdup(given);
	return xasprintf("%s%s%s", given, len > 0 && given[len - 1] == '/' ? "" : "/", name);
}

int
fs_sync_parent(const char *path)
{
	char *dir = fs_folder_of(path);
	int fd, ret = 0, saved;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 || fs_fsync(fd) != 0)
		ret = -1;
	saved = errno;
	if (fd != -1)
		close(fd);
	free(dir);
	errno = saved;
	return ret;
}

int
fs_remove_tree(int dir_fd, const char *name)
{
	struct dirent *de;
	DIR *dir;
	int fd, removed, r = 0;

	if ((fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOTDIR || errno == ELOOP ? unlinkat(dir_fd, name, 0) : -1;
	(void)fchmod(fd, S_IRWXU);
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	do {
		removed = 0;
		rewinddir(dir);
		while (r == 0 && (de = readdir(dir)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			/* Linux says EISDIR for a folder, POSIX allows EPERM. */
			if (unlinkat(fd, de->d_name, 0) == 0 ||
			    ((errno == EISDIR || errno == EPERM) &&
				fs_remove_tree(fd, de->d_name) == 0))
				removed = 1;
			else
				r = -1;
		}
	} while (r == 0 && removed);
	closedir(dir);
	if (r != 0)
		return -1;
	return unlinkat(dir_fd, name, AT_REMOVEDIR);
}

int64_t
fs_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
