/*
 * What the files of the backup reader share (not for other layers: they
 * see backup.h). One read of a backup is a struct backup_run: the source
 * (an archive through libarchive, or a folder), the input as stored
 * (hashed, decrypted), the records of every path seen and listed, and the
 * disk writer that fills the staging folder.
 *
 * The files, each using only those above it in this list: run.c (errors,
 * progress, the staging folder entered), records.c (the paths, names for
 * display), hmac.c (FILE.hmac), input.c (the archive file's ring, hashing,
 * decryption, the HMAC's check), source-archive.c and source-folder.c (the
 * two sources), checks.c (safety rule 5), manifest.c (the streaming check
 * against MANIFEST.sha256), extract.c (writing the staging folder),
 * pass.c (the read, entry by entry), backup.c (the entry points of
 * backup.h).
 */
#ifndef KMSRECOVER_BACKUP_RUN_H
#define KMSRECOVER_BACKUP_RUN_H

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "backup.h"
#include "digest.h"
#include "manifest.h"
#include "hasher.h"
#include "progress.h"
#include "writeback.h"

_Static_assert(HASHER_MAC_LEN == BACKUP_HMAC_LEN, "FILE.hmac holds the hasher's HMAC");

/* One read(2) of the backup; also what libarchive hands on, and so one write(2). */
#define BACKUP_BLOCK (128 * 1024)
/* Blocks read and not yet released: libarchive holds one, the hasher the others. */
#define BACKUP_RING 8
#define BACKUP_PROGRESS_STEP (1024 * 1024)
/*
 * Entries are reported one by one up to this many, then at most every
 * BACKUP_PROGRESS_TICK ns (a screen draws ten times a second; a report per
 * entry of 100,000 costs more than the drawing).
 */
#define BACKUP_PROGRESS_ENTRIES 100
#define BACKUP_PROGRESS_TICK (20 * 1000 * 1000)
/* Files up to this size are hashed on the reading thread (backup_hash_zeros). */
#define BACKUP_HASH_HERE_MAX (64 * 1024)
/* A large file's data is sent to the disk every so often as it is written. */
#define BACKUP_FLUSH_STEP (8 * 1024 * 1024)
/* Deeper trees are refused: Kmsdata is flat, and every walk holds one fd a level. */
#define BACKUP_MAX_DEPTH 64
#define BACKUP_MANIFEST_MAX (16 * 1024 * 1024)
/* Paths kept per chunk of records, and in all (far beyond any Kmsdata). */
#define BACKUP_REC_CHUNK 4096
#define BACKUP_ENTRIES_MAX 10000000
#define BACKUP_SHOWN_MAX 200
#define BACKUP_INFO_NAME "BACKUP.INFO"
#define BACKUP_SALT_MAGIC "Salted__"
#define BACKUP_SALT_LEN 8
#define BACKUP_HEAD_LEN 16
#define BACKUP_7Z_MAGIC "7z\xbc\xaf\x27\x1c"
#define BACKUP_7Z_MAGIC_LEN 6
#define BACKUP_ITERATIONS 10000
#define BACKUP_KEY_LEN 32
#define BACKUP_IV_LEN 16
#define BACKUP_HMAC_LABEL "kmsrecover-hmac-v1"
#define BACKUP_HMAC_HEAD "kmsrecover-hmac-sha256 1 "
#define BACKUP_HMAC_ITERATIONS_MAX 100000000
#define BACKUP_HMAC_TEXT_MAX 255

#define BACKUP_DISK_FLAGS                                                                          \
	(ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS |           \
	    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS)

/* What a path seen in the backup, or listed in its manifest, is. */
enum backup_rec_type {
	BACKUP_REC_LISTED, /* so far only listed in MANIFEST.sha256 */
	BACKUP_REC_PARENT, /* a folder made implicitly for an entry below it */
	BACKUP_REC_DIR,
	BACKUP_REC_FILE,
	BACKUP_REC_META /* MANIFEST.sha256 or BACKUP.INFO: read, not written */
};

/* A record's state (bits). */
#define BACKUP_REC_HASHED 0x01  /* digest is its data's */
#define BACKUP_REC_CHANGED 0x02 /* a later link brought other data than the first */
#define BACKUP_REC_OPEN 0x04    /* an empty file: a later link (cpio's last) may bring the data */
#define BACKUP_REC_EARLY 0x08   /* its manifest line was checked as it was read */
#define BACKUP_REC_BAD 0x10     /* its manifest line does not match its data */

/*
 * A path: what the backup holds there and what its manifest lists. The
 * manifest may come last, so every path is kept to the end: 48 bytes and
 * the path itself, which is what a backup's number of entries costs in
 * memory (its data is never held). One digest is enough: a manifest line
 * read after its file's data was hashed is checked at once (the usual
 * case, MANIFEST.sha256 last); one read before waits in recs.wants.
 */
struct backup_rec {
	uint32_t name;       /* the normalised path: an offset into recs.names */
	uint32_t canon;      /* the record holding the data: itself, or a hard link's target */
	uint32_t line;       /* the line of MANIFEST.sha256 listing it; 0 when not listed */
	unsigned char type;  /* enum backup_rec_type */
	unsigned char state; /* BACKUP_REC_* */
	unsigned char digest[DIGEST_LEN]; /* of its data, once hashed */
};

/* A manifest line waiting for its file's data. */
struct backup_want {
	uint32_t rec;
	unsigned char digest[DIGEST_LEN];
};

/*
 * Every path, in the order first met, in chunks (the vector grows without
 * copying), with the paths end to end in one buffer and a hash index.
 */
struct backup_recs {
	struct backup_rec **chunk;
	size_t count;
	char *names;
	size_t names_len;
	size_t names_alloc;
	uint32_t *slots; /* index + 1; 0 is empty */
	size_t nslots;
	struct backup_want *wants;
	size_t nwants;
	size_t wants_alloc;
};

/* An archive file as read: hashed as stored, decrypted when enc'd. */
struct backup_input {
	int fd;
	uint64_t size;
	uint64_t raw_read;
	struct hasher *hasher; /* the file as stored, from the ring's blocks */
	unsigned char sum[DIGEST_LEN];
	EVP_CIPHER_CTX *cipher; /* NULL unless openssl enc */
	int hmac;               /* FILE.hmac was found: its HMAC is in hmac_want */
	unsigned char hmac_want[BACKUP_HMAC_LEN];
	int finished; /* the hasher has ended the stream: sum is set */
	int eof;
	int bad_padding;
	int read_errno;
	unsigned char *ring;           /* BACKUP_RING blocks of BACKUP_BLOCK, read in turn */
	uint64_t ticket[BACKUP_RING];  /* the hasher's ticket for each block */
	size_t ring_used[BACKUP_RING]; /* the most each block held: wiped at the end */
	unsigned int next;
	unsigned char *plain;     /* decrypted data (openssl enc only) */
	const unsigned char *out; /* out[out_off..out_len) not yet handed on */
	size_t out_off;
	size_t out_len;
	int spool_fd; /* -1 unless 7-Zip */
	int spool_errno;
	uint64_t spool_len;
	uint64_t pos;
	unsigned char spool_buf[BACKUP_BLOCK];
};

struct backup_walk_level {
	DIR *dir;
	char *prefix; /* "" or "a/b/" */
};

/* A folder source, walked depth first through directory fds. */
struct backup_walk {
	struct backup_walk_level level[BACKUP_MAX_DEPTH + 1];
	int depth;      /* the innermost open level; -1 when done */
	int pending_fd; /* the folder just returned, entered at the next call */
	char *pending_prefix;
	int data_fd; /* the file just returned */
	int64_t data_off;
	uint64_t data_read;
	struct archive_entry *entry;
	unsigned char buf[BACKUP_BLOCK];
};

struct backup_run;

/* The source of entries: 1 entry or block, 0 at the end, -1 with a cause. */
struct backup_source_ops {
	int (*next)(struct backup_run *, struct archive_entry **);
	int (*data)(struct backup_run *, const void **, size_t *, int64_t *);
};

struct backup_run {
	const struct backup_options *opt;
	const struct progress *progress;
	char *shown_source; /* escaped */

	const struct backup_source_ops *ops;
	struct backup_input *in;
	struct archive *reader;
	struct backup_walk *walk;

	struct archive *disk;        /* NULL when validating */
	struct writeback *writeback; /* early syncfs of the staged files; may be NULL */
	int parent_fd;
	int staging_fd;
	int cwd_fd;
	int inside; /* the cwd is the staging folder */
	struct stat staging_st;

	struct backup_recs recs;
	struct hasher *hasher;      /* each file's data */
	struct digest *file_digest; /* MANIFEST.sha256 and BACKUP.INFO */
	size_t manifest_len;        /* bytes of MANIFEST.sha256 read */
	size_t manifest_lines;
	uint64_t manifest_entries;
	char *manifest_cause; /* what is wrong with it (translated), for the end */
	char *mline;          /* a line of it not complete yet */
	size_t mline_len;
	size_t mline_alloc;
	int manifest_found;

	char *current; /* the entry's name as stored */
	char *shown;   /* the same, escaped */
	uint64_t entries;
	uint64_t files;
	uint64_t bytes;
	uint64_t declared;
	uint64_t last_progress;
	int64_t last_report; /* CLOCK_MONOTONIC, ns */
	int flush_fd;        /* the file being written, opened to start its writeback; -1 */
	int64_t flushed;     /* its bytes sent to the disk so far */
	char *cause;
};

/* run.c */
int __attribute__((format(printf, 2, 3)))
backup_error(struct backup_run *run, const char *fmt, ...);
void backup_result_warn(struct backup_result *result, const char *warning);
uint64_t backup_bytes_read(const struct backup_run *run);
int backup_enter(struct backup_run *run);
int backup_leave(struct backup_run *run);
int backup_report(struct backup_run *run);
int backup_report_due(const struct backup_run *run);

/* records.c */
char *backup_shown(const char *name);
struct backup_rec *backup_rec(const struct backup_recs *r, size_t i);
const char *backup_rec_path(const struct backup_recs *r, size_t i);
size_t backup_recs_find(const struct backup_recs *r, const char *path);
size_t backup_recs_add(struct backup_recs *r, const char *path, enum backup_rec_type type);
void backup_recs_free(struct backup_recs *r);

/* hmac.c */
int backup_hmac_open(struct backup_run *run, const unsigned char *salt);

/* input.c */
void backup_input_digested(void *arg, size_t tag, const unsigned char *digest);
int backup_input_fill(struct backup_input *in);
int backup_input_drain(struct backup_input *in);
int backup_input_key(struct backup_input *in, const unsigned char *salt, const struct secret *pass,
    int iterations);
void backup_input_finish(struct backup_input *in);
int backup_hmac_verify(struct backup_run *run);

/* source-archive.c */
int backup_read_failed(struct backup_run *run);
int backup_input_open(struct backup_run *run, int fd, uint64_t size);

/* source-folder.c */
int backup_walk_open(int dir_fd, const char *name, const struct stat *st);
void backup_walk_start(struct backup_run *run, int fd);
void backup_walk_free(struct backup_walk *w);

/* checks.c */
int backup_check_path(struct backup_run *run, const char *name, char **path);
mode_t backup_entry_type(struct archive_entry *e);
int backup_check_type(struct backup_run *run, struct archive_entry *e);
int backup_check_hardlink(struct backup_run *run, struct archive_entry *e, size_t *canon);
int backup_too_many(struct backup_run *run);
int backup_check_parents(struct backup_run *run, const char *path);
size_t backup_check_new(struct backup_run *run, const char *path, enum backup_rec_type type);
int backup_check_space(struct backup_run *run, uint64_t total);

/* manifest.c */
void manifest_feed_line(struct backup_run *run, const char *s, size_t len);
void manifest_feed(struct backup_run *run, const char *buf, size_t len);
int manifest_conclude(struct backup_run *run, struct backup_result *result);

/* extract.c */
int backup_staging_sync(struct backup_run *run);
void backup_file_digested(void *arg, size_t rec, const unsigned char *digest);
int backup_disk_failed(struct backup_run *run, const char *why);
int backup_copy_data(struct backup_run *run, struct archive_entry *e, size_t canon, int own);

/* pass.c */
int backup_pass(struct backup_run *run);

#endif
