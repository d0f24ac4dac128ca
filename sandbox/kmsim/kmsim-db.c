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

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "kmsim-db-private.h"

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
int
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
