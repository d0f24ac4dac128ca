/*
 * Where an operator's backup is likely to be: removable media mounted under
 * /media, /run/media and /mnt (KMSRECOVER_MEDIA_ROOTS, colon-separated,
 * replaces them, for the demo and the tests). The wizard offers what is
 * found here as candidates for the backup, and the media's folders as
 * places to write a new startup disk; nothing here is opened or read.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"

#include "media.h"
#include "xmalloc.h"

#define MEDIA_DEPTH 3
#define MEDIA_MAX 32

static const char *media_patterns[] = { "*.tar", "*.tar.*", "*.tgz", "*.tbz2", "*.txz", "*.zip",
	"*.7z", "*.cpio", "*.iso", "*.pax", "*.enc", "*.bak", NULL };

char **
media_roots(void)
{
	const char *env = getenv("KMSRECOVER_MEDIA_ROOTS");
	char **roots, *copy, *p, *next;
	size_t n = 0;

	roots = xcalloc(MEDIA_MAX + 1, sizeof *roots);
	if (env == NULL) {
		roots[0] = xstrdup("/media");
		roots[1] = xstrdup("/run/media");
		roots[2] = xstrdup("/mnt");
		return roots;
	}
	copy = xstrdup(env);
	for (p = copy; p != NULL && n < MEDIA_MAX; p = next) {
		if ((next = strchr(p, ':')) != NULL)
			*next++ = '\0';
		if (*p != '\0')
			roots[n++] = xstrdup(p);
	}
	free(copy);
	return roots;
}

int
media_is_archive_name(const char *name)
{
	size_t i;

	for (i = 0; media_patterns[i] != NULL; i++) {
		if (fnmatch(media_patterns[i], name, FNM_CASEFOLD) == 0)
			return 1;
	}
	return 0;
}

static int
media_is_backup(const char *name, int is_dir)
{
	if (is_dir)
		return strcasecmp(name, "kmsdata") == 0;
	return media_is_archive_name(name);
}

static void
media_walk(const char *dir, int depth, char **found, size_t *n)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char *path;

	if (depth > MEDIA_DEPTH || (d = opendir(dir)) == NULL)
		return;
	while (*n < MEDIA_MAX && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
			if (media_is_backup(de->d_name, S_ISDIR(st.st_mode))) {
				found[(*n)++] = path;
				continue;
			}
			if (S_ISDIR(st.st_mode))
				media_walk(path, depth + 1, found, n);
		}
		free(path);
	}
	closedir(d);
}

static int
media_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
media_find_backups(void)
{
	char **roots = media_roots(), **found;
	size_t i, n = 0;

	found = xcalloc(MEDIA_MAX + 1, sizeof *found);
	for (i = 0; roots[i] != NULL; i++)
		media_walk(roots[i], 1, found, &n);
	qsort(found, n, sizeof *found, media_compare);
	xfree_argv(roots);
	return found;
}

/* 1 when dir holds folders and nothing else (the USER of /run/media/USER/LABEL). */
static int
media_holds_folders_only(const char *dir)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char *path;
	int folders = 0, others = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			folders++;
		else
			others++;
		free(path);
	}
	closedir(d);
	return folders > 0 && others == 0;
}

/* The folders of dir, or of its folders where they hold folders only (depth 2 at most). */
static void
media_walk_folders(const char *dir, int depth, char **found, size_t *n)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char *path;

	if ((d = opendir(dir)) == NULL)
		return;
	while (*n < MEDIA_MAX && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			free(path);
		else if (depth == 1 && media_holds_folders_only(path)) {
			media_walk_folders(path, depth + 1, found, n);
			free(path);
		} else
			found[(*n)++] = path;
	}
	closedir(d);
}

char **
media_find_folders(void)
{
	char **roots = media_roots(), **found;
	size_t i, n = 0;

	found = xcalloc(MEDIA_MAX + 1, sizeof *found);
	for (i = 0; roots[i] != NULL; i++)
		media_walk_folders(roots[i], 1, found, &n);
	qsort(found, n, sizeof *found, media_compare);
	xfree_argv(roots);
	return found;
}

/* udev's names in /dev/disk/by-label escape some bytes as \xHH. */
static char *
media_unescape_label(const char *name)
{
	char *out = xmalloc(strlen(name) + 1), *o = out, hex[3] = { 0 };

	while (*name != '\0') {
		if (name[0] == '\\' && name[1] == 'x' && isxdigit((unsigned char)name[2]) &&
		    isxdigit((unsigned char)name[3])) {
			hex[0] = name[2];
			hex[1] = name[3];
			*o++ = (char)strtoul(hex, NULL, 16);
			name += 4;
		} else
			*o++ = *name++;
	}
	*o = '\0';
	return out;
}

/* The label udev lists for the block device dev, or NULL. */
static char *
media_label_by_udev(dev_t dev)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char *path, *label = NULL;

	if ((d = opendir("/dev/disk/by-label")) == NULL)
		return NULL;
	while (label == NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("/dev/disk/by-label/%s", de->d_name);
		if (stat(path, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev)
			label = media_unescape_label(de->d_name);
		free(path);
	}
	closedir(d);
	return label;
}

/* The name of the medium's folder when path lies under a media root (/media/usb/... -> usb). */
static char *
media_folder_name(const char *path)
{
	char **roots = media_roots(), *real, *name = NULL, *end;
	size_t i, len;

	if ((real = realpath(path, NULL)) == NULL) {
		xfree_argv(roots);
		return NULL;
	}
	for (i = 0; name == NULL && roots[i] != NULL; i++) {
		len = strlen(roots[i]);
		while (len > 1 && roots[i][len - 1] == '/')
			len--;
		if (strncmp(real, roots[i], len) != 0 || real[len] != '/' || real[len + 1] == '\0')
			continue;
		name = xstrdup(real + len + 1);
		/* /run/media/USER/LABEL: the label is the second folder. */
		if ((end = strchr(name, '/')) != NULL && strcmp(roots[i], "/run/media") == 0) {
			memmove(name, end + 1, strlen(end + 1) + 1);
			end = strchr(name, '/');
		}
		/* A folder, with the file in it (not a file lying in the root itself). */
		if (end == NULL || end == name) {
			free(name);
			name = NULL;
		} else
			*end = '\0';
	}
	free(real);
	xfree_argv(roots);
	return name;
}

char *
media_label(const char *path)
{
	char label[FSLABEL_MAX + 1] = { 0 }, *folder;
	struct stat st;
	int fd;

	folder = fs_folder_of(path);
	fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(folder);
	if (fd != -1) {
		if (ioctl(fd, FS_IOC_GETFSLABEL, label) == 0 && label[0] != '\0') {
			close(fd);
			label[FSLABEL_MAX] = '\0';
			return xstrdup(label);
		}
		if (fstat(fd, &st) == 0) {
			close(fd);
			if ((folder = media_label_by_udev(st.st_dev)) != NULL)
				return folder;
		} else
			close(fd);
	}
	return media_folder_name(path);
}
