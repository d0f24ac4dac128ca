/*
 * kmsim's key database: the Kmsdata folder of the stand-in KM Server
 * (Kmsmdb.edb and its edb*.log journal files), created under a new alpha
 * string, opened and checked with one. The format is described at the top
 * of kmsim-db.c. Shared by the kmsim command and its unit test; it never
 * prints or exits (except on memory exhaustion) and reports through
 * results and a malloc'd *cause.
 */
#ifndef KMSIM_DB_H
#define KMSIM_DB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KMSIM_DB_NAME "Kmsmdb.edb"
#define KMSIM_DB_LOGS 3          /* edb00001.log .. edb00003.log written by create */
#define KMSIM_KEY_SIZE 32        /* a user's key, and the master key */
#define KMSIM_USER_MAX 64        /* bytes of a user name */
#define KMSIM_RECORDS_MAX 100000 /* records in one database */
#define KMSIM_ITERATIONS_DEFAULT 100000
#define KMSIM_ITERATIONS_MIN 1000
#define KMSIM_ITERATIONS_MAX 10000000 /* bounds what a hostile file can make us compute */
#define KMSIM_ALPHA_LEN 14            /* the alpha strings kmsim makes: A-Z only */
#define KMSIM_PASSWORD_MAX 256        /* longest password accepted from stdin or a disk */
#define KMSIM_FINGERPRINT_SIZE 65     /* hex SHA-256 and its NUL */

enum kmsim_db_result {
	KMSIM_DB_OK,
	KMSIM_DB_WRONG_PASSWORD, /* Event 5057: the data is sound, the password does not open it */
	KMSIM_DB_DAMAGED,        /* Event 5058: a file missing, unreadable or damaged */
	KMSIM_DB_ERROR           /* the work could not be done (crypto library failure) */
};

struct kmsim_record {
	char user[KMSIM_USER_MAX + 1];
	unsigned char key[KMSIM_KEY_SIZE]; /* decrypted; cleansed by kmsim_db_free */
};

struct kmsim_db {
	uint32_t iterations;
	size_t nrecords;
	struct kmsim_record *records; /* in file order (user0001 first) */
	int fd;                       /* Kmsmdb.edb, held open as a real server holds its files */
};

/*
 * Writes a fresh database in dir (which must exist): nrecords records for
 * users user0001.., random keys, a random master key wrapped under alpha,
 * and KMSIM_DB_LOGS log files. Existing files of the same names are
 * replaced, each atomically. Returns 0, or -1 with *cause.
 */
int kmsim_db_create(const char *dir, const char *alpha, size_t alpha_len, size_t nrecords,
    uint32_t iterations, char **cause);

/*
 * Opens dir's database with alpha: first checks every file without the
 * password (so damage is told from a wrong password), then unlocks it.
 * KMSIM_DB_OK: *dbp is set (kmsim_db_free it). KMSIM_DB_DAMAGED: *file
 * names the missing or damaged file and *cause says what is wrong with it.
 * KMSIM_DB_ERROR: *cause. KMSIM_DB_WRONG_PASSWORD: nothing is set.
 */
enum kmsim_db_result kmsim_db_open(const char *dir, const char *alpha, size_t alpha_len,
    struct kmsim_db **dbp, char **file, char **cause);

/* Closes the file, cleanses the keys and frees db (NULL is fine). */
void kmsim_db_free(struct kmsim_db *db);

/* The record of user, or NULL. */
const struct kmsim_record *kmsim_db_find(const struct kmsim_db *db, const char *user);

/* Lower-case hex SHA-256 of the record's key into out. Returns 0, or -1. */
int kmsim_record_fingerprint(const struct kmsim_record *r, char out[KMSIM_FINGERPRINT_SIZE]);

/* A new alpha string: KMSIM_ALPHA_LEN random letters A-Z and a NUL. Returns 0, or -1. */
int kmsim_alpha_generate(char out[KMSIM_ALPHA_LEN + 1]);

/*
 * Finds the password in a startup disk's text (INI: the pwd= key of the
 * [config] section; names are case-insensitive; a UTF-8 BOM, CR LF line
 * ends, blank lines, ;/# comments and blanks around names and values are
 * tolerated). Copies it with a NUL into out. Returns its length, or -1
 * with *cause.
 */
ssize_t kmsim_startup_disk_parse(const char *text, size_t len, char *out, size_t outsize,
    char **cause);

/* Reads the startup disk at path (at most 64 KiB) and parses it as above. */
ssize_t kmsim_startup_disk_read(const char *path, char *out, size_t outsize, char **cause);

/* Writes data to path through a temporary file, fsync and rename. 0, or -1 with *cause. */
int kmsim_write_file(const char *path, const void *data, size_t len, mode_t mode, char **cause);

/* Creates path and its missing parents (the last one with mode). 0, or -1 with *cause. */
int kmsim_mkdirs(const char *path, mode_t mode, char **cause);

/* Allocation that never fails (it aborts); for kmsim and its tests too. */
void *kmsim_xcalloc(size_t n, size_t size);
char *kmsim_xstrdup(const char *s);
char *kmsim_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes all of data to fd, retrying short writes and EINTR. 0, or -1 with errno. */
int kmsim_write_all(int fd, const void *data, size_t len);

#endif
