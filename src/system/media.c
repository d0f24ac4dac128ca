/*
 * Where an operator's backup is likely to be: removable media mounted under
 * /media, /run/media and /mnt (KMSRECOVER_MEDIA_ROOTS, colon-separated,
 * replaces them, for the demo and the tests). The wizard offers what is
 * found here as candidates for the backup, and the media's folders as
 * places to write a new startup disk; nothing here is opened or read.
 */
#include "config.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
