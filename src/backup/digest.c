/*
 * SHA-256 and the backup's manifest (see digest.h).
 *
 * The digest is OpenSSL's EVP with the SHA-256 implementation fetched once
 * for the process, so the CPU's SHA extensions are used when present. The
 * manifest is what `sha256sum` writes; it is parsed once into an array kept
 * in the file's order (so "the first missing file" is the first one the
 * operator sees in the file) and an index sorted by path for the lookups.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"
#include "i18n.h"
#include "xmalloc.h"

struct digest {
	EVP_MD_CTX *ctx;
};

struct manifest_entry {
	char *path;
	unsigned char digest[DIGEST_LEN];
	size_t line;
	int seen;
};

struct manifest {
	struct manifest_entry *entries; /* in the file's order */
	struct manifest_entry **sorted; /* by path */
	size_t count;
	size_t alloc;
};

static EVP_MD *digest_sha256;
static pthread_once_t digest_once = PTHREAD_ONCE_INIT;

static void
digest_fetch(void)
{
	if ((digest_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		abort();
}

/*
 * The SHA-256 implementation, fetched from the default provider once for
 * the process (backup.c digests on worker threads too).
 */
static const EVP_MD *
digest_md(void)
{
	if (pthread_once(&digest_once, digest_fetch) != 0)
		abort();
	return digest_sha256;
}

struct digest *
digest_new(void)
{
	struct digest *d;

	d = xmalloc(sizeof *d);
	if ((d->ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	if (EVP_DigestInit_ex(d->ctx, digest_md(), NULL) != 1)
		abort();
	return d;
}

void
digest_update(struct digest *d, const void *buf, size_t len)
{
	if (len != 0 && EVP_DigestUpdate(d->ctx, buf, len) != 1)
		abort();
}

void
digest_final(struct digest *d, unsigned char out[DIGEST_LEN])
{
	unsigned int len = DIGEST_LEN;

	if (EVP_DigestFinal_ex(d->ctx, out, &len) != 1 || len != DIGEST_LEN)
		abort();
	if (EVP_DigestInit_ex(d->ctx, digest_md(), NULL) != 1)
		abort();
}

void
digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

void
digest_hex(const unsigned char in[DIGEST_LEN], char out[DIGEST_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < DIGEST_LEN; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[DIGEST_HEX_LEN] = '\0';
}

/* A hex digit's value, either case; -1 for anything else. */
static int
digest_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
digest_unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if ((hi = digest_hex_value(s[2 * i])) < 0 ||
		    (lo = digest_hex_value(s[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/*
 * Drops "." components (a leading "./" above all, as find(1) writes) and
 * folds runs of "/", so that a path in the manifest and the same path as an
 * archive stores it compare equal. ".." is kept: such a path matches no
 * entry, since the backup refuses those.
 */
char *
manifest_normalize_path(const char *path)
{
	char *out, *o;
	size_t n;

	out = o = xmalloc(strlen(path) + 1);
	while (*path != '\0') {
		n = strcspn(path, "/");
		if (n > 0 && !(n == 1 && path[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memcpy(o, path, n);
			o += n;
		}
		for (path += n; *path == '/'; path++)
			;
	}
	*o = '\0';
	return out;
}

/* Reads 64 hex digits (either case, as sha256sum -c accepts). */
static int
manifest_parse_hex(const char *s, size_t len, unsigned char out[DIGEST_LEN])
{
	if (len < DIGEST_HEX_LEN)
		return -1;
	return digest_unhex(s, out, DIGEST_LEN);
}

/*
 * Undoes sha256sum's escaping of a name holding a backslash or a line end
 * (the line then starts with a backslash): "\\" and "\n" (and "\r", which
 * newer coreutils write). Returns NULL on any other escape.
 */
static char *
manifest_unescape(const char *s, size_t len)
{
	char *out, *o;
	size_t i;

	out = o = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		if (++i == len || (s[i] != '\\' && s[i] != 'n' && s[i] != 'r')) {
			free(out);
			return NULL;
		}
		*o++ = s[i] == 'n' ? '\n' : s[i] == 'r' ? '\r' : '\\';
	}
	*o = '\0';
	return out;
}

static int
manifest_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	}
	return 1;
}

/* Appends an entry, taking path. */
static void
manifest_add(struct manifest *m, char *path, const unsigned char digest[DIGEST_LEN], size_t line)
{
	struct manifest_entry *e;

	if (m->count == m->alloc) {
		m->alloc = m->alloc == 0 ? 16 : m->alloc * 2;
		m->entries = xreallocarray(m->entries, m->alloc, sizeof *m->entries);
	}
	e = &m->entries[m->count++];
	e->path = path;
	memcpy(e->digest, digest, DIGEST_LEN);
	e->line = line;
	e->seen = 0;
}

int
manifest_parse_line(const char *s, size_t len, size_t line, char **path,
    unsigned char digest[DIGEST_LEN], char **cause)
{
	char *raw;
	int escaped = 0;

	*path = NULL;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (manifest_blank(s, len))
		return 0;
	if (memchr(s, '\0', len) != NULL) {
		*cause = xasprintf(_("line %zu: it holds a NUL byte"), line);
		return -1;
	}
	if (s[0] == '\\') {
		escaped = 1;
		s++;
		len--;
	}
	if (manifest_parse_hex(s, len, digest) != 0 ||
	    (len > DIGEST_HEX_LEN && s[DIGEST_HEX_LEN] != ' ')) {
		*cause = xasprintf(_("line %zu: it does not start with a SHA-256 of 64 "
				     "hexadecimal digits and a space"),
		    line);
		return -1;
	}
	if (len < DIGEST_HEX_LEN + 3 ||
	    (s[DIGEST_HEX_LEN + 1] != ' ' && s[DIGEST_HEX_LEN + 1] != '*')) {
		*cause = xasprintf(_("line %zu: the file's path is missing after the SHA-256"),
		    line);
		return -1;
	}
	s += DIGEST_HEX_LEN + 2;
	len -= DIGEST_HEX_LEN + 2;
	raw = escaped ? manifest_unescape(s, len) : xstrndup(s, len);
	if (raw == NULL) {
		*cause = xasprintf(_("line %zu: the file's path has an unknown backslash escape"),
		    line);
		return -1;
	}
	*path = manifest_normalize_path(raw);
	free(raw);
	if (**path == '\0') {
		free(*path);
		*path = NULL;
		*cause = xasprintf(_("line %zu: the file's path is empty"), line);
		return -1;
	}
	return 1;
}

static int
manifest_compare(const void *a, const void *b)
{
	const struct manifest_entry *ea = *(struct manifest_entry *const *)a;
	const struct manifest_entry *eb = *(struct manifest_entry *const *)b;
	int r;

	if ((r = strcmp(ea->path, eb->path)) != 0)
		return r;
	return ea->line < eb->line ? -1 : ea->line > eb->line;
}

/* Sorts the index and refuses a path listed twice, naming the second line. */
static int
manifest_index(struct manifest *m, char **cause)
{
	struct manifest_entry *a, *b;
	size_t i;

	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized as one */
	m->sorted = xreallocarray(NULL, m->count, sizeof *m->sorted);
	for (i = 0; i < m->count; i++)
		m->sorted[i] = &m->entries[i];
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized as one */
	qsort(m->sorted, m->count, sizeof *m->sorted, manifest_compare);
	for (i = 1; i < m->count; i++) {
		a = m->sorted[i - 1];
		b = m->sorted[i];
		if (strcmp(a->path, b->path) == 0) {
			/* TRANSLATORS: both are line numbers of MANIFEST.sha256. */
			*cause = xasprintf(_("line %1$zu: the same file is listed on line %2$zu"),
			    b->line, a->line);
			return -1;
		}
	}
	return 0;
}

int
manifest_parse(const char *buf, size_t len, struct manifest **out, char **cause)
{
	struct manifest *m;
	const char *p = buf, *end, *nl;
	unsigned char digest[DIGEST_LEN];
	size_t line = 0, n;
	char *path;
	int r;

	*out = NULL;
	/* An empty manifest may come as NULL, and NULL + 0 is undefined in C. */
	end = len > 0 ? buf + len : buf;
	m = xcalloc(1, sizeof *m);
	while (p < end) {
		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if ((r = manifest_parse_line(p, n, line, &path, digest, cause)) < 0)
			goto fail;
		if (r > 0)
			manifest_add(m, path, digest, line);
		p = nl != NULL ? nl + 1 : end;
	}
	if (manifest_index(m, cause) != 0)
		goto fail;
	*out = m;
	return 0;

fail:
	manifest_free(m);
	return -1;
}

void
manifest_free(struct manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->count; i++)
		free(m->entries[i].path);
	free(m->entries);
	free(m->sorted);
	free(m);
}

size_t
manifest_count(const struct manifest *m)
{
	return m->count;
}

static int
manifest_search(const void *key, const void *elem)
{
	const struct manifest_entry *e = *(struct manifest_entry *const *)elem;

	return strcmp(key, e->path);
}

int
manifest_check(struct manifest *m, const char *path, const unsigned char digest[DIGEST_LEN])
{
	struct manifest_entry **found;
	char *norm;

	norm = manifest_normalize_path(path);
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized as one */
	found = bsearch(norm, m->sorted, m->count, sizeof *m->sorted, manifest_search);
	free(norm);
	if (found == NULL)
		return -1;
	(*found)->seen = 1;
	return memcmp((*found)->digest, digest, DIGEST_LEN) == 0;
}

const char *
manifest_first_unseen(const struct manifest *m)
{
	size_t i;

	for (i = 0; i < m->count; i++) {
		if (!m->entries[i].seen)
			return m->entries[i].path;
	}
	return NULL;
}

size_t
manifest_unseen_count(const struct manifest *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->count; i++)
		n += !m->entries[i].seen;
	return n;
}
