/*
 * Unit tests of kmsim's key database (sandbox/kmsim/kmsim-db.c): the right alpha
 * string unlocks it with stable fingerprints, a wrong one is refused as a
 * wrong password, and damage of every kind (each truncation, a flipped byte
 * at every offset, hostile lengths with a recomputed trailer, missing or
 * altered log files) is reported as damage naming the file, never unlocked.
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kmsim-db.h"
#include "tap.h"

#define ALPHA "QWERTYUIOPASDF"
#define ITERATIONS 1000

static char test_dir[4096];

static char *
path_of(const char *name)
{
	return kmsim_xasprintf("%s/%s", test_dir, name);
}

static unsigned char *
slurp(const char *path, size_t *lenp)
{
	unsigned char *data;
	struct stat sb;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &sb) != 0) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	data = kmsim_xcalloc(1, sb.st_size + 1);
	*lenp = fread(data, 1, sb.st_size, f);
	fclose(f);
	return data;
}

static int
spew(const char *path, const void *data, size_t len)
{
	FILE *f;
	int ret;

	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ret = fwrite(data, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		ret = -1;
	return ret;
}

/* Opens dir with alpha and gives the result; *file (may be NULL) gets the file named. */
static enum kmsim_db_result
try_open(const char *dir, const char *alpha, char **file)
{
	struct kmsim_db *db = NULL;
	char *f = NULL, *cause = NULL;
	enum kmsim_db_result r;

	r = kmsim_db_open(dir, alpha, strlen(alpha), &db, &f, &cause);
	if (r == KMSIM_DB_OK && db == NULL)
		r = KMSIM_DB_ERROR;
	if (r != KMSIM_DB_OK && db != NULL)
		r = KMSIM_DB_ERROR;
	kmsim_db_free(db);
	if (file != NULL)
		*file = f;
	else
		free(f);
	free(cause);
	return r;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = s == NULL ? 0 : strlen(s), b = strlen(suffix);

	return s != NULL && a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Recomputes the trailer of a database image, as a deliberate forger would. */
static void
rehash(unsigned char *data, size_t len)
{
	EVP_Digest(data, len - 32, data + len - 32, NULL, EVP_sha256(), NULL);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Every fingerprint of dir's records, concatenated; NULL when it does not open. */
static char *
fingerprints(const char *dir, const char *alpha, size_t *count)
{
	struct kmsim_db *db = NULL;
	char *f = NULL, *cause = NULL, *all = NULL, fp[KMSIM_FINGERPRINT_SIZE];
	size_t i;

	if (kmsim_db_open(dir, alpha, strlen(alpha), &db, &f, &cause) == KMSIM_DB_OK) {
		all = kmsim_xcalloc(db->nrecords + 1, KMSIM_FINGERPRINT_SIZE);
		for (i = 0; i < db->nrecords; i++) {
			if (kmsim_record_fingerprint(&db->records[i], fp) == 0)
				memcpy(all + i * 64, fp, KMSIM_FINGERPRINT_SIZE);
		}
		*count = db->nrecords;
	}
	kmsim_db_free(db);
	free(f);
	free(cause);
	return all;
}

static void
test_unlock(void)
{
	struct kmsim_db *db = NULL;
	char *file = NULL, *cause = NULL, fp[3][KMSIM_FINGERPRINT_SIZE], *again;
	size_t i, n = 0;
	int hex_ok = 1;

	ok(kmsim_db_create(test_dir, ALPHA, strlen(ALPHA), 3, ITERATIONS, &cause) == 0,
	    "create a database of 3 records");
	ok(kmsim_db_open(test_dir, ALPHA, strlen(ALPHA), &db, &file, &cause) == KMSIM_DB_OK &&
		db != NULL,
	    "the right alpha string unlocks it");
	if (db == NULL)
		return;
	ok(db->nrecords == 3 && strcmp(db->records[0].user, "user0001") == 0 &&
		strcmp(db->records[2].user, "user0003") == 0,
	    "3 records, user0001 to user0003");
	ok(db->iterations == ITERATIONS, "the iteration count is stored");
	ok(db->fd >= 0, "the open database keeps Kmsmdb.edb open");
	for (i = 0; i < 3; i++) {
		kmsim_record_fingerprint(&db->records[i], fp[i]);
		hex_ok &= strlen(fp[i]) == 64 && strspn(fp[i], "0123456789abcdef") == 64;
	}
	ok(hex_ok, "fingerprints are 64 lower-case hex digits");
	ok(strcmp(fp[0], fp[1]) != 0 && strcmp(fp[1], fp[2]) != 0, "each user has its own key");
	ok(kmsim_db_find(db, "user0002") == &db->records[1], "find user0002");
	ok(kmsim_db_find(db, "user0004") == NULL && kmsim_db_find(db, "") == NULL,
	    "an unknown user is not found");
	again = fingerprints(test_dir, ALPHA, &n);
	ok(again != NULL && n == 3 && strncmp(again, fp[0], 64) == 0 &&
		strncmp(again + 128, fp[2], 64) == 0,
	    "opened again, the fingerprints are the same");
	free(again);
	kmsim_db_free(db);
}

static void
test_wrong_password(void)
{
	char *file = NULL;

	ok(try_open(test_dir, "QWERTYUIOPASDG", &file) == KMSIM_DB_WRONG_PASSWORD && file == NULL,
	    "a wrong alpha string is a wrong password, not damage");
	ok(try_open(test_dir, "qwertyuiopasdf", NULL) == KMSIM_DB_WRONG_PASSWORD,
	    "the alpha string is case-sensitive");
	ok(try_open(test_dir, "", NULL) == KMSIM_DB_WRONG_PASSWORD,
	    "an empty password is a wrong password");
	ok(try_open(test_dir, ALPHA "\r", NULL) == KMSIM_DB_WRONG_PASSWORD,
	    "a stray CR makes a wrong password");
}

/* Writes image as the database, opens it with the right alpha string, puts orig back. */
static enum kmsim_db_result
try_image(const char *db_path, const unsigned char *image, size_t len, char **file)
{
	if (spew(db_path, image, len) != 0)
		return KMSIM_DB_ERROR;
	return try_open(test_dir, ALPHA, file);
}

static void
test_truncation(const char *db_path, const unsigned char *orig, size_t len)
{
	size_t cut, bad = 0, first = 0;
	unsigned char *longer;
	char *file = NULL;

	for (cut = 0; cut < len; cut++) {
		if (try_image(db_path, orig, cut, &file) != KMSIM_DB_DAMAGED ||
		    !ends_with(file, "/" KMSIM_DB_NAME)) {
			if (bad++ == 0)
				first = cut;
		}
		free(file);
		file = NULL;
	}
	ok(bad == 0, "each of the %zu truncations (0 to %zu bytes) is damage to %s", len, len - 1,
	    KMSIM_DB_NAME);
	if (bad != 0)
		diag("%zu not reported as damage, the first at length %zu", bad, first);
	longer = kmsim_xcalloc(1, len + 1);
	memcpy(longer, orig, len);
	ok(try_image(db_path, longer, len + 1, NULL) == KMSIM_DB_DAMAGED,
	    "a byte appended is damage");
	free(longer);
}

static void
test_flips(const char *db_path, const unsigned char *orig, size_t len)
{
	static const unsigned char masks[] = { 0x01, 0x80, 0xff };
	unsigned char *copy = kmsim_xcalloc(1, len);
	size_t m, off, bad, first = 0;
	char *file = NULL;

	for (m = 0; m < sizeof masks; m++) {
		bad = 0;
		for (off = 0; off < len; off++) {
			memcpy(copy, orig, len);
			copy[off] ^= masks[m];
			if (try_image(db_path, copy, len, &file) != KMSIM_DB_DAMAGED ||
			    !ends_with(file, "/" KMSIM_DB_NAME)) {
				if (bad++ == 0)
					first = off;
			}
			free(file);
			file = NULL;
		}
		ok(bad == 0, "a byte xor 0x%02x at each of the %zu offsets is damage, never opens",
		    masks[m], len);
		if (bad != 0)
			diag("%zu offsets not reported as damage, the first %zu", bad, first);
	}
	free(copy);
}

/* Alters the image at off (4-byte big-endian value, or one byte xor), recomputes the trailer. */
static enum kmsim_db_result
try_forged(const char *db_path, const unsigned char *orig, size_t len, size_t off, int width,
    unsigned long value)
{
	unsigned char *copy = kmsim_xcalloc(1, len);
	enum kmsim_db_result r;

	memcpy(copy, orig, len);
	if (width == 4) {
		copy[off] = value >> 24;
		copy[off + 1] = value >> 16;
		copy[off + 2] = value >> 8;
		copy[off + 3] = value;
	} else
		copy[off] ^= value;
	rehash(copy, len);
	r = try_image(db_path, copy, len, NULL);
	free(copy);
	return r;
}

static void
test_forged(const char *db_path, const unsigned char *orig, size_t len)
{
	const unsigned char *log = memmem(orig, len, "edb00001.log", 12);

	/* Offsets from the format comment in kmsim-db.c: 3 records of 8-letter names. */
	ok(try_forged(db_path, orig, len, 8, 4, 2) == KMSIM_DB_DAMAGED,
	    "forged: an unknown version is damage");
	ok(try_forged(db_path, orig, len, 16, 4, 0xffffffffUL) == KMSIM_DB_DAMAGED,
	    "forged: 4 billion iterations are refused as damage, not computed");
	ok(try_forged(db_path, orig, len, 96, 4, 0xffffffffUL) == KMSIM_DB_DAMAGED,
	    "forged: a huge record count is damage (no huge allocation)");
	ok(try_forged(db_path, orig, len, 96, 4, 4) == KMSIM_DB_DAMAGED,
	    "forged: a record count past the data is damage");
	ok(try_forged(db_path, orig, len, 100, 1, 0xff) == KMSIM_DB_DAMAGED,
	    "forged: a user name length past the data is damage");
	ok(try_forged(db_path, orig, len, 100 + 1 + 8 + 12, 1, 0x01) == KMSIM_DB_DAMAGED,
	    "forged: a user's encrypted key altered is damage, not a wrong password");
	ok(try_forged(db_path, orig, len, 101, 1, 0x02) == KMSIM_DB_DAMAGED,
	    "forged: a user name altered is damage (the name is authenticated)");
	ok(try_forged(db_path, orig, len, 80, 1, 0x01) == KMSIM_DB_WRONG_PASSWORD,
	    "forged: the master key's tag altered reads as a wrong password (documented)");
	ok(log != NULL &&
		try_forged(db_path, orig, len, log - orig, 1, 'e' ^ '/') == KMSIM_DB_DAMAGED,
	    "forged: a log file name with a slash is damage");
	ok(log != NULL &&
		try_forged(db_path, orig, len, log - orig - 1, 1, 0x7f) == KMSIM_DB_DAMAGED,
	    "forged: a log file name length past the data is damage");
}

static void
test_damage(void)
{
	char *db_path = path_of(KMSIM_DB_NAME);
	unsigned char *orig;
	size_t len = 0;

	if ((orig = slurp(db_path, &len)) == NULL) {
		ok(0, "read %s", db_path);
		free(db_path);
		return;
	}
	diag("a database of 3 records is %zu bytes", len);
	test_truncation(db_path, orig, len);
	test_flips(db_path, orig, len);
	test_forged(db_path, orig, len);
	ok(spew(db_path, orig, len) == 0 && try_open(test_dir, ALPHA, NULL) == KMSIM_DB_OK,
	    "the original file put back unlocks again");
	free(orig);
	free(db_path);
}

static void
test_logs(void)
{
	char *log2 = path_of("edb00002.log"), *log3 = path_of("edb00003.log");
	char *moved = path_of("moved.log"), *file = NULL;
	unsigned char *data;
	size_t len = 0;

	ok(rename(log2, moved) == 0 && try_open(test_dir, ALPHA, &file) == KMSIM_DB_DAMAGED &&
		ends_with(file, "/edb00002.log"),
	    "a missing log file is damage naming it");
	free(file);
	file = NULL;
	ok(symlink("moved.log", log2) == 0 && try_open(test_dir, ALPHA, NULL) == KMSIM_DB_DAMAGED,
	    "a log file replaced by a symlink is damage");
	unlink(log2);
	ok(rename(moved, log2) == 0 && try_open(test_dir, ALPHA, NULL) == KMSIM_DB_OK,
	    "put back, it unlocks");
	data = slurp(log3, &len);
	if (data != NULL && len > 100) {
		data[100] ^= 0x20;
		spew(log3, data, len);
		ok(try_open(test_dir, ALPHA, &file) == KMSIM_DB_DAMAGED &&
			ends_with(file, "/edb00003.log"),
		    "an altered log file is damage naming it");
		free(file);
		file = NULL;
		ok(try_open(test_dir, "WRONGWRONGWRON", NULL) == KMSIM_DB_DAMAGED,
		    "damage is reported before the password is even tried");
		data[100] ^= 0x20;
		spew(log3, data, len - 1);
		ok(try_open(test_dir, ALPHA, NULL) == KMSIM_DB_DAMAGED,
		    "a truncated log is damage");
		spew(log3, data, len);
	} else
		ok(0, "read %s", log3);
	ok(try_open(test_dir, ALPHA, NULL) == KMSIM_DB_OK, "all put back, it unlocks");
	free(data);
	free(log2);
	free(log3);
	free(moved);
}

static void
test_missing(void)
{
	char *dir = path_of("nowhere"), *db_path = path_of(KMSIM_DB_NAME), *file = NULL;
	char *hidden = path_of("hidden.edb");

	ok(try_open(dir, ALPHA, &file) == KMSIM_DB_DAMAGED &&
		ends_with(file, "/nowhere/" KMSIM_DB_NAME),
	    "a missing Kmsdata folder is damage naming the database");
	free(file);
	file = NULL;
	ok(rename(db_path, hidden) == 0 && try_open(test_dir, ALPHA, &file) == KMSIM_DB_DAMAGED &&
		ends_with(file, "/" KMSIM_DB_NAME),
	    "a missing Kmsmdb.edb is damage naming it");
	free(file);
	file = NULL;
	ok(mkdir(db_path, 0700) == 0 && try_open(test_dir, ALPHA, NULL) == KMSIM_DB_DAMAGED,
	    "a folder in place of Kmsmdb.edb is damage");
	rmdir(db_path);
	ok(rename(hidden, db_path) == 0 && try_open(test_dir, ALPHA, NULL) == KMSIM_DB_OK,
	    "put back, it unlocks");
	free(dir);
	free(db_path);
	free(hidden);
}

static void
test_reinstall(void)
{
	char *before, *after, *cause = NULL, *sub = path_of("big"), *f = NULL;
	struct kmsim_db *db = NULL;
	size_t n = 0, m = 0;

	before = fingerprints(test_dir, ALPHA, &n);
	ok(kmsim_db_create(test_dir, "ZZZZZZZZZZZZZZ", 14, 3, ITERATIONS, &cause) == 0,
	    "a reinstall writes a new database over the old one");
	ok(try_open(test_dir, ALPHA, NULL) == KMSIM_DB_WRONG_PASSWORD,
	    "the old alpha string no longer unlocks it");
	after = fingerprints(test_dir, "ZZZZZZZZZZZZZZ", &m);
	ok(before != NULL && after != NULL && n == m && strcmp(before, after) != 0,
	    "the new alpha string does, with new keys");
	free(before);
	free(after);
	ok(kmsim_db_create(test_dir, ALPHA, 14, 3, 999, &cause) == -1 && cause != NULL,
	    "too few iterations are refused");
	free(cause);
	cause = NULL;
	ok(kmsim_mkdirs(sub, 0700, &cause) == 0 &&
		kmsim_db_create(sub, ALPHA, 14, 10000, ITERATIONS, &cause) == 0 &&
		kmsim_db_open(sub, ALPHA, 14, &db, &f, &cause) == KMSIM_DB_OK &&
		db->nrecords == 10000 && strcmp(db->records[9999].user, "user10000") == 0,
	    "10000 records, the last one user10000");
	kmsim_db_free(db);
	free(f);
	free(sub);
}

static void
test_alpha(void)
{
	char a[KMSIM_ALPHA_LEN + 1], b[KMSIM_ALPHA_LEN + 1];
	int seen[26] = { 0 }, i, j, all = 1, good = 1;

	for (i = 0; i < 200; i++) {
		if (kmsim_alpha_generate(a) != 0 || strlen(a) != KMSIM_ALPHA_LEN)
			good = 0;
		for (j = 0; j < KMSIM_ALPHA_LEN; j++) {
			if (a[j] < 'A' || a[j] > 'Z')
				good = 0;
			else
				seen[a[j] - 'A'] = 1;
		}
	}
	for (i = 0; i < 26; i++)
		all &= seen[i];
	ok(good, "alpha strings are 14 upper-case letters A-Z");
	ok(all, "every letter turns up in 200 of them");
	ok(kmsim_alpha_generate(a) == 0 && kmsim_alpha_generate(b) == 0 && strcmp(a, b) != 0,
	    "two alpha strings differ");
}

/* Parses text as a startup disk; the password, or NULL. */
static const char *
disk(const char *text, size_t outsize)
{
	static char out[64];
	char *cause = NULL;
	ssize_t n;

	n = kmsim_startup_disk_parse(text, strlen(text), out, outsize, &cause);
	free(cause);
	return n < 0 || (size_t)n != strlen(out) ? NULL : out;
}

static int
same(const char *got, const char *want)
{
	return got != NULL && strcmp(got, want) == 0;
}

static void
test_startup_disk(void)
{
	static const char text[] = "[config]\r\npwd=" ALPHA "\r\n";
	char *path = path_of("KMSPWD.INI"), *cause = NULL, out[64];

	ok(same(disk("[config]\r\npwd=ABCDEFGHIJKLMN\r\n", 64), "ABCDEFGHIJKLMN"),
	    "startup disk: the file kmsim init writes");
	ok(same(disk("\xef\xbb\xbf\r\n; comment\r\n\r\n[Config]\r\n"
		     "name = x\r\n  PWD = ABC  \r\n",
		    64),
	       "ABC"),
	    "startup disk: BOM, blank lines, comments, case and blanks");
	ok(same(disk("[config]\npwd=XYZ", 64), "XYZ"), "startup disk: LF and no final newline");
	ok(same(disk("[other]\npwd=NO\n[config]\npwd=YES\n", 64), "YES"),
	    "startup disk: only the [config] section counts");
	ok(disk("[other]\npwd=NO\n", 64) == NULL, "startup disk: no [config] section, no password");
	ok(disk("pwd=NO\n", 64) == NULL, "startup disk: pwd outside a section is ignored");
	ok(disk("[config]\npwd=ABCDEFGH\n", 8) == NULL,
	    "startup disk: a password too long is refused");
	ok(same(disk("[config]\npwd=\n", 64), ""),
	    "startup disk: an empty pwd is an empty password");
	cause = NULL;
	ok(kmsim_write_file(path, text, sizeof text - 1, 0600, &cause) == 0 &&
		kmsim_startup_disk_read(path, out, sizeof out, &cause) == 14 &&
		strcmp(out, ALPHA) == 0,
	    "startup disk: read from a file");
	ok(unlink(path) == 0 && kmsim_startup_disk_read(path, out, sizeof out, &cause) == -1 &&
		cause != NULL && strstr(cause, "KMSPWD.INI") != NULL,
	    "startup disk: a missing file is an error naming it");
	free(cause);
	free(path);
}

static void
test_files(void)
{
	char *path = path_of("a/b/c"), *file = path_of("a/b/c/f"), *cause = NULL;
	struct stat sb;

	ok(kmsim_mkdirs(path, 0700, &cause) == 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode),
	    "mkdirs makes nested folders");
	ok(kmsim_mkdirs(path, 0700, &cause) == 0, "mkdirs of an existing folder is fine");
	ok(kmsim_write_file(file, "x", 1, 0600, &cause) == 0 && stat(file, &sb) == 0 &&
		(sb.st_mode & 07777) == 0600 && sb.st_size == 1,
	    "write_file writes with the mode");
	ok(kmsim_mkdirs(file, 0700, &cause) == -1 && cause != NULL,
	    "mkdirs over a file is an error");
	free(cause);
	free(path);
	free(file);
	file = NULL;
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	n = snprintf(test_dir, sizeof test_dir, "%s/test-kmsim-db.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (n < 0 || (size_t)n >= sizeof test_dir || mkdtemp(test_dir) == NULL)
		skip_all("cannot make a temporary folder");
	test_unlock();
	test_wrong_password();
	test_damage();
	test_logs();
	test_missing();
	test_reinstall();
	test_alpha();
	test_startup_disk();
	test_files();
	nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
