/*
 * The startup disk: the floppy KM Server made at installation, a KMSPWD.INI
 * with "[config]" and "pwd=<alpha string>". Today it is a USB stick or an
 * image mounted somewhere under /media, /run/media or /mnt. Found by name
 * without regard to case, and read a byte at a time into secure memory
 * (base/secret.h), so no stdio buffer ever holds the password.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"
#include "secret.h"
#include "startup-disk.h"
#include "xmalloc.h"

#define SECRET_DISK_MAX (64 * 1024) /* a startup disk file */
#define SECRET_MEDIA_ROOTS "/media:/run/media:/mnt"

/* Finding the startup disk file. */

/*
 * The entry in dir whose name is name without regard to case; NULL if none.
 * Not only files: a FIFO, device or symbolic link of that name is returned
 * too, so that secret_disk_read refuses it by name rather than the search
 * saying there is none.
 */
static char *
secret_find_in_dir(const char *dir, const char *name)
{
	struct dirent **list;
	struct stat st;
	char *found = NULL, *path;
	int n, i;

	if ((n = scandir(dir, &list, NULL, alphasort)) < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		if (found == NULL && strcasecmp(list[i]->d_name, name) == 0) {
			path = xasprintf("%s/%s", dir, list[i]->d_name);
			if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
				found = path;
			else
				free(path);
		}
		free(list[i]);
	}
	free(list);
	return found;
}

/* dir, then its subfolders down to depth more levels, in name order. */
static char *
secret_search_tree(const char *dir, const char *name, int depth)
{
	struct dirent **list;
	struct stat st;
	char *found, *sub;
	int n, i;

	if ((found = secret_find_in_dir(dir, name)) != NULL || depth == 0)
		return found;
	if ((n = scandir(dir, &list, NULL, alphasort)) < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		if (found == NULL && list[i]->d_name[0] != '.') {
			sub = xasprintf("%s/%s", strcmp(dir, "/") == 0 ? "" : dir, list[i]->d_name);
			if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				found = secret_search_tree(sub, name, depth - 1);
			free(sub);
		}
		free(list[i]);
	}
	free(list);
	return found;
}

/* Each root of KMSRECOVER_MEDIA_ROOTS (or the default) and two levels below. */
static int
secret_search_media(const char *name, char **found, char **cause)
{
	const char *roots = getenv("KMSRECOVER_MEDIA_ROOTS");
	char *copy, *root, *rest;

	if (roots == NULL || *roots == '\0')
		roots = SECRET_MEDIA_ROOTS;
	copy = xstrdup(roots);
	*found = NULL;
	for (root = strtok_r(copy, ":", &rest); root != NULL && *found == NULL;
	     root = strtok_r(NULL, ":", &rest))
		*found = secret_search_tree(root, name, 2);
	free(copy);
	if (*found != NULL)
		return 0;
	/* TRANSLATORS: %1$s is the file name (KMSPWD.INI), %2$s a list of folders. */
	*cause = xasprintf(_("No startup disk was found: no %1$s under %2$s. Insert or mount the "
			     "disk, or give the file's path."),
	    name, roots);
	return -1;
}

/* path is the file or a folder holding it. */
static int
secret_locate(const char *path, const char *name, char **found, char **cause)
{
	struct stat st;

	if (path == NULL)
		return secret_search_media(name, found, cause);
	if (stat(path, &st) == -1) {
		*cause = xasprintf(_("cannot open %1$s: %2$s"), path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*found = xstrdup(path);
		return 0;
	}
	if ((*found = secret_find_in_dir(path, name)) == NULL) {
		/* TRANSLATORS: %1$s is a folder, %2$s the file name (KMSPWD.INI). */
		*cause = xasprintf(_("%1$s: there is no %2$s in this folder"), path, name);
		return -1;
	}
	return 0;
}

/* Parsing the startup disk file. */

/* The state of one startup disk parse. */
struct secret_disk {
	const char *path;
	int fd;
	size_t total; /* bytes read so far */
	unsigned int line;
	int in_config; /* the last section seen was [config] */
	int saw_config;
	char *buf; /* one line, secure, SECRET_LINE_MAX + 1 */
	size_t len;
};

/* The next line into d->buf: 1, 0 at the end, -1 with *cause. */
static int
secret_disk_line(struct secret_disk *d, char **cause)
{
	int r;

	d->len = 0;
	d->line++;
	for (;;) {
		if ((r = secret_read_byte(d->fd, &d->buf[d->len])) == -1) {
			*cause = xasprintf(_("cannot read %1$s: %2$s"), d->path, strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		if (++d->total > SECRET_DISK_MAX) {
			*cause = xasprintf(_("%s: the file is larger than 64 KiB"), d->path);
			return -1;
		}
		if (d->buf[d->len] == '\n')
			break;
		if (++d->len == SECRET_LINE_MAX) {
			*cause = xasprintf(_("%1$s:%2$u: the line is longer than %3$d bytes"),
			    d->path, d->line, SECRET_LINE_MAX);
			return -1;
		}
	}
	d->buf[d->len] = '\0';
	return r == 0 && d->len == 0 ? 0 : 1;
}

/* Start and length of the trimmed text of the line, BOM dropped. */
static char *
secret_disk_trim(struct secret_disk *d, size_t *len)
{
	char *s = d->buf, *e = d->buf + d->len;

	if (d->line == 1 && d->len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (s < e && secret_is_space(*s))
		s++;
	while (e > s && secret_is_space(e[-1]))
		e--;
	*len = (size_t)(e - s);
	return s;
}

/* A "[section]" line: which one. */
static int
secret_disk_section(struct secret_disk *d, char *s, size_t len, char **cause)
{
	char *name = s + 1;
	size_t n;

	if (len < 2 || s[len - 1] != ']') {
		*cause = xasprintf(_("%1$s:%2$u: a section line without its closing ]"), d->path,
		    d->line);
		return -1;
	}
	n = len - 2;
	while (n > 0 && secret_is_space(*name)) {
		name++;
		n--;
	}
	while (n > 0 && secret_is_space(name[n - 1]))
		n--;
	d->in_config = n == 6 && strncasecmp(name, "config", 6) == 0;
	d->saw_config |= d->in_config;
	return 0;
}

/* A "pwd = value" line in [config]: 1 with *out, 0 for other keys, -1. */
static int
secret_disk_pwd(struct secret_disk *d, char *s, size_t len, struct secret **out, char **cause)
{
	char *eq = memchr(s, '=', len), *k = eq, *v;
	size_t vlen;

	if (eq == NULL)
		return 0;
	while (k > s && secret_is_space(k[-1]))
		k--;
	if (k - s != 3 || strncasecmp(s, "pwd", 3) != 0)
		return 0;
	for (v = eq + 1; v < s + len && secret_is_space(*v); v++)
		;
	if ((vlen = (size_t)(s + len - v)) == 0) {
		*cause = xasprintf(_("%1$s:%2$u: the pwd= line is empty"), d->path, d->line);
		return -1;
	}
	*out = secret_new(v, vlen);
	return 1;
}

static int
secret_disk_parse(struct secret_disk *d, struct secret **out, char **cause)
{
	size_t len;
	char *s;
	int r;

	while ((r = secret_disk_line(d, cause)) == 1) {
		s = secret_disk_trim(d, &len);
		if (len == 0 || *s == ';' || *s == '#')
			continue;
		if (*s == '[') {
			if (secret_disk_section(d, s, len, cause) == -1)
				return -1;
		} else if (d->in_config && (r = secret_disk_pwd(d, s, len, out, cause)) != 0)
			return r == 1 ? 0 : -1;
	}
	if (r == -1)
		return -1;
	if (!d->saw_config)
		*cause = xasprintf(
		    _("%s: no [config] section: this is not a KM Server startup disk "
		      "file"),
		    d->path);
	else
		*cause = xasprintf(_("%s: no pwd= line in the [config] section"), d->path);
	return -1;
}

static int
secret_disk_read(const char *path, struct secret **out, char **cause)
{
	struct secret_disk d;
	struct stat st;
	int ret = -1;

	memset(&d, 0, sizeof d);
	d.path = path;
	/*
	 * O_NONBLOCK: a FIFO put where the file was expected must not hang the
	 * open. O_NOFOLLOW: a startup disk (FAT) holds no symbolic links, so one
	 * named KMSPWD.INI was planted to lead the read elsewhere.
	 */
	d.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (d.fd == -1 && errno == ELOOP) {
		*cause = xasprintf(_("%s is not a file"), path);
		return -1;
	}
	if (d.fd == -1) {
		*cause = xasprintf(_("cannot open %1$s: %2$s"), path, strerror(errno));
		return -1;
	}
	if (fstat(d.fd, &st) == -1) {
		*cause = xasprintf(_("cannot read %1$s: %2$s"), path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*cause = xasprintf(_("%s is not a file"), path);
		goto out;
	}
	if (st.st_size > SECRET_DISK_MAX) {
		*cause = xasprintf(_("%s: the file is larger than 64 KiB"), path);
		goto out;
	}
	(void)fcntl(d.fd, F_SETFL, fcntl(d.fd, F_GETFL) & ~O_NONBLOCK);
	d.buf = secret_alloc(SECRET_LINE_MAX + 1);
	ret = secret_disk_parse(&d, out, cause);
out:
	secret_release(d.buf, SECRET_LINE_MAX + 1);
	close(d.fd);
	return ret;
}

int
secret_from_startup_disk(const char *path, const char *name, struct secret **out, char **found,
    char **cause)
{
	char *file;

	*out = NULL;
	*found = NULL;
	if (name == NULL)
		name = "KMSPWD.INI";
	if (secret_locate(path, name, &file, cause) == -1)
		return -1;
	if (secret_disk_read(file, out, cause) == -1) {
		free(file);
		return -1;
	}
	*found = file;
	return 0;
}
