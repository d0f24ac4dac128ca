/*
 * SHA-256 (see digest.h): OpenSSL's EVP with the SHA-256 implementation
 * fetched once for the process, so the CPU's SHA extensions are used when
 * present; its hex form, written and read.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"
#include "xmalloc.h"

struct digest {
	EVP_MD_CTX *ctx;
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
