/*
 * libFuzzer target: MANIFEST.sha256, manifest_parse() over arbitrary bytes,
 * then the lookups backup.c makes: manifest_check() for each line's path as
 * written, and manifest_first_unseen()/manifest_unseen_count() until every
 * listed path was checked. The whole input is also normalised as a path,
 * and read as an HMAC side file (FILE.hmac, the other checksum file a
 * backup comes with) by backup_hmac_parse().
 *
 * Besides the sanitizers, it checks the manifest's own promises: a listed
 * path, normalised, is found again (normalising is idempotent and the
 * index agrees with the list); each check marks exactly one path seen; a
 * refusal says which line; a side file accepted is the exact format,
 * written again the same, with an iteration count in bounds.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backup.h"
#include "digest.h"
#include "manifest.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz-manifest: %s\n", what);
	abort();
}

/* Each line's text after "<64 hex>  ", looked up as backup.c would. */
static void
fuzz_check_lines(struct manifest *m, const char *buf, size_t len)
{
	static const unsigned char zero[DIGEST_LEN];
	const char *p = buf, *end = buf + len, *nl;
	char *path;
	size_t n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > DIGEST_HEX_LEN + 2) {
			path = xstrndup(p + DIGEST_HEX_LEN + 2, n - DIGEST_HEX_LEN - 2);
			(void)manifest_check(m, path, zero);
			free(path);
		}
		p = nl != NULL ? nl + 1 : end;
	}
}

/* Checks the unseen paths one by one: each is found, and the count goes down by one. */
static void
fuzz_drain_unseen(struct manifest *m)
{
	static const unsigned char zero[DIGEST_LEN];
	size_t left = manifest_unseen_count(m), total = manifest_count(m);
	const char *path;
	char *copy;

	if (left > total)
		fuzz_fail("more unseen paths than paths");
	while ((path = manifest_first_unseen(m)) != NULL) {
		if (left == 0)
			fuzz_fail("an unseen path, but the count says none");
		copy = xstrdup(path);
		if (manifest_check(m, copy, zero) < 0)
			fuzz_fail("a listed path is not found again");
		free(copy);
		if (manifest_unseen_count(m) != --left)
			fuzz_fail("checking a path did not mark exactly it seen");
	}
	if (left != 0)
		fuzz_fail("no unseen path, but the count says some");
}

/* Normalising twice gives what normalising once did. */
static void
fuzz_normalize(const uint8_t *data, size_t size)
{
	char *raw = xstrndup((const char *)data, size), *once, *twice;

	once = manifest_normalize_path(raw);
	twice = manifest_normalize_path(once);
	if (strcmp(once, twice) != 0)
		fuzz_fail("normalising is not idempotent");
	free(twice);
	free(once);
	free(raw);
}

/*
 * As an HMAC side file: accepted only when it begins with the format written
 * back (the hex digits in either case, as sha256sum's are).
 */
static void
fuzz_hmac_side(const uint8_t *data, size_t size)
{
	unsigned char mac[BACKUP_HMAC_LEN];
	char *text = xstrndup((const char *)data, size), again[128];
	size_t i, n, head;
	int iterations = 0;

	if (backup_hmac_parse(text, &iterations, mac) == 0) {
		if (iterations < 1 || iterations > 100000000)
			fuzz_fail("an HMAC file's iteration count out of bounds");
		n = head = (size_t)snprintf(again, sizeof again, "kmsrecover-hmac-sha256 1 %d\n",
		    iterations);
		for (i = 0; i < BACKUP_HMAC_LEN; i++)
			n += (size_t)snprintf(again + n, sizeof again - n, "%02x", mac[i]);
		if (strncmp(text, again, head) != 0 ||
		    strncasecmp(text + head, again + head, n - head) != 0 ||
		    (text[n] != '\n' && text[n] != '\0'))
			fuzz_fail("an HMAC file accepted that is not the format written");
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = NULL;
	char *cause = NULL;

	/* backup.c hands over NULL for an empty MANIFEST.sha256. */
	if (manifest_parse(size > 0 ? (const char *)data : NULL, size, &m, &cause) == 0) {
		if (m == NULL || cause != NULL)
			fuzz_fail("success without a manifest");
		fuzz_check_lines(m, (const char *)data, size);
		fuzz_drain_unseen(m);
		manifest_free(m);
	} else {
		if (m != NULL)
			fuzz_fail("a refusal that gave a manifest");
		if (cause == NULL || strncmp(cause, "line ", 5) != 0)
			fuzz_fail("a refusal that does not name the line");
		free(cause);
	}
	fuzz_normalize(data, size);
	fuzz_hmac_side(data, size);
	return 0;
}
