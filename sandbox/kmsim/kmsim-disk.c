/*
 * The startup disk as kmsim reads it: KMSPWD.INI's [config] section and
 * its pwd line (the same dialect as kmsrecover's reader, written apart:
 * kmsim stands in for a service we did not write).
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "kmsim-db-private.h"

/* Trims blanks at both ends of [*start, *end). */
static void
kmsim_trim(const char **start, const char **end)
{
	while (*start < *end && (**start == ' ' || **start == '\t'))
		(*start)++;
	while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
		(*end)--;
}

/* The value of line [s, e) when it is "pwd = value"; NULL otherwise. */
static const char *
kmsim_disk_pwd(const char *s, const char *e, const char **value_end)
{
	const char *eq = memchr(s, '=', e - s), *key_end, *v;

	if (eq == NULL)
		return NULL;
	key_end = eq;
	kmsim_trim(&s, &key_end);
	if (key_end - s != 3 || strncasecmp(s, "pwd", 3) != 0)
		return NULL;
	v = eq + 1;
	*value_end = e;
	kmsim_trim(&v, value_end);
	return v;
}

ssize_t
kmsim_startup_disk_parse(const char *text, size_t len, char *out, size_t outsize, char **cause)
{
	const char *p = text, *end = text + len, *s, *e, *v, *v_end;
	int in_config = 0;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (; p < end; p = e + (e < end)) {
		s = p;
		if ((e = memchr(p, '\n', end - p)) == NULL)
			e = end;
		p = e;
		kmsim_trim(&s, &p);
		if (s == p || *s == ';' || *s == '#')
			continue;
		if (*s == '[') {
			in_config = p - s == 8 && strncasecmp(s, "[config]", 8) == 0;
			continue;
		}
		if (!in_config || (v = kmsim_disk_pwd(s, p, &v_end)) == NULL)
			continue;
		if ((size_t)(v_end - v) >= outsize) {
			*cause = kmsim_xstrdup("the password on the startup disk is too long");
			return -1;
		}
		memcpy(out, v, v_end - v);
		out[v_end - v] = '\0';
		return v_end - v;
	}
	*cause = kmsim_xstrdup("no pwd= entry in a [config] section");
	return -1;
}

ssize_t
kmsim_startup_disk_read(const char *path, char *out, size_t outsize, char **cause)
{
	unsigned char *data = NULL;
	const char *why;
	size_t len = 0;
	ssize_t ret = -1;
	char *inner = NULL;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*cause = kmsim_xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (kmsim_read_fd(fd, KMSIM_DISK_SIZE_MAX, &data, &len, &why) != 0) {
		*cause = kmsim_xasprintf("%s: %s", path, why);
		goto out;
	}
	if ((ret = kmsim_startup_disk_parse((char *)data, len, out, outsize, &inner)) < 0)
		*cause = kmsim_xasprintf("%s: %s", path, inner);
out:
	free(inner);
	if (data != NULL)
		OPENSSL_cleanse(data, len);
	free(data);
	close(fd);
	return ret;
}
