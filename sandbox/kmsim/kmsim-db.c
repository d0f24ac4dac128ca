/*
 * kmsim's key database (see kmsim-db.h): the stand-in for the Exchange KM
 * Server's Kmsmdb.edb and its edb*.log files, honest enough that a restore
 * with the wrong alpha string, or of damaged files, fails as the real
 * server fails (Event 5057, Event 5058).
 *
 * Kmsmdb.edb, format version 1. All integers are unsigned big-endian.
 *
 *   header (36 bytes; the additional authenticated data of every GCM seal)
 *     0   8  magic "KMSIMDB\0"
 *     8   4  version: 1
 *    12   4  key derivation: 1 = PBKDF2-HMAC-SHA256
 *    16   4  iterations, 1000 .. 10000000
 *    20  16  salt
 *   master key (60 bytes)
 *    36  12  IV
 *    48  32  the 32-byte master key, AES-256-GCM under the key derived from
 *            the alpha string (PBKDF2(alpha, salt, iterations), 32 bytes),
 *            AAD = header
 *    80  16  GCM tag
 *   records
 *    96   4  count, 0 .. 100000
 *            then per record i (from 0):
 *             1  name length, 1 .. 64
 *             n  user name, [A-Za-z0-9._-]
 *            12  IV
 *            32  the user's key, AES-256-GCM under the master key,
 *                AAD = header, i (4 bytes), name length, name
 *            16  GCM tag
 *   log files
 *             4  count, 0 .. 16
 *            then per log file (a file beside Kmsmdb.edb):
 *             1  name length, 1 .. 32
 *             n  file name, [A-Za-z0-9._-], not starting with "."
 *            32  SHA-256 of the file's content
 *   trailer
 *            32  SHA-256 of every byte before it
 *
 * Opening checks the file's trailer and structure and every log file's
 * checksum before it derives any key, so damage of any kind (a flipped
 * byte, a truncation, a missing or altered log) is told apart from a wrong
 * password: the only way to reach "wrong password" is a sound file whose
 * master key does not unseal. (A file altered on purpose, its trailer
 * recomputed, can still pass for a wrong password if the master key's seal
 * was the part altered: nothing can tell the two apart then.) Sizes read
 * from the file are bounded by the limits above and by the file's length,
 * itself at most 16 MiB.
 *
 * Each edb*.log file written by create is a text line naming it, then
 * random bytes: 4 KiB in all. Only its checksum matters.
 */

#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "kmsim-db.h"

#define KMSIM_MAGIC "KMSIMDB\0"
#define KMSIM_VERSION 1
#define KMSIM_KDF_PBKDF2_SHA256 1
#define KMSIM_SALT_SIZE 16
#define KMSIM_HEADER_SIZE 36
#define KMSIM_IV_SIZE 12
#define KMSIM_TAG_SIZE 16
#define KMSIM_SEAL_SIZE (KMSIM_IV_SIZE + KMSIM_KEY_SIZE + KMSIM_TAG_SIZE)
#define KMSIM_SUM_SIZE 32
#define KMSIM_LOGS_MAX 16
#define KMSIM_LOG_NAME_MAX 32
#define KMSIM_LOG_SIZE 4096
#define KMSIM_DB_SIZE_MAX (16 * 1024 * 1024)
#define KMSIM_DISK_SIZE_MAX (64 * 1024)
#define KMSIM_RECORD_MIN (1 + 1 + KMSIM_SEAL_SIZE)

/* A growing output buffer; cleansed when freed, as it holds key material's neighbours. */
struct kmsim_buf {
	unsigned char *data;
	size_t len;
	size_t size;
};

/* A bounded cursor over a file read into memory. */
struct kmsim_reader {
	const unsigned char *data;
	size_t len;
	size_t off;
};

/* One record as it lies in the file. */
struct kmsim_raw_record {
	const unsigned char *name;
	size_t name_len;
	const unsigned char *seal; /* IV, encrypted key, tag */
};

/* Where the parts of a checked Kmsmdb.edb lie, pointing into its bytes. */
struct kmsim_layout {
	const unsigned char *header;
	uint32_t iterations;
	const unsigned char *salt;
	const unsigned char *wrap; /* IV, encrypted master key, tag */
	uint32_t nrecords;
	size_t records_off;
	uint32_t nlogs;
	char log_names[KMSIM_LOGS_MAX][KMSIM_LOG_NAME_MAX + 1];
	const unsigned char *log_sums[KMSIM_LOGS_MAX];
};

static __attribute__((noreturn)) void
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

static void
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

static void
kmsim_buf_put_u32(struct kmsim_buf *b, uint32_t v)
{
	unsigned char p[4] = { v >> 24, v >> 16, v >> 8, v };

	kmsim_buf_put(b, p, sizeof p);
}

static void
kmsim_buf_free(struct kmsim_buf *b)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->size);
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

static uint32_t
kmsim_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The next n bytes, or NULL when fewer are left. */
static const unsigned char *
kmsim_reader_get(struct kmsim_reader *r, size_t n)
{
	const unsigned char *p;

	if (n > r->len - r->off)
		return NULL;
	p = r->data + r->off;
	r->off += n;
	return p;
}

static int
kmsim_reader_u32(struct kmsim_reader *r, uint32_t *v)
{
	const unsigned char *p;

	if ((p = kmsim_reader_get(r, 4)) == NULL)
		return -1;
	*v = kmsim_get_u32(p);
	return 0;
}

/* A user or file name: 1..max bytes of [A-Za-z0-9._-], and no leading dot when no_dot. */
static int
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

static int
kmsim_sha256(const void *data, size_t len, unsigned char out[KMSIM_SUM_SIZE])
{
	return EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

/* PBKDF2-HMAC-SHA256 of the alpha string into a 32-byte key. */
static int
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
static int
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
static int
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
static size_t
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

static int
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

/* Writes log file number n (from 1) in dir and its SHA-256 into sum. */
static int
kmsim_db_write_log(const char *dir, unsigned int n, char *name, size_t name_size,
    unsigned char sum[KMSIM_SUM_SIZE], char **cause)
{
	unsigned char data[KMSIM_LOG_SIZE];
	char *path;
	int len, ret = -1;

	len = snprintf(name, name_size, "edb%05u.log", n);
	if (len < 0 || (size_t)len >= name_size) {
		*cause = kmsim_xstrdup("log file name too long");
		return -1;
	}
	len = snprintf((char *)data, sizeof data, "kmsim transaction log %s\n", name);
	if (len < 0 || (size_t)len >= sizeof data ||
	    RAND_bytes(data + len, sizeof data - len) != 1 ||
	    kmsim_sha256(data, sizeof data, sum) != 0) {
		*cause = kmsim_xstrdup("cannot make random log content");
		return -1;
	}
	path = kmsim_xasprintf("%s/%s", dir, name);
	if (kmsim_write_file(path, data, sizeof data, 0600, cause) == 0)
		ret = 0;
	free(path);
	return ret;
}

/* Appends a header with a new salt; copies it into header for the AADs. */
static int
kmsim_db_put_header(struct kmsim_buf *b, uint32_t iterations,
    unsigned char header[KMSIM_HEADER_SIZE])
{
	unsigned char salt[KMSIM_SALT_SIZE];

	if (RAND_bytes(salt, sizeof salt) != 1)
		return -1;
	kmsim_buf_put(b, KMSIM_MAGIC, 8);
	kmsim_buf_put_u32(b, KMSIM_VERSION);
	kmsim_buf_put_u32(b, KMSIM_KDF_PBKDF2_SHA256);
	kmsim_buf_put_u32(b, iterations);
	kmsim_buf_put(b, salt, sizeof salt);
	memcpy(header, b->data, KMSIM_HEADER_SIZE);
	return 0;
}

/* Appends the master key sealed under the alpha string's key. */
static int
kmsim_db_put_master(struct kmsim_buf *b, const unsigned char *header, const char *alpha,
    size_t alpha_len, uint32_t iterations, const unsigned char *master)
{
	unsigned char kek[KMSIM_KEY_SIZE], seal[KMSIM_SEAL_SIZE];
	int ret = -1;

	if (kmsim_derive(alpha, alpha_len, header + 20, iterations, kek) != 0 ||
	    kmsim_seal(kek, header, KMSIM_HEADER_SIZE, master, seal) != 0)
		goto out;
	kmsim_buf_put(b, seal, sizeof seal);
	ret = 0;
out:
	OPENSSL_cleanse(kek, sizeof kek);
	return ret;
}

/* Appends nrecords records with new random keys sealed under master. */
static int
kmsim_db_put_records(struct kmsim_buf *b, const unsigned char *header, const unsigned char *master,
    size_t nrecords)
{
	unsigned char aad[KMSIM_HEADER_SIZE + 5 + KMSIM_USER_MAX], key[KMSIM_KEY_SIZE];
	unsigned char seal[KMSIM_SEAL_SIZE], len;
	char name[KMSIM_USER_MAX + 1];
	size_t i, aad_len;
	int n, ret = -1;

	kmsim_buf_put_u32(b, nrecords);
	for (i = 0; i < nrecords; i++) {
		n = snprintf(name, sizeof name, "user%04zu", i + 1);
		if (n < 0 || (size_t)n >= sizeof name || RAND_bytes(key, sizeof key) != 1)
			goto out;
		len = n;
		aad_len = kmsim_record_aad(aad, header, i, (unsigned char *)name, len);
		if (kmsim_seal(master, aad, aad_len, key, seal) != 0)
			goto out;
		kmsim_buf_put(b, &len, 1);
		kmsim_buf_put(b, name, len);
		kmsim_buf_put(b, seal, sizeof seal);
	}
	ret = 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	return ret;
}

/* Appends the log files' names and sums, then the trailer. */
static int
kmsim_db_put_tail(struct kmsim_buf *b, char names[][KMSIM_LOG_NAME_MAX + 1],
    unsigned char sums[][KMSIM_SUM_SIZE], size_t nlogs)
{
	unsigned char sum[KMSIM_SUM_SIZE], len;
	size_t i;

	kmsim_buf_put_u32(b, nlogs);
	for (i = 0; i < nlogs; i++) {
		len = strlen(names[i]);
		kmsim_buf_put(b, &len, 1);
		kmsim_buf_put(b, names[i], len);
		kmsim_buf_put(b, sums[i], KMSIM_SUM_SIZE);
	}
	if (kmsim_sha256(b->data, b->len, sum) != 0)
		return -1;
	kmsim_buf_put(b, sum, sizeof sum);
	return 0;
}

int
kmsim_db_create(const char *dir, const char *alpha, size_t alpha_len, size_t nrecords,
    uint32_t iterations, char **cause)
{
	char names[KMSIM_DB_LOGS][KMSIM_LOG_NAME_MAX + 1], *path = NULL;
	unsigned char sums[KMSIM_DB_LOGS][KMSIM_SUM_SIZE], header[KMSIM_HEADER_SIZE];
	unsigned char master[KMSIM_KEY_SIZE];
	struct kmsim_buf b = { NULL, 0, 0 };
	unsigned int i;
	int ret = -1;

	if (nrecords > KMSIM_RECORDS_MAX || iterations < KMSIM_ITERATIONS_MIN ||
	    iterations > KMSIM_ITERATIONS_MAX) {
		*cause = kmsim_xstrdup("record count or iterations out of range");
		return -1;
	}
	for (i = 0; i < KMSIM_DB_LOGS; i++) {
		if (kmsim_db_write_log(dir, i + 1, names[i], sizeof names[i], sums[i], cause) != 0)
			goto out;
	}
	if (RAND_bytes(master, sizeof master) != 1 ||
	    kmsim_db_put_header(&b, iterations, header) != 0 ||
	    kmsim_db_put_master(&b, header, alpha, alpha_len, iterations, master) != 0 ||
	    kmsim_db_put_records(&b, header, master, nrecords) != 0 ||
	    kmsim_db_put_tail(&b, names, sums, KMSIM_DB_LOGS) != 0) {
		*cause = kmsim_xstrdup("cannot encrypt the key database (OpenSSL failed)");
		goto out;
	}
	path = kmsim_xasprintf("%s/%s", dir, KMSIM_DB_NAME);
	ret = kmsim_write_file(path, b.data, b.len, 0600, cause);
out:
	OPENSSL_cleanse(master, sizeof master);
	kmsim_buf_free(&b);
	free(path);
	return ret;
}

/* Sets *file to dir/name and *cause from fmt; returns KMSIM_DB_DAMAGED. */
static __attribute__((format(printf, 5, 6))) enum kmsim_db_result
kmsim_db_damaged(char **file, char **cause, const char *dir, const char *name, const char *fmt, ...)
{
	va_list ap;

	*file = kmsim_xasprintf("%s/%s", dir, name);
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		kmsim_out_of_memory();
	va_end(ap);
	return KMSIM_DB_DAMAGED;
}

/* Reads all of fd (a regular file of at most max bytes). 0, or -1 with *why. */
static int
kmsim_read_fd(int fd, size_t max, unsigned char **datap, size_t *lenp, const char **why)
{
	struct stat sb;
	unsigned char *data;
	size_t len = 0, size;
	ssize_t n = 0;

	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uintmax_t)sb.st_size > max) {
		*why = "not a regular file of a plausible size";
		return -1;
	}
	size = sb.st_size;
	data = kmsim_xcalloc(1, size + 1);
	/* One byte more than stat said, to notice a file that grew. */
	while (len < size + 1) {
		if ((n = read(fd, data + len, size + 1 - len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	if (n < 0 || len != size) {
		*why = n < 0 ? strerror(errno) : "it changed while it was read";
		OPENSSL_cleanse(data, size + 1);
		free(data);
		return -1;
	}
	*datap = data;
	*lenp = len;
	return 0;
}

/* One record at r's position: checks its name and bounds. 0, or -1. */
static int
kmsim_reader_record(struct kmsim_reader *r, struct kmsim_raw_record *rec)
{
	const unsigned char *p;

	if ((p = kmsim_reader_get(r, 1)) == NULL)
		return -1;
	rec->name_len = *p;
	if ((rec->name = kmsim_reader_get(r, rec->name_len)) == NULL ||
	    !kmsim_name_valid(rec->name, rec->name_len, KMSIM_USER_MAX, 0) ||
	    (rec->seal = kmsim_reader_get(r, KMSIM_SEAL_SIZE)) == NULL)
		return -1;
	return 0;
}

/* Checks the header, version and limits. 0, or -1 with *why. */
static int
kmsim_parse_header(struct kmsim_reader *r, struct kmsim_layout *l, const char **why)
{
	uint32_t version, kdf;

	l->header = kmsim_reader_get(r, KMSIM_HEADER_SIZE);
	if (l->header == NULL || memcmp(l->header, KMSIM_MAGIC, 8) != 0) {
		*why = "not a kmsim key database";
		return -1;
	}
	version = kmsim_get_u32(l->header + 8);
	kdf = kmsim_get_u32(l->header + 12);
	l->iterations = kmsim_get_u32(l->header + 16);
	l->salt = l->header + 20;
	if (version != KMSIM_VERSION || kdf != KMSIM_KDF_PBKDF2_SHA256) {
		*why = "unsupported format version or key derivation";
		return -1;
	}
	if (l->iterations < KMSIM_ITERATIONS_MIN || l->iterations > KMSIM_ITERATIONS_MAX) {
		*why = "iteration count out of range";
		return -1;
	}
	if ((l->wrap = kmsim_reader_get(r, KMSIM_SEAL_SIZE)) == NULL) {
		*why = "truncated";
		return -1;
	}
	return 0;
}

/* Walks the record section. 0, or -1 with *why. */
static int
kmsim_parse_records(struct kmsim_reader *r, struct kmsim_layout *l, const char **why)
{
	struct kmsim_raw_record rec;
	uint32_t i;

	if (kmsim_reader_u32(r, &l->nrecords) != 0 || l->nrecords > KMSIM_RECORDS_MAX ||
	    l->nrecords > (r->len - r->off) / KMSIM_RECORD_MIN) {
		*why = "record count out of range";
		return -1;
	}
	l->records_off = r->off;
	for (i = 0; i < l->nrecords; i++) {
		if (kmsim_reader_record(r, &rec) != 0) {
			*why = "a key record is malformed";
			return -1;
		}
	}
	return 0;
}

/* Reads the log files' names and sums, then expects exactly the trailer. */
static int
kmsim_parse_logs(struct kmsim_reader *r, struct kmsim_layout *l, const char **why)
{
	const unsigned char *len, *name;
	uint32_t i;

	if (kmsim_reader_u32(r, &l->nlogs) != 0 || l->nlogs > KMSIM_LOGS_MAX) {
		*why = "log file count out of range";
		return -1;
	}
	for (i = 0; i < l->nlogs; i++) {
		if ((len = kmsim_reader_get(r, 1)) == NULL ||
		    (name = kmsim_reader_get(r, *len)) == NULL ||
		    !kmsim_name_valid(name, *len, KMSIM_LOG_NAME_MAX, 1) ||
		    (l->log_sums[i] = kmsim_reader_get(r, KMSIM_SUM_SIZE)) == NULL) {
			*why = "a log file entry is malformed";
			return -1;
		}
		memcpy(l->log_names[i], name, *len);
		l->log_names[i][*len] = '\0';
	}
	if (r->len - r->off != KMSIM_SUM_SIZE) {
		*why = "unexpected length";
		return -1;
	}
	return 0;
}

/* Checks a whole Kmsmdb.edb in memory and finds its parts. 0, or -1 with *why. */
static int
kmsim_db_parse(const unsigned char *data, size_t len, struct kmsim_layout *l, const char **why)
{
	struct kmsim_reader r = { data, len, 0 };
	unsigned char sum[KMSIM_SUM_SIZE];

	memset(l, 0, sizeof *l);
	if (len < KMSIM_HEADER_SIZE + KMSIM_SEAL_SIZE + 4 + 4 + KMSIM_SUM_SIZE) {
		*why = "truncated";
		return -1;
	}
	if (kmsim_sha256(data, len - KMSIM_SUM_SIZE, sum) != 0 ||
	    CRYPTO_memcmp(sum, data + len - KMSIM_SUM_SIZE, KMSIM_SUM_SIZE) != 0) {
		*why = "checksum mismatch: the file is damaged or truncated";
		return -1;
	}
	if (kmsim_parse_header(&r, l, why) != 0 || kmsim_parse_records(&r, l, why) != 0 ||
	    kmsim_parse_logs(&r, l, why) != 0)
		return -1;
	return 0;
}

/* SHA-256 of the file at path (not followed if a symlink). 0, or -1 with errno. */
static int
kmsim_sha256_file(const char *path, unsigned char sum[KMSIM_SUM_SIZE])
{
	unsigned char buf[8192];
	EVP_MD_CTX *ctx = NULL;
	ssize_t n;
	int fd, ret = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || EVP_DigestUpdate(ctx, buf, n) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, sum, NULL) == 1)
		ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return ret;
}

static enum kmsim_db_result
kmsim_db_check_logs(const char *dir, const struct kmsim_layout *l, char **file, char **cause)
{
	unsigned char sum[KMSIM_SUM_SIZE];
	uint32_t i;
	char *path;
	int rc, saved_errno;

	for (i = 0; i < l->nlogs; i++) {
		path = kmsim_xasprintf("%s/%s", dir, l->log_names[i]);
		errno = 0;
		rc = kmsim_sha256_file(path, sum);
		saved_errno = errno;
		free(path);
		if (rc != 0) {
			return kmsim_db_damaged(file, cause, dir, l->log_names[i], "%s",
			    saved_errno != 0 ? strerror(saved_errno) : "cannot be read");
		}
		if (CRYPTO_memcmp(sum, l->log_sums[i], KMSIM_SUM_SIZE) != 0) {
			return kmsim_db_damaged(file, cause, dir, l->log_names[i],
			    "does not match its checksum in %s", KMSIM_DB_NAME);
		}
	}
	return KMSIM_DB_OK;
}

/* Unseals every record's key into db->records. */
static enum kmsim_db_result
kmsim_db_decrypt_records(const struct kmsim_layout *l, const unsigned char *data, size_t len,
    const unsigned char *master, struct kmsim_db *db, const char *dir, char **file, char **cause)
{
	unsigned char aad[KMSIM_HEADER_SIZE + 5 + KMSIM_USER_MAX];
	struct kmsim_reader r = { data, len, l->records_off };
	struct kmsim_raw_record rec;
	struct kmsim_record *out;
	size_t aad_len;
	uint32_t i;
	int rc;

	db->records = kmsim_xcalloc(l->nrecords, sizeof *db->records);
	for (i = 0; i < l->nrecords; i++) {
		if (kmsim_reader_record(&r, &rec) != 0)
			return kmsim_db_damaged(file, cause, dir, KMSIM_DB_NAME, "malformed");
		out = &db->records[db->nrecords];
		aad_len = kmsim_record_aad(aad, l->header, i, rec.name, rec.name_len);
		if ((rc = kmsim_unseal(master, aad, aad_len, rec.seal, out->key)) < 0) {
			*cause = kmsim_xstrdup("cannot decrypt (OpenSSL failed)");
			return KMSIM_DB_ERROR;
		}
		if (rc == 0) {
			return kmsim_db_damaged(file, cause, dir, KMSIM_DB_NAME,
			    "the key record of %.*s does not decrypt", (int)rec.name_len, rec.name);
		}
		memcpy(out->user, rec.name, rec.name_len);
		out->user[rec.name_len] = '\0';
		db->nrecords++;
	}
	return KMSIM_DB_OK;
}

static enum kmsim_db_result
kmsim_db_unlock(const struct kmsim_layout *l, const unsigned char *data, size_t len,
    const char *alpha, size_t alpha_len, struct kmsim_db *db, const char *dir, char **file,
    char **cause)
{
	unsigned char kek[KMSIM_KEY_SIZE], master[KMSIM_KEY_SIZE];
	enum kmsim_db_result r = KMSIM_DB_ERROR;
	int rc = -1;

	if (kmsim_derive(alpha, alpha_len, l->salt, l->iterations, kek) == 0)
		rc = kmsim_unseal(kek, l->header, KMSIM_HEADER_SIZE, l->wrap, master);
	if (rc < 0)
		*cause = kmsim_xstrdup("cannot derive or unseal the master key (OpenSSL failed)");
	else if (rc == 0)
		r = KMSIM_DB_WRONG_PASSWORD;
	else
		r = kmsim_db_decrypt_records(l, data, len, master, db, dir, file, cause);
	db->iterations = l->iterations;
	OPENSSL_cleanse(kek, sizeof kek);
	OPENSSL_cleanse(master, sizeof master);
	return r;
}

enum kmsim_db_result
kmsim_db_open(const char *dir, const char *alpha, size_t alpha_len, struct kmsim_db **dbp,
    char **file, char **cause)
{
	struct kmsim_layout l;
	struct kmsim_db *db = NULL;
	unsigned char *data = NULL;
	enum kmsim_db_result r;
	const char *why = NULL;
	size_t len = 0;
	char *path = kmsim_xasprintf("%s/%s", dir, KMSIM_DB_NAME);
	int fd, parsed = 0;

	*dbp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		why = strerror(errno);
	else if (kmsim_read_fd(fd, KMSIM_DB_SIZE_MAX, &data, &len, &why) == 0 &&
	    kmsim_db_parse(data, len, &l, &why) == 0)
		parsed = 1;
	/* l is filled only by a successful parse: nothing reads it otherwise. */
	if (!parsed) {
		r = kmsim_db_damaged(file, cause, dir, KMSIM_DB_NAME, "%s",
		    why != NULL ? why : "cannot be read");
		goto out;
	}
	if ((r = kmsim_db_check_logs(dir, &l, file, cause)) != KMSIM_DB_OK)
		goto out;
	db = kmsim_xcalloc(1, sizeof *db);
	db->fd = -1;
	r = kmsim_db_unlock(&l, data, len, alpha, alpha_len, db, dir, file, cause);
	if (r == KMSIM_DB_OK) {
		db->fd = fd;
		fd = -1;
		*dbp = db;
		db = NULL;
	}
out:
	kmsim_db_free(db);
	if (fd >= 0)
		close(fd);
	if (data != NULL)
		OPENSSL_cleanse(data, len);
	free(data);
	free(path);
	return r;
}

void
kmsim_db_free(struct kmsim_db *db)
{
	if (db == NULL)
		return;
	if (db->records != NULL)
		OPENSSL_cleanse(db->records, db->nrecords * sizeof *db->records);
	free(db->records);
	if (db->fd >= 0)
		close(db->fd);
	free(db);
}

const struct kmsim_record *
kmsim_db_find(const struct kmsim_db *db, const char *user)
{
	size_t i;

	for (i = 0; i < db->nrecords; i++) {
		if (strcmp(db->records[i].user, user) == 0)
			return &db->records[i];
	}
	return NULL;
}

int
kmsim_record_fingerprint(const struct kmsim_record *r, char out[KMSIM_FINGERPRINT_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char sum[KMSIM_SUM_SIZE];
	size_t i;

	if (kmsim_sha256(r->key, sizeof r->key, sum) != 0)
		return -1;
	for (i = 0; i < sizeof sum; i++) {
		out[2 * i] = hex[sum[i] >> 4];
		out[2 * i + 1] = hex[sum[i] & 0xf];
	}
	out[2 * sizeof sum] = '\0';
	return 0;
}

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
