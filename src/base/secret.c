/*
 * The alpha string and backup passphrases (secret.h; DESIGN.md, rule 6).
 * Every byte of a secret lives in OpenSSL's secure heap: files and pipes are
 * read with read(2) straight into it, a byte at a time, so no stdio buffer
 * and no stack copy ever holds it, and it is wiped when freed. When the
 * secure heap is full or absent the ordinary heap is used (and still wiped).
 *
 * The startup disk's reader (system/startup-disk.c) and the hand-offs and
 * verifier (system/handoff.c) build on the container kept here.
 */
#include "config.h"

#include <ctype.h>
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
#include "xmalloc.h"

/*
 * Secure memory, or ordinary memory when the secure heap is full (its
 * failure is taken off OpenSSL's error queue, where it would mislead the
 * next caller that reports an OpenSSL error).
 */
char *
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
void
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
char *
secret_line(const struct secret *s, size_t *len)
{
	char *line = secret_alloc(s->len + 2);

	memcpy(line, s->data, s->len);
	line[s->len] = '\n';
	*len = s->len + 1;
	return line;
}

int
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
int
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
