/*
 * What kmsim's database is built with: allocation that never returns NULL,
 * a growing buffer and a bounded reader, names checked, PBKDF2 and
 * AES-256-GCM seals (OpenSSL), files written whole and synced, folders
 * made, a new alpha string.
 */

#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "kmsim-db-private.h"

__attribute__((noreturn)) void
kmsim_out_of_memory(void)
{
	static const char msg[] = "kmsim: out of memory\n";

	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
		/* nothing more to do */
	}
	abort();
}

void *
kmsim_xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		kmsim_out_of_memory();
	return p;
}

char *
kmsim_xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		kmsim_out_of_memory();
	return p;
}

char *
kmsim_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		kmsim_out_of_memory();
	return s;
}

void
kmsim_buf_put(struct kmsim_buf *b, const void *p, size_t n)
{
	unsigned char *data;
	size_t size;

	if (n > SIZE_MAX / 2 - b->len)
		kmsim_out_of_memory();
	if (b->len + n > b->size) {
		size = b->size == 0 ? 4096 : b->size;
		while (size < b->len + n)
			size *= 2;
		data = kmsim_xcalloc(1, size);
		if (b->len != 0)
			memcpy(data, b->data, b->len);
		if (b->data != NULL)
			OPENSSL_cleanse(b->data, b->size);
		free(b->data);
		b->data = data;
		b->size = size;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
kmsim_buf_put_u32(struct kmsim_buf *b, uint32_t v)
{
	unsigned char p[4] = { v >> 24, v >> 16, v >> 8, v };

	kmsim_buf_put(b, p, sizeof p);
}

void
kmsim_buf_free(struct kmsim_buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->size);
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

uint32_t
kmsim_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The next n bytes, or NULL when fewer are left. */
const unsigned char *
kmsim_reader_get(struct kmsim_reader *r, size_t n)
{
	const unsigned char *p;

	if (n > r->len - r->off)
		return NULL;
	p = r->data + r->off;
	r->off += n;
	return p;
}

int
kmsim_reader_u32(struct kmsim_reader *r, uint32_t *v)
{
	const unsigned char *p;

	if ((p = kmsim_reader_get(r, 4)) == NULL)
		return -1;
	*v = kmsim_get_u32(p);
	return 0;
}

/* A user or file name: 1..max bytes of [A-Za-z0-9._-], and no leading dot when no_dot. */
int
kmsim_name_valid(const unsigned char *name, size_t len, size_t max, int no_dot)
{
	size_t i;

	if (len == 0 || len > max || (no_dot && name[0] == '.'))
		return 0;
	for (i = 0; i < len; i++) {
		if (!isalnum(name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
			return 0;
	}
	return 1;
}

int
kmsim_sha256(const void *data, size_t len, unsigned char out[KMSIM_SUM_SIZE])
{
	return EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

/* PBKDF2-HMAC-SHA256 of the alpha string into a 32-byte key. */
int
kmsim_derive(const char *alpha, size_t alpha_len, const unsigned char *salt, uint32_t iterations,
    unsigned char out[KMSIM_KEY_SIZE])
{
	OSSL_PARAM params[5];
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx = NULL;
	uint64_t iter = iterations;
	int ret = -1;

	if ((kdf = EVP_KDF_fetch(NULL, "PBKDF2", NULL)) == NULL)
		return -1;
	if ((ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	    (void *)(alpha_len == 0 ? "" : alpha), alpha_len);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
	    KMSIM_SALT_SIZE);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter);
	params[3] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, KMSIM_KEY_SIZE, params) == 1)
		ret = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ret;
}

/* Seals a 32-byte key: seal gets IV, ciphertext and tag. Returns 0, or -1. */
int
kmsim_seal(const unsigned char *key, const unsigned char *aad, size_t aad_len,
    const unsigned char *in, unsigned char seal[KMSIM_SEAL_SIZE])
{
	unsigned char *iv = seal, *out = seal + KMSIM_IV_SIZE, *tag = out + KMSIM_KEY_SIZE;
	EVP_CIPHER_CTX *ctx;
	int n, ret = -1;

	if (RAND_bytes(iv, KMSIM_IV_SIZE) != 1 || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &n, in, KMSIM_KEY_SIZE) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, KMSIM_TAG_SIZE, tag) != 1)
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* Unseals a 32-byte key. Returns 1, 0 when it does not authenticate, -1 on error. */
int
kmsim_unseal(const unsigned char *key, const unsigned char *aad, size_t aad_len,
    const unsigned char seal[KMSIM_SEAL_SIZE], unsigned char out[KMSIM_KEY_SIZE])
{
	const unsigned char *iv = seal, *in = seal + KMSIM_IV_SIZE, *tag = in + KMSIM_KEY_SIZE;
	EVP_CIPHER_CTX *ctx;
	unsigned char rest[KMSIM_KEY_SIZE];
	int n, ret = -1;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &n, in, KMSIM_KEY_SIZE) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, KMSIM_TAG_SIZE, (void *)tag) != 1)
		goto out;
	ret = EVP_DecryptFinal_ex(ctx, rest, &n) > 0 ? 1 : 0;
out:
	if (ret != 1)
		OPENSSL_cleanse(out, KMSIM_KEY_SIZE);
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* The AAD of record index: header, index, name length, name. Returns its length. */
size_t
kmsim_record_aad(unsigned char *aad, const unsigned char *header, uint32_t index,
    const unsigned char *name, size_t name_len)
{
	memcpy(aad, header, KMSIM_HEADER_SIZE);
	aad[KMSIM_HEADER_SIZE] = index >> 24;
	aad[KMSIM_HEADER_SIZE + 1] = index >> 16;
	aad[KMSIM_HEADER_SIZE + 2] = index >> 8;
	aad[KMSIM_HEADER_SIZE + 3] = index;
	aad[KMSIM_HEADER_SIZE + 4] = name_len;
	memcpy(aad + KMSIM_HEADER_SIZE + 5, name, name_len);
	return KMSIM_HEADER_SIZE + 5 + name_len;
}

int
kmsim_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* fsyncs the folder holding path, so a rename in it is durable. */
static int
kmsim_sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, ret = -1;

	if (slash == NULL)
		dir = kmsim_xstrdup(".");
	else if (slash == path)
		dir = kmsim_xstrdup("/");
	else
		dir = kmsim_xasprintf("%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		ret = fsync(fd);
		close(fd);
	}
	free(dir);
	return ret;
}

int
kmsim_write_file(const char *path, const void *data, size_t len, mode_t mode, char **cause)
{
	char *tmp = kmsim_xasprintf("%s.tmp-XXXXXX", path);
	int fd, ret = -1;

	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		*cause = kmsim_xasprintf("cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) != 0 || kmsim_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		*cause = kmsim_xasprintf("cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		fd = -1;
		*cause = kmsim_xasprintf("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (kmsim_sync_parent(path) != 0) {
		*cause = kmsim_xasprintf("cannot sync the folder of %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret != 0)
		unlink(tmp);
	free(tmp);
	return ret;
}

int
kmsim_mkdirs(const char *path, mode_t mode, char **cause)
{
	char *copy = kmsim_xstrdup(path), *p, save;
	struct stat sb;
	int ret = -1;

	if (*copy == '\0') {
		*cause = kmsim_xstrdup("empty folder name");
		goto out;
	}
	for (p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		save = *p;
		*p = '\0';
		if (mkdir(copy, mode) != 0 &&
		    (errno != EEXIST || stat(copy, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
			if (errno == EEXIST)
				errno = ENOTDIR;
			*cause = kmsim_xasprintf("cannot create %s: %s", copy, strerror(errno));
			goto out;
		}
		if (save == '\0')
			break;
		*p = save;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

int
kmsim_alpha_generate(char out[KMSIM_ALPHA_LEN + 1])
{
	unsigned char byte;
	size_t n = 0;

	/* Bytes below 234 (9 * 26) map evenly onto the letters. */
	while (n < KMSIM_ALPHA_LEN) {
		if (RAND_bytes(&byte, 1) != 1)
			return -1;
		if (byte < 234)
			out[n++] = 'A' + byte % 26;
	}
	out[n] = '\0';
	OPENSSL_cleanse(&byte, sizeof byte);
	return 0;
}
