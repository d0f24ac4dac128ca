/*
 * The alpha string and backup passphrases (secret.h; DESIGN.md, rule 6).
 * Every byte of a secret lives in OpenSSL's secure heap: files and pipes are
 * read with read(2) straight into it, a byte at a time, so no stdio buffer
 * and no stack copy ever holds it, and it is wiped when freed. When the
 * secure heap is full or absent the ordinary heap is used (and still wiped).
 *
 * The startup disk is the floppy KM Server made at installation: a
 * KMSPWD.INI with "[config]" and "pwd=<alpha string>". Today it is a USB
 * stick or an image mounted somewhere under /media, /run/media or /mnt.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "fault.h"
#include "i18n.h"
#include "secret.h"
#include "spawn.h"
#include "xmalloc.h"

#define SECRET_LINE_MAX 1024        /* a password line, read_file and startup disk */
#define SECRET_DISK_MAX (64 * 1024) /* a startup disk file */
#define SECRET_MEDIA_ROOTS "/media:/run/media:/mnt"
#define SECRET_CREDSTORE "/run/credstore"

/*
 * Secure memory, or ordinary memory when the secure heap is full (its
 * failure is taken off OpenSSL's error queue, where it would mislead the
 * next caller that reports an OpenSSL error).
 */
static char *
secret_alloc(size_t size)
{
	char *p;

	ERR_set_mark();
	p = OPENSSL_secure_zalloc(size);
	ERR_pop_to_mark();
	if (p == NULL && (p = OPENSSL_zalloc(size)) == NULL)
		abort();
	return p;
}

/* Frees what secret_alloc gave, wiping size bytes (all of it when secure). */
static void
secret_release(char *p, size_t size)
{
	if (p != NULL)
		OPENSSL_secure_clear_free(p, size);
}

int
secret_init_process(char **warning)
{
	struct rlimit none = { 0, 0 };
	int e = 0, r = 1;

	*warning = NULL;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 || setrlimit(RLIMIT_CORE, &none) == -1)
		e = errno;
	if (!CRYPTO_secure_malloc_initialized())
		r = CRYPTO_secure_malloc_init(64 * 1024, 32);
	if (r == 0)
		*warning = xstrdup(
		    _("The secure memory heap could not be set up: passwords are kept "
		      "in ordinary memory, which could be swapped out."));
	else if (r == 2)
		*warning = xstrdup(
		    _("The secure memory heap could not be locked in memory: passwords "
		      "could be swapped out."));
	else if (e != 0)
		*warning = xasprintf(_("Core dumps could not be turned off: %s"), strerror(e));
	return *warning == NULL ? 0 : -1;
}

struct secret *
secret_new(const char *buf, size_t len)
{
	struct secret *s = xmalloc(sizeof *s);

	s->data = secret_alloc(len + 1);
	memcpy(s->data, buf, len);
	s->data[len] = '\0';
	s->len = len;
	return s;
}

void
secret_free(struct secret *s)
{
	if (s == NULL)
		return;
	secret_release(s->data, s->len + 1);
	free(s);
}

/* The secret followed by a newline, in secure memory: what a reader of stdin expects. */
static char *
secret_line(const struct secret *s, size_t *len)
{
	char *line = secret_alloc(s->len + 2);

	memcpy(line, s->data, s->len);
	line[s->len] = '\n';
	*len = s->len + 1;
	return line;
}

static int
secret_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trims in place; the bytes given up are wiped, so the allocation stays clean. */
static void
secret_trim(struct secret *s)
{
	size_t start = 0, end = s->len;

	while (start < end && secret_is_space(s->data[start]))
		start++;
	while (end > start && secret_is_space(s->data[end - 1]))
		end--;
	memmove(s->data, s->data + start, end - start);
	OPENSSL_cleanse(s->data + (end - start), s->len - (end - start));
	s->len = end - start;
	s->data[s->len] = '\0';
}

/* Characters, not bytes: what the operator would count (UTF-8 lead bytes). */
static size_t
secret_count_chars(const struct secret *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->len; i++) {
		if (((unsigned char)s->data[i] & 0xc0) != 0x80)
			n++;
	}
	return n;
}

static int
secret_normalize_upper(struct secret *s, char **cause)
{
	size_t i, n = secret_count_chars(s);

	for (i = 0; i < s->len; i++) {
		if (s->data[i] >= 'a' && s->data[i] <= 'z')
			s->data[i] = (char)(s->data[i] - 'a' + 'A');
	}
	if (n != 14 && n != 15) {
		*cause = xasprintf(Q_("The alpha string must be 14 or 15 letters A to Z; what was "
				      "given has %zu character.",
				       "The alpha string must be 14 or 15 letters A to Z; what was "
				       "given has %zu characters.",
				       n),
		    n);
		return -1;
	}
	for (i = 0; i < s->len; i++) {
		if (s->data[i] < 'A' || s->data[i] > 'Z') {
			*cause = xstrdup(_("The alpha string must be 14 or 15 letters A to Z; what "
					   "was given has something other than letters in it."));
			return -1;
		}
	}
	return 0;
}

int
secret_normalize_alpha(struct secret *s, enum secret_case c, char **cause)
{
	size_t i;

	secret_trim(s);
	if (c == SECRET_CASE_UPPER)
		return secret_normalize_upper(s, cause);
	if (s->len == 0) {
		*cause = xstrdup(_("The password is empty."));
		return -1;
	}
	for (i = 0; i < s->len; i++) {
		if ((unsigned char)s->data[i] < 0x20 || s->data[i] == 0x7f) {
			*cause = xstrdup(_("The password has a control character in it."));
			return -1;
		}
	}
	return 0;
}

/* One byte; 1, 0 at the end, -1 on an error. */
static int
secret_read_byte(int fd, char *c)
{
	ssize_t n;

	do
		n = read(fd, c, 1);
	while (n == -1 && errno == EINTR);
	return (int)n;
}

/*
 * The first line of fd into a secure buffer (no newline kept). 0, or -1
 * with errno set (EFBIG: longer than SECRET_LINE_MAX).
 */
static int
secret_read_line(int fd, struct secret **out)
{
	char *buf = secret_alloc(SECRET_LINE_MAX + 1);
	size_t n = 0;
	int r = -1;

	if (fault_fail("read") == -1)
		goto out;
	for (;;) {
		if ((r = secret_read_byte(fd, &buf[n])) == -1)
			goto out;
		if (r == 0 || buf[n] == '\n')
			break;
		if (++n == SECRET_LINE_MAX) {
			errno = EFBIG;
			r = -1;
			goto out;
		}
	}
	*out = secret_new(buf, n);
	r = 0;
out:
	secret_release(buf, SECRET_LINE_MAX + 1);
	return r;
}

int
secret_read_file(const char *path, struct secret **out, char **cause)
{
	const char *name = strcmp(path, "-") == 0 ? _("standard input") : path;
	int fd = 0, ret = -1;

	*out = NULL;
	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*cause = xasprintf(_("cannot open %1$s: %2$s"), name, strerror(errno));
		return -1;
	}
	if (secret_read_line(fd, out) == -1) {
		if (errno == EFBIG)
			*cause = xasprintf(_("%1$s: the first line is longer than %2$d bytes"),
			    name, SECRET_LINE_MAX);
		else
			*cause = xasprintf(_("cannot read %1$s: %2$s"), name, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd != 0)
		close(fd);
	return ret;
}

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

/* The verifier. */

int
secret_verify(const struct profile *p, const struct secret *s, const char *dir, char **output,
    char **cause)
{
	struct spawn_result res;
	char **argv, *line, *how;
	size_t len;
	int ret = -1;

	*output = NULL;
	if (p->verify_argv == NULL) {
		*cause = xstrdup(_("the profile names no verifier ([secret] verify)"));
		return -1;
	}
	argv = profile_substitute_argv(p->verify_argv, "%d", dir);
	line = secret_line(s, &len);
	if (spawn_run(argv, line, len, p->timeout, &res, cause) == -1)
		goto out;
	if (res.exited && res.status == 0)
		ret = 1;
	else if (res.exited && !res.timed_out) {
		*output = res.output;
		res.output = NULL;
		ret = 0;
	} else {
		how = spawn_describe(&res);
		/* TRANSLATORS: %1$s is the verifier program, %2$s how it ended. */
		*cause = xasprintf(_("the verifier %1$s did not finish: %2$s"), argv[0], how);
		free(how);
	}
	spawn_result_free(&res);
out:
	secret_release(line, len + 1);
	xfree_argv(argv);
	return ret;
}

/* The file hand-offs. */

static int
secret_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if (fault_fail("write") == -1)
			return -1;
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The credential store folder, made 0700 when it is not there. */
static int
secret_credstore(char **dir, char **cause)
{
	const char *d = getenv("KMSRECOVER_CREDSTORE");
	struct stat st;

	if (d == NULL || *d == '\0')
		d = SECRET_CREDSTORE;
	if (mkdir(d, 0700) == -1 && errno != EEXIST) {
		*cause = xasprintf(_("cannot create the folder %1$s: %2$s"), d, strerror(errno));
		return -1;
	}
	if (lstat(d, &st) == -1 || !S_ISDIR(st.st_mode)) {
		*cause = xasprintf(_("%s is not a folder"), d);
		return -1;
	}
	if ((st.st_mode & 077) != 0 && chmod(d, 0700) == -1) {
		*cause = xasprintf(_("cannot make %1$s private: %2$s"), d, strerror(errno));
		return -1;
	}
	*dir = xstrdup(d);
	return 0;
}

/* Creates path afresh with mode and the secret and a newline in it, synced. */
static int
secret_write_new(const char *path, mode_t mode, const struct secret *s, char **cause)
{
	char *line;
	size_t len;
	int fd, ret = -1;

	if (unlink(path) == -1 && errno != ENOENT) {
		*cause = xasprintf(_("cannot remove the old %1$s: %2$s"), path, strerror(errno));
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
	if (fd == -1) {
		*cause = xasprintf(_("cannot create %1$s: %2$s"), path, strerror(errno));
		return -1;
	}
	line = secret_line(s, &len);
	if (fchmod(fd, mode) == -1 || secret_write_all(fd, line, len) == -1 ||
	    fault_fail("fsync") == -1 || fsync(fd) == -1) {
		*cause = xasprintf(_("cannot write %1$s: %2$s"), path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	secret_release(line, len + 1);
	close(fd);
	if (ret == -1)
		secret_handoff_remove(path);
	return ret;
}

int
secret_handoff_write(const struct profile *p, const struct secret *s, char **path, char **cause)
{
	char *dir, *file;
	mode_t mode = 0600;

	*path = NULL;
	if (p->handoff == HANDOFF_STDIN)
		return 0;
	if (p->handoff == HANDOFF_CREDENTIAL) {
		if (secret_credstore(&dir, cause) == -1)
			return -1;
		file = xasprintf("%s/%s.alpha", dir, p->service_name);
		free(dir);
		mode = 0400;
	} else
		file = xstrdup(p->handoff_path);
	if (secret_write_new(file, mode, s, cause) == -1) {
		free(file);
		return -1;
	}
	*path = file;
	return 0;
}

void
secret_handoff_remove(const char *path)
{
	static const char zeros[512];
	struct stat st;
	off_t left;
	size_t n = 0;
	int fd;

	if (path == NULL)
		return;
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) == -1 &&
	    errno == EACCES && chmod(path, 0600) == 0)
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd != -1) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			for (left = st.st_size; left > 0; left -= (off_t)n) {
				n = left > (off_t)sizeof zeros ? sizeof zeros : (size_t)left;
				if (write(fd, zeros, n) != (ssize_t)n)
					break;
			}
			fsync(fd);
		}
		close(fd);
	}
	unlink(path);
}
