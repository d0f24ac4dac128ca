/*
 * Backup sources (see backup.h): step P of the procedure reads the backup
 * once, end to end, into a staging folder beside Kmsdata, and proves it
 * sound before anything is changed.
 *
 * The one read is a pipeline. A source gives entries and their data: an
 * archive file through libarchive (our read callback hashes the file as
 * stored and, for openssl enc files, decrypts it as a stream), or a folder
 * walked through directory fds without following a symbolic link. Each
 * entry is checked here before libarchive's disk writer (with its secure
 * flags as a second line) puts it in the staging folder, and each file's
 * data is hashed on its way through. At the end the hashes are compared
 * with MANIFEST.sha256, the tree is made durable, and the payload (the tree
 * or its one Kmsdata folder) is named. On any failure the staging folder
 * is removed: nothing outside it is ever written.
 *
 * 7-Zip keeps its index at the end, so libarchive must seek: for that
 * format alone the stream is also copied to an unnamed temporary file as it
 * is read, and libarchive seeks in the copy. The backup is still read once.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "backup.h"
#include "digest.h"
#include "fault.h"
#include "hasher.h"
#include "i18n.h"
#include "mkbackup.h"
#include "secret.h"
#include "writeback.h"
#include "xmalloc.h"

/* digest.c's: one line of MANIFEST.sha256 (declared here until digest.h declares it). */
int manifest_parse_line(const char *s, size_t len, size_t line, char **path,
    unsigned char digest[DIGEST_LEN], char **cause);

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

/* The first error of a run is kept; later ones are consequences. */
static int __attribute__((format(printf, 2, 3)))
backup_error(struct backup_run *run, const char *fmt, ...)
{
	va_list ap;

	if (run->cause == NULL) {
		va_start(ap, fmt);
		run->cause = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Escaping names for display.
 */

/* The length of the valid UTF-8 sequence at s and its code point, or 0. */
static size_t
backup_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Whether a character must not reach a terminal or a log as it is: C0, DEL
 * and C1 controls, and the line separators and bidirectional controls that
 * could make one name look like another.
 */
static int
backup_escape_wanted(uint32_t c)
{
	if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
		return 1;
	if (c == 0x200e || c == 0x200f || c == 0x2028 || c == 0x2029)
		return 1;
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

char *
backup_escape_name(const char *name)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(name != NULL ? name : "");
	size_t len = strlen((const char *)s), i, j, n, o = 0;
	uint32_t c;
	char *out;

	out = xreallocarray(NULL, len + 1, 4);
	for (i = 0; i < len; i += n) {
		if ((n = backup_utf8_decode(s + i, len - i, &c)) == 0) {
			n = 1;
			c = 0;
		}
		if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c == 0 || backup_escape_wanted(c)) {
			for (j = i; j < i + n; j++) {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = hex[s[j] >> 4];
				out[o++] = hex[s[j] & 0xf];
			}
		} else {
			memcpy(out + o, s + i, n);
			o += n;
		}
	}
	out[o] = '\0';
	return out;
}

/*
 * A name for a cause: escaped, and cut short (at a character's boundary)
 * past BACKUP_SHOWN_MAX bytes, so that a hostile 4 KiB path cannot flood
 * the operator's screen.
 */
static char *
backup_shown(const char *name)
{
	char *s = backup_escape_name(name), *cut;
	size_t n = strlen(s);

	if (n <= BACKUP_SHOWN_MAX)
		return s;
	n = BACKUP_SHOWN_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	cut = xasprintf("%.*s...", (int)n, s);
	free(s);
	return cut;
}

/*
 * Probing.
 */

/* Reads up to len bytes, retrying short reads; the count, or -1. */
static ssize_t
backup_read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (fault_fail("read") != 0)
			return -1;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int
backup_probe(const char *source, enum backup_kind *kind, char **cause)
{
	char head[BACKUP_SALT_LEN], *shown;
	struct stat st;
	ssize_t n;
	int fd;

	shown = backup_escape_name(source);
	if (stat(source, &st) != 0) {
		*cause = xasprintf(_("Cannot find the backup %1$s: %2$s."), shown, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		*kind = BACKUP_DIRECTORY;
		free(shown);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		*cause = xasprintf(_("The backup %s is neither a file nor a folder."), shown);
		goto fail;
	}
	if ((fd = open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0 ||
	    (n = backup_read_full(fd, head, sizeof head)) < 0) {
		*cause = xasprintf(_("Cannot read the backup %1$s: %2$s."), shown, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	close(fd);
	*kind = n == BACKUP_SALT_LEN && memcmp(head, BACKUP_SALT_MAGIC, BACKUP_SALT_LEN) == 0 ?
	    BACKUP_ENCRYPTED :
	    BACKUP_ARCHIVE;
	free(shown);
	return 0;

fail:
	free(shown);
	return -1;
}

void
backup_result_free(struct backup_result *result)
{
	if (result == NULL)
		return;
	free(result->payload);
	xfree_argv(result->warnings);
	memset(result, 0, sizeof *result);
}

static void
backup_result_warn(struct backup_result *result, const char *warning)
{
	size_t n = 0;

	while (result->warnings != NULL && result->warnings[n] != NULL)
		n++;
	result->warnings = xreallocarray(result->warnings, n + 2, sizeof *result->warnings);
	result->warnings[n] = xstrdup(warning);
	result->warnings[n + 1] = NULL;
}

/*
 * The paths seen and listed: records in chunks, an open-addressing index.
 */

static struct backup_rec *
backup_rec(const struct backup_recs *r, size_t i)
{
	return &r->chunk[i / BACKUP_REC_CHUNK][i % BACKUP_REC_CHUNK];
}

static const char *
backup_rec_path(const struct backup_recs *r, size_t i)
{
	return r->names + backup_rec(r, i)->name;
}

static size_t
backup_recs_slot(const struct backup_recs *r, const char *path)
{
	uint64_t h = 14695981039346656037ULL;
	const unsigned char *p;
	size_t i;

	for (p = (const unsigned char *)path; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	i = (size_t)h & (r->nslots - 1);
	while (r->slots[i] != 0 && strcmp(backup_rec_path(r, r->slots[i] - 1), path) != 0)
		i = (i + 1) & (r->nslots - 1);
	return i;
}

/* The record's index, or SIZE_MAX. */
static size_t
backup_recs_find(const struct backup_recs *r, const char *path)
{
	size_t s;

	if (r->nslots == 0)
		return SIZE_MAX;
	s = backup_recs_slot(r, path);
	return r->slots[s] == 0 ? SIZE_MAX : r->slots[s] - 1;
}

/* Keeps the index at most half full. */
static void
backup_recs_grow_index(struct backup_recs *r)
{
	size_t i;

	if ((r->count + 1) * 2 <= r->nslots)
		return;
	free(r->slots);
	r->nslots = r->nslots == 0 ? 64 : r->nslots * 2;
	r->slots = xcalloc(r->nslots, sizeof *r->slots);
	for (i = 0; i < r->count; i++)
		r->slots[backup_recs_slot(r, backup_rec_path(r, i))] = (uint32_t)i + 1;
}

/* A new record; its index, or SIZE_MAX when the backup has too many paths. */
static size_t
backup_recs_add(struct backup_recs *r, const char *path, enum backup_rec_type type)
{
	struct backup_rec *rec;
	size_t len = strlen(path) + 1;

	if (r->count >= BACKUP_ENTRIES_MAX || r->names_len + len > UINT32_MAX)
		return SIZE_MAX;
	backup_recs_grow_index(r);
	if (r->count % BACKUP_REC_CHUNK == 0) {
		r->chunk = xreallocarray(r->chunk, r->count / BACKUP_REC_CHUNK + 1,
		    sizeof(struct backup_rec *));
		r->chunk[r->count / BACKUP_REC_CHUNK] = xreallocarray(NULL, BACKUP_REC_CHUNK,
		    sizeof **r->chunk);
	}
	while (r->names_len + len > r->names_alloc) {
		r->names_alloc = r->names_alloc == 0 ? 64 * 1024 : r->names_alloc * 2;
		r->names = xreallocarray(r->names, r->names_alloc, 1);
	}
	rec = backup_rec(r, r->count);
	memset(rec, 0, sizeof *rec);
	rec->name = (uint32_t)r->names_len;
	memcpy(r->names + r->names_len, path, len);
	r->names_len += len;
	rec->type = type;
	rec->canon = (uint32_t)r->count;
	r->slots[backup_recs_slot(r, path)] = (uint32_t)r->count + 1;
	return r->count++;
}

static void
backup_recs_free(struct backup_recs *r)
{
	size_t i;

	for (i = 0; i * BACKUP_REC_CHUNK < r->count; i++)
		free(r->chunk[i]);
	free(r->chunk);
	free(r->names);
	free(r->slots);
	free(r->wants);
	memset(r, 0, sizeof *r);
}

/*
 * The archive file: read once, hashed as stored, decrypted as a stream.
 */

static void
backup_input_digested(void *arg, size_t tag, const unsigned char *digest)
{
	struct backup_input *in = arg;

	(void)tag;
	memcpy(in->sum, digest, DIGEST_LEN);
}

/*
 * Reads the next block into the ring (once the hasher is done with what
 * that block held) and lends it to the hasher. Its length, or -1.
 */
static ssize_t
backup_input_raw(struct backup_input *in, const unsigned char **block)
{
	unsigned int i = in->next++ % BACKUP_RING;
	unsigned char *p = in->ring + (size_t)i * BACKUP_BLOCK;
	ssize_t n;

	hasher_wait(in->hasher, in->ticket[i]);
	in->ticket[i] = 0;
	do {
		n = fault_fail("read") != 0 ? -1 : read(in->fd, p, BACKUP_BLOCK);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		in->read_errno = errno;
		return -1;
	}
	if (n > 0) {
		in->ticket[i] = hasher_lend(in->hasher, p, (size_t)n);
		if ((size_t)n > in->ring_used[i])
			in->ring_used[i] = (size_t)n;
	}
	in->raw_read += (uint64_t)n;
	*block = p;
	return n;
}

/* Decrypts the next block read; at the end checks the padding. */
static int
backup_input_decrypt(struct backup_input *in)
{
	const unsigned char *raw;
	ssize_t n;
	int outl = 0;

	if ((n = backup_input_raw(in, &raw)) < 0)
		return -1;
	if (n == 0) {
		in->eof = 1;
		if (EVP_DecryptFinal_ex(in->cipher, in->plain, &outl) != 1) {
			in->bad_padding = 1;
			return -1;
		}
	} else if (EVP_DecryptUpdate(in->cipher, in->plain, &outl, raw, (int)n) != 1) {
		in->bad_padding = 1;
		return -1;
	}
	in->out = in->plain;
	in->out_off = 0;
	in->out_len = (size_t)outl;
	return 0;
}

/* Makes data ready in out: 1 ready, 0 at the end, -1 failed. */
static int
backup_input_fill(struct backup_input *in)
{
	const unsigned char *raw;
	ssize_t n;

	while (in->out_off == in->out_len) {
		if (in->bad_padding || in->read_errno != 0)
			return -1;
		if (in->eof)
			return 0;
		if (in->cipher != NULL) {
			if (backup_input_decrypt(in) != 0)
				return -1;
			continue;
		}
		if ((n = backup_input_raw(in, &raw)) < 0)
			return -1;
		in->out = raw;
		in->out_off = 0;
		in->out_len = (size_t)n;
		in->eof = n == 0;
	}
	return 1;
}

/* Reads what libarchive left unread (a tar's padding), so that the whole file is hashed. */
static int
backup_input_drain(struct backup_input *in)
{
	int r;

	while ((r = backup_input_fill(in)) > 0)
		in->out_off = in->out_len;
	return r;
}

/* openssl enc -aes-256-cbc -pbkdf2: key and iv from PBKDF2-HMAC-SHA256(pass, salt). */
static int
backup_input_key(struct backup_input *in, const unsigned char *salt, const struct secret *pass,
    int iterations)
{
	unsigned char keyiv[BACKUP_KEY_LEN + BACKUP_IV_LEN];
	int ret = -1;

	if (pass->len > INT_MAX)
		goto out;
	if (PKCS5_PBKDF2_HMAC(pass->data, (int)pass->len, salt, BACKUP_SALT_LEN,
		iterations > 0 ? iterations : BACKUP_ITERATIONS, EVP_sha256(), sizeof keyiv,
		keyiv) != 1)
		goto out;
	if ((in->cipher = EVP_CIPHER_CTX_new()) == NULL)
		abort();
	if (EVP_DecryptInit_ex(in->cipher, EVP_aes_256_cbc(), NULL, keyiv,
		keyiv + BACKUP_KEY_LEN) != 1)
		goto out;
	in->plain = xmalloc(BACKUP_BLOCK + EVP_MAX_BLOCK_LENGTH);
	ret = 0;
out:
	OPENSSL_cleanse(keyiv, sizeof keyiv);
	return ret;
}

int
backup_hmac_key(const struct secret *passphrase, const unsigned char *salt, int iterations,
    unsigned char key[BACKUP_HMAC_LEN])
{
	unsigned char s[BACKUP_SALT_LEN + sizeof BACKUP_HMAC_LABEL];

	if (passphrase->len > INT_MAX)
		return -1;
	memcpy(s, salt, BACKUP_SALT_LEN);
	memcpy(s + BACKUP_SALT_LEN, BACKUP_HMAC_LABEL, sizeof BACKUP_HMAC_LABEL);
	return PKCS5_PBKDF2_HMAC(passphrase->data, (int)passphrase->len, s, (int)sizeof s,
		   iterations, EVP_sha256(), BACKUP_HMAC_LEN, key) == 1 ?
	    0 :
	    -1;
}

EVP_MAC_CTX *
backup_hmac_new(const unsigned char key[BACKUP_HMAC_LEN])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_MAC_init(ctx, key, BACKUP_HMAC_LEN, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	EVP_MAC_free(mac);
	return ctx;
}

static int
backup_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
backup_hmac_parse(const char *text, int *iterations, unsigned char mac[BACKUP_HMAC_LEN])
{
	const char *p = text + sizeof BACKUP_HMAC_HEAD - 1;
	char *end;
	long v;
	size_t i;
	int hi, lo;

	if (strncmp(text, BACKUP_HMAC_HEAD, sizeof BACKUP_HMAC_HEAD - 1) != 0 || *p < '1' ||
	    *p > '9')
		return -1;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno != 0 || *end != '\n' || v < 1 || v > BACKUP_HMAC_ITERATIONS_MAX)
		return -1;
	for (p = end + 1, i = 0; i < BACKUP_HMAC_LEN; i++, p += 2) {
		if ((hi = backup_hex_value(p[0])) < 0 || (lo = backup_hex_value(p[1])) < 0)
			return -1;
		mac[i] = (unsigned char)(hi << 4 | lo);
	}
	if (*p != '\n' && *p != '\0')
		return -1;
	*iterations = (int)v;
	return 0;
}

/*
 * FILE.hmac beside an encrypted source: read and its key derived before the
 * file's first byte goes to the hasher, which then computes the HMAC with
 * the digest. None there: in->hmac stays 0 (a warning at the end).
 */
static int
backup_hmac_open(struct backup_run *run, const unsigned char *salt)
{
	struct backup_input *in = run->in;
	unsigned char key[BACKUP_HMAC_LEN];
	EVP_MAC_CTX *mac;
	char *side = mkbackup_hmac_path(run->opt->source), *shown = backup_shown(side);
	char text[BACKUP_HMAC_TEXT_MAX + 1];
	ssize_t n = -1;
	int fd, iterations = 0, ret = -1;

	fd = open(side, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		ret = 0;
		goto out;
	}
	if (fd >= 0)
		n = backup_read_full(fd, text, sizeof text - 1);
	if (n < 0) {
		backup_error(run, _("Cannot read the HMAC file %1$s: %2$s."), shown,
		    strerror(errno));
		goto out;
	}
	text[n] = '\0';
	if (backup_hmac_parse(text, &iterations, in->hmac_want) != 0) {
		backup_error(run,
		    _("The HMAC file %s is not one kmsrecover wrote: it cannot be used."), shown);
		goto out;
	}
	if (backup_hmac_key(run->opt->passphrase, salt, iterations, key) != 0 ||
	    (mac = backup_hmac_new(key)) == NULL) {
		backup_error(run, _("Cannot derive the key to decrypt the backup %s."),
		    run->shown_source);
		goto out;
	}
	hasher_set_mac(in->hasher, mac);
	in->hmac = 1;
	ret = 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	if (fd >= 0)
		close(fd);
	free(shown);
	free(side);
	return ret;
}

/* Ends the hasher's stream, once: sum (and the HMAC) are then known. */
static void
backup_input_finish(struct backup_input *in)
{
	if (in->finished)
		return;
	hasher_final(in->hasher, 0);
	hasher_drain(in->hasher);
	in->finished = 1;
}

/*
 * Compares the file as stored with FILE.hmac, in constant time, having
 * read what is left of it first (without decrypting: when the reading
 * stopped early, most often because the file was altered). 0 when it
 * matches or there is no side file; -1 with the cause otherwise.
 */
static int
backup_hmac_verify(struct backup_run *run)
{
	struct backup_input *in = run->in;
	const unsigned char *raw, *mac;
	ssize_t n = 0;

	if (in == NULL || !in->hmac)
		return 0;
	while (!in->eof && in->read_errno == 0 && (n = backup_input_raw(in, &raw)) > 0)
		;
	if (n < 0 || in->read_errno != 0)
		return backup_error(run, _("Cannot read the backup %1$s: %2$s."), run->shown_source,
		    strerror(in->read_errno));
	in->eof = 1;
	backup_input_finish(in);
	if ((mac = hasher_mac(in->hasher)) == NULL ||
	    CRYPTO_memcmp(mac, in->hmac_want, BACKUP_HMAC_LEN) != 0)
		/* TRANSLATORS: %s is the backup file; FILE.hmac beside it holds its HMAC. */
		return backup_error(run,
		    _("The backup %s was altered since it was made (its HMAC does not match), "
		      "or the passphrase is wrong."),
		    run->shown_source);
	return 0;
}

/* libarchive's read callback for a stream read as it comes. */
static la_ssize_t
backup_stream_read(struct archive *a, void *arg, const void **buf)
{
	struct backup_input *in = arg;
	size_t n;
	int r;

	if ((r = backup_input_fill(in)) <= 0) {
		if (r < 0)
			archive_set_error(a, EIO, "read failed");
		return r;
	}
	*buf = in->out + in->out_off;
	n = in->out_len - in->out_off;
	in->out_off = in->out_len;
	return (la_ssize_t)n;
}

/* Appends the source's next block to the spool: 1, 0 at the end, -1. */
static int
backup_spool_extend(struct backup_input *in)
{
	const unsigned char *p;
	size_t left;
	ssize_t n;
	int r;

	if ((r = backup_input_fill(in)) <= 0)
		return r;
	p = in->out + in->out_off;
	left = in->out_len - in->out_off;
	while (left > 0) {
		n = fault_fail("write") != 0 ? -1 :
					       pwrite(in->spool_fd, p, left, (off_t)in->spool_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			in->spool_errno = n < 0 ? errno : EIO;
			return -1;
		}
		p += n;
		left -= (size_t)n;
		in->spool_len += (uint64_t)n;
	}
	in->out_off = in->out_len;
	return 1;
}

/* libarchive's read callback for a spooled stream (7-Zip). */
static la_ssize_t
backup_spool_read(struct archive *a, void *arg, const void **buf)
{
	struct backup_input *in = arg;
	uint64_t avail;
	ssize_t n;
	int r;

	while (in->pos >= in->spool_len) {
		if ((r = backup_spool_extend(in)) <= 0) {
			if (r < 0)
				archive_set_error(a, EIO, "read failed");
			return r;
		}
	}
	avail = in->spool_len - in->pos;
	do {
		n = pread(in->spool_fd, in->spool_buf,
		    avail < BACKUP_BLOCK ? (size_t)avail : BACKUP_BLOCK, (off_t)in->pos);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		in->spool_errno = n < 0 ? errno : EIO;
		archive_set_error(a, EIO, "read failed");
		return -1;
	}
	in->pos += (uint64_t)n;
	*buf = in->spool_buf;
	return n;
}

/* libarchive's seek callback: forward seeks read the source on into the spool. */
static la_int64_t
backup_spool_seek(struct archive *a, void *arg, la_int64_t offset, int whence)
{
	struct backup_input *in = arg;
	int64_t base;
	int r = 1;

	(void)a;
	if (whence == SEEK_END) {
		while ((r = backup_spool_extend(in)) > 0)
			;
	}
	if (r < 0)
		return ARCHIVE_FATAL;
	base = whence == SEEK_SET ? 0 :
	    whence == SEEK_CUR    ? (int64_t)in->pos :
				    (int64_t)in->spool_len;
	if (offset < -base || offset > INT64_MAX - base)
		return ARCHIVE_FATAL;
	while ((uint64_t)(base + offset) > in->spool_len && (r = backup_spool_extend(in)) > 0)
		;
	if (r < 0)
		return ARCHIVE_FATAL;
	in->pos = (uint64_t)(base + offset);
	if (in->pos > in->spool_len)
		in->pos = in->spool_len;
	return (la_int64_t)in->pos;
}

/*
 * Why the source could not be read, in the operator's words. An encrypted
 * backup that libarchive cannot make sense of was, most likely, decrypted
 * with the wrong passphrase.
 */
static int
backup_read_failed(struct backup_run *run)
{
	struct backup_input *in = run->in;
	char *detail;
	int ret;

	if (in->read_errno != 0)
		return backup_error(run, _("Cannot read the backup %1$s: %2$s."), run->shown_source,
		    strerror(in->read_errno));
	/* What an altered encrypted file makes of libarchive, told as what it is. */
	if (in->spool_errno == 0 && backup_hmac_verify(run) != 0)
		return -1;
	if (in->spool_errno != 0)
		return backup_error(run,
		    _("Cannot write the temporary copy of the 7-Zip backup %1$s: %2$s."),
		    run->shown_source, strerror(in->spool_errno));
	if (in->bad_padding || (in->cipher != NULL && run->entries == 0))
		return backup_error(run,
		    _("The backup %s cannot be decrypted: the passphrase is wrong "
		      "or the backup is damaged."),
		    run->shown_source);
	detail = backup_shown(run->reader != NULL ? archive_error_string(run->reader) : NULL);
	if (in->cipher != NULL)
		ret = backup_error(run,
		    _("The backup %1$s cannot be read (%2$s): the passphrase is wrong "
		      "or the backup is damaged."),
		    run->shown_source, detail);
	else if (run->current != NULL)
		/* TRANSLATORS: %2$s is the backup file, %3$s libarchive's explanation. */
		ret = backup_error(run,
		    _("The entry \"%1$s\" of the backup %2$s cannot be read: %3$s."), run->shown,
		    run->shown_source, detail);
	else
		ret = backup_error(run, _("The backup %1$s cannot be read: %2$s."),
		    run->shown_source, detail);
	free(detail);
	return ret;
}

static int
backup_archive_next(struct backup_run *run, struct archive_entry **entry)
{
	int r;

	r = archive_read_next_header(run->reader, entry);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return backup_read_failed(run);
	return 1;
}

static int
backup_archive_data(struct backup_run *run, const void **buf, size_t *len, int64_t *off)
{
	la_int64_t o;
	int r;

	r = archive_read_data_block(run->reader, buf, len, &o);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return backup_read_failed(run);
	*off = o;
	return 1;
}

static const struct backup_source_ops backup_archive_ops = { backup_archive_next,
	backup_archive_data };

/*
 * Every format libarchive reads except mtree, whose "archives" take their
 * files' contents from this machine's disk (contents=/etc/shadow).
 */
static void
backup_archive_formats(struct archive *a)
{
	archive_read_support_filter_all(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_ar(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_empty(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_lha(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_warc(a);
	archive_read_support_format_xar(a);
	archive_read_support_format_zip(a);
}

/* An unnamed file for the 7-Zip spool: beside the staging folder, or in $TMPDIR. */
static int
backup_spool_open(struct backup_run *run)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (run->parent_fd >= 0)
		fd = openat(run->parent_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	else
		fd = open(tmp != NULL && *tmp != '\0' ? tmp : "/tmp",
		    O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return backup_error(run,
		    _("Cannot make a temporary copy of the 7-Zip backup %1$s: %2$s."),
		    run->shown_source, strerror(errno));
	run->in->spool_fd = fd;
	return 0;
}

static int
backup_archive_open(struct backup_run *run)
{
	struct backup_input *in = run->in;
	size_t avail = in->out_len - in->out_off;

	if (avail >= BACKUP_7Z_MAGIC_LEN &&
	    memcmp(in->out + in->out_off, BACKUP_7Z_MAGIC, BACKUP_7Z_MAGIC_LEN) == 0 &&
	    backup_spool_open(run) != 0)
		return -1;
	run->reader = archive_read_new();
	backup_archive_formats(run->reader);
	archive_read_set_callback_data(run->reader, in);
	if (in->spool_fd >= 0) {
		archive_read_set_read_callback(run->reader, backup_spool_read);
		archive_read_set_seek_callback(run->reader, backup_spool_seek);
	} else
		archive_read_set_read_callback(run->reader, backup_stream_read);
	if (archive_read_open1(run->reader) != ARCHIVE_OK)
		return backup_read_failed(run);
	run->ops = &backup_archive_ops;
	return 0;
}

/*
 * Reads the head (into the ring's first block, lent to the hasher like the
 * rest); sets up decryption for openssl enc; hands on to libarchive.
 */
static int
backup_input_open(struct backup_run *run, int fd, uint64_t size)
{
	const struct backup_options *opt = run->opt;
	struct backup_input *in;
	unsigned char *head;
	ssize_t n;

	run->in = in = xcalloc(1, sizeof *in);
	in->fd = fd;
	in->size = size;
	in->spool_fd = -1;
	in->hasher = hasher_new(backup_input_digested, in, 0);
	in->ring = xmalloc((size_t)BACKUP_RING * BACKUP_BLOCK);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	head = in->ring;
	in->next = 1;
	if ((n = backup_read_full(fd, head, BACKUP_HEAD_LEN)) < 0) {
		in->read_errno = errno;
		return backup_read_failed(run);
	}
	in->raw_read = (uint64_t)n;
	in->out = head;
	in->out_len = (size_t)n;
	in->eof = n < BACKUP_HEAD_LEN;
	if (n == BACKUP_HEAD_LEN && memcmp(head, BACKUP_SALT_MAGIC, BACKUP_SALT_LEN) == 0) {
		if (opt->passphrase == NULL)
			return backup_error(run,
			    _("The backup %s is encrypted: a passphrase is needed."),
			    run->shown_source);
		if (backup_input_key(in, head + BACKUP_SALT_LEN, opt->passphrase,
			opt->iterations) != 0)
			return backup_error(run,
			    _("Cannot derive the key to decrypt the backup %s."),
			    run->shown_source);
		if (backup_hmac_open(run, head + BACKUP_SALT_LEN) != 0)
			return -1;
		in->out_len = 0;
	}
	/* Only now: the HMAC, when there is one, covers the head too. */
	in->ticket[0] = hasher_lend(in->hasher, head, (size_t)n);
	in->ring_used[0] = (size_t)n;
	if (backup_input_fill(in) < 0)
		return backup_read_failed(run);
	return backup_archive_open(run);
}

/*
 * A folder source, walked through directory fds: lstat semantics
 * throughout, so a symbolic link is an entry (and refused), never followed.
 */

static void
backup_walk_close_data(struct backup_walk *w)
{
	if (w->data_fd >= 0)
		close(w->data_fd);
	w->data_fd = -1;
}

/* Enters the folder returned last, once it has passed the checks. */
static int
backup_walk_descend(struct backup_run *run)
{
	struct backup_walk *w = run->walk;
	struct backup_walk_level *l;
	int fd = w->pending_fd;

	if (fd < 0)
		return 0;
	w->pending_fd = -1;
	if (w->depth + 1 > BACKUP_MAX_DEPTH) {
		close(fd);
		return backup_error(run,
		    _("The backup entry \"%1$s\" is nested more than %2$d "
		      "folders deep."),
		    run->shown, BACKUP_MAX_DEPTH);
	}
	l = &w->level[++w->depth];
	if ((l->dir = fdopendir(fd)) == NULL) {
		close(fd);
		w->depth--;
		return backup_error(run, _("Cannot read the backup folder entry \"%1$s\": %2$s."),
		    run->shown, strerror(errno));
	}
	l->prefix = w->pending_prefix;
	w->pending_prefix = NULL;
	return 0;
}

/* Opens what the entry at st names, making sure it is still what was looked at. */
static int
backup_walk_open(int dir_fd, const char *name, const struct stat *st)
{
	struct stat again;
	int fd, flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;

	if (S_ISDIR(st->st_mode))
		flags |= O_DIRECTORY;
	if ((fd = openat(dir_fd, name, flags)) < 0)
		return -1;
	if (fstat(fd, &again) != 0 || again.st_dev != st->st_dev || again.st_ino != st->st_ino) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

/* A symbolic link's target, for the message that refuses it. */
static void
backup_walk_symlink(struct archive_entry *e, int dir_fd, const char *name)
{
	char target[PATH_MAX];
	ssize_t n;

	if ((n = readlinkat(dir_fd, name, target, sizeof target - 1)) < 0)
		n = 0;
	target[n] = '\0';
	archive_entry_set_symlink(e, target);
}

static int
backup_walk_entry(struct backup_run *run, DIR *dir, const char *prefix, const char *name)
{
	struct backup_walk *w = run->walk;
	struct stat st;
	char *path;
	int fd = -1;

	path = xasprintf("%s%s", prefix, name);
	archive_entry_clear(w->entry);
	archive_entry_set_pathname(w->entry, path);
	free(run->shown);
	run->shown = backup_shown(path);
	if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    ((S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) &&
		(fd = backup_walk_open(dirfd(dir), name, &st)) < 0)) {
		free(path);
		return backup_error(run, _("Cannot read the backup folder entry \"%1$s\": %2$s."),
		    run->shown, strerror(errno));
	}
	archive_entry_copy_stat(w->entry, &st);
	if (S_ISLNK(st.st_mode))
		backup_walk_symlink(w->entry, dirfd(dir), name);
	if (S_ISDIR(st.st_mode) && run->staging_fd >= 0 && st.st_dev == run->staging_st.st_dev &&
	    st.st_ino == run->staging_st.st_ino) {
		close(fd);
		free(path);
		return backup_error(run,
		    _("The backup folder %s holds the staging folder: choose a "
		      "backup outside the folder that holds Kmsdata."),
		    run->shown_source);
	}
	if (S_ISDIR(st.st_mode)) {
		w->pending_fd = fd;
		w->pending_prefix = xasprintf("%s/", path);
	} else {
		w->data_fd = fd;
		w->data_off = 0;
	}
	free(path);
	return 1;
}

static int
backup_walk_next(struct backup_run *run, struct archive_entry **entry)
{
	struct backup_walk *w = run->walk;
	struct backup_walk_level *l;
	struct dirent *de;

	backup_walk_close_data(w);
	if (backup_walk_descend(run) != 0)
		return -1;
	while (w->depth >= 0) {
		l = &w->level[w->depth];
		errno = 0;
		if ((de = readdir(l->dir)) == NULL) {
			if (errno != 0)
				return backup_error(run,
				    _("Cannot read the backup folder %1$s: %2$s."),
				    run->shown_source, strerror(errno));
			closedir(l->dir);
			free(l->prefix);
			l->dir = NULL;
			l->prefix = NULL;
			w->depth--;
			continue;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		*entry = w->entry;
		return backup_walk_entry(run, l->dir, l->prefix, de->d_name);
	}
	return 0;
}

static int
backup_walk_data(struct backup_run *run, const void **buf, size_t *len, int64_t *off)
{
	struct backup_walk *w = run->walk;
	ssize_t n;

	if (w->data_fd < 0)
		return 0;
	do {
		n = fault_fail("read") != 0 ? -1 : read(w->data_fd, w->buf, sizeof w->buf);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return backup_error(run, _("Cannot read the backup folder entry \"%1$s\": %2$s."),
		    run->shown, strerror(errno));
	if (n == 0) {
		backup_walk_close_data(w);
		return 0;
	}
	*buf = w->buf;
	*len = (size_t)n;
	*off = w->data_off;
	w->data_off += n;
	w->data_read += (uint64_t)n;
	return 1;
}

static const struct backup_source_ops backup_walk_ops = { backup_walk_next, backup_walk_data };

static void
backup_walk_start(struct backup_run *run, int fd)
{
	struct backup_walk *w;

	run->walk = w = xcalloc(1, sizeof *w);
	w->pending_fd = fd;
	w->pending_prefix = xstrdup("");
	w->depth = -1;
	w->data_fd = -1;
	w->entry = archive_entry_new();
	run->ops = &backup_walk_ops;
}

static void
backup_walk_free(struct backup_walk *w)
{
	if (w == NULL)
		return;
	backup_walk_close_data(w);
	if (w->pending_fd >= 0)
		close(w->pending_fd);
	free(w->pending_prefix);
	for (; w->depth >= 0; w->depth--) {
		closedir(w->level[w->depth].dir);
		free(w->level[w->depth].prefix);
	}
	archive_entry_free(w->entry);
	free(w);
}

/* Opens the source, whatever it is. */
static int
backup_source_open(struct backup_run *run)
{
	struct stat st;
	int fd;

	fd = open(run->opt->source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0) {
		backup_error(run, _("Cannot open the backup %1$s: %2$s."), run->shown_source,
		    strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		backup_walk_start(run, fd);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		backup_error(run, _("The backup %s is neither a file nor a folder."),
		    run->shown_source);
		goto fail;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return backup_input_open(run, fd, (uint64_t)st.st_size);

fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static uint64_t
backup_bytes_read(const struct backup_run *run)
{
	if (run->in != NULL)
		return run->in->raw_read;
	return run->walk != NULL ? run->walk->data_read : 0;
}

/*
 * The staging folder's side: the cwd, progress, durability, removal.
 */

/*
 * libarchive's disk writer works on paths: it runs with the staging folder
 * as cwd, entered at the first entry and left when the pass ends (and
 * around each progress report, which is made from the original cwd).
 */
static int
backup_enter(struct backup_run *run)
{
	if (run->disk == NULL || run->inside)
		return 0;
	if (fchdir(run->staging_fd) != 0)
		return backup_error(run, _("Cannot enter the staging folder: %s."),
		    strerror(errno));
	run->inside = 1;
	return 0;
}

static int
backup_leave(struct backup_run *run)
{
	if (!run->inside)
		return 0;
	if (fchdir(run->cwd_fd) != 0)
		return backup_error(run, _("Cannot leave the staging folder: %s."),
		    strerror(errno));
	run->inside = 0;
	return 0;
}

static int64_t
backup_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reports progress (from the original cwd); stops when the operator asks. */
static int
backup_report(struct backup_run *run)
{
	struct progress_state st;
	int inside = run->inside, r;

	memset(&st, 0, sizeof st);
	st.bytes_done = backup_bytes_read(run);
	st.bytes_total = run->in != NULL ? run->in->size : 0;
	st.files_done = run->files;
	st.current = run->current;
	run->last_progress = st.bytes_done;
	run->last_report = backup_now();
	if (backup_leave(run) != 0)
		return -1;
	r = progress_update(run->progress, &st);
	if (inside && backup_enter(run) != 0)
		return -1;
	if (r != 0)
		return backup_error(run, _("Reading the backup was stopped by the operator."));
	return 0;
}

/* Whether a new entry is worth a report (see BACKUP_PROGRESS_ENTRIES). */
static int
backup_report_due(const struct backup_run *run)
{
	return run->entries < BACKUP_PROGRESS_ENTRIES ||
	    backup_now() - run->last_report >= BACKUP_PROGRESS_TICK;
}

static int
backup_fsync(int fd)
{
	if (fault_fail("fsync") != 0)
		return -1;
	return fsync(fd);
}

/* fsyncs every folder below fd and fd itself (and the files, without syncfs). */
static int
backup_sync_dir(int fd)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int sub, dup_fd, r = 0;

	if ((dup_fd = dup(fd)) < 0)
		return -1;
	if ((dir = fdopendir(dup_fd)) == NULL) {
		close(dup_fd);
		return -1;
	}
	while (r == 0 && (errno = 0, de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
#ifdef HAVE_SYNCFS
		/* syncfs has written the files: only folders are visited, found by d_type. */
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
#endif
		if ((r = fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW)) != 0)
			break;
#ifdef HAVE_SYNCFS
		if (!S_ISDIR(st.st_mode))
			continue;
#endif
		if ((sub = backup_walk_open(fd, de->d_name, &st)) < 0) {
			r = -1;
			break;
		}
		r = S_ISDIR(st.st_mode) ? backup_sync_dir(sub) : backup_fsync(sub);
		close(sub);
	}
	if (r == 0 && errno != 0)
		r = -1;
	closedir(dir);
	return r != 0 ? -1 : backup_fsync(fd);
}

/* Makes the staged tree and its name in the parent durable. */
static int
backup_staging_sync(struct backup_run *run)
{
	int fd, r;

#ifdef HAVE_SYNCFS
	if (fault_fail("fsync") != 0 || syncfs(run->staging_fd) != 0)
		goto fail;
#endif
	if (backup_sync_dir(run->staging_fd) != 0)
		goto fail;
	if ((fd = openat(run->parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	r = backup_fsync(fd);
	close(fd);
	if (r != 0)
		goto fail;
	return 0;

fail:
	return backup_error(run, _("Cannot write the staged files to disk: %s."), strerror(errno));
}

/* Removes name under dir_fd and everything below it, never following a symbolic link. */
static int
backup_remove_tree(int dir_fd, const char *name)
{
	struct dirent *de;
	DIR *dir;
	int fd, removed, r = 0;

	if ((fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOTDIR || errno == ELOOP ? unlinkat(dir_fd, name, 0) : -1;
	(void)fchmod(fd, S_IRWXU);
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	do {
		removed = 0;
		rewinddir(dir);
		while (r == 0 && (de = readdir(dir)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			/* Linux says EISDIR for a folder, POSIX allows EPERM. */
			if (unlinkat(fd, de->d_name, 0) == 0 ||
			    ((errno == EISDIR || errno == EPERM) &&
				backup_remove_tree(fd, de->d_name) == 0))
				removed = 1;
			else
				r = -1;
		}
	} while (r == 0 && removed);
	closedir(dir);
	if (r != 0)
		return -1;
	return unlinkat(dir_fd, name, AT_REMOVEDIR);
}

/*
 * Checking each entry before it is written.
 */

enum backup_path_verdict {
	BACKUP_PATH_OK,
	BACKUP_PATH_ABSOLUTE,
	BACKUP_PATH_DOTDOT,
	BACKUP_PATH_LONG,
	BACKUP_PATH_DEEP
};

/*
 * Normalises an entry's path: "." components, repeated and trailing
 * slashes dropped ("" for the archive's root). Refuses what could leave
 * the staging folder or not fit in it.
 */
static enum backup_path_verdict
backup_path_clean(const char *name, char **out)
{
	const char *p = name;
	size_t n, depth = 0, len = strlen(name);
	char *o;

	*out = NULL;
	if (*name == '/')
		return BACKUP_PATH_ABSOLUTE;
	if (len >= PATH_MAX)
		return BACKUP_PATH_LONG;
	o = *out = xmalloc(len + 1);
	while (*p != '\0') {
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(*out);
			*out = NULL;
			return BACKUP_PATH_DOTDOT;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o != *out)
				*o++ = '/';
			memcpy(o, p, n);
			o += n;
			depth++;
		}
		for (p += n; *p == '/'; p++)
			;
	}
	*o = '\0';
	if (depth > BACKUP_MAX_DEPTH) {
		free(*out);
		*out = NULL;
		return BACKUP_PATH_DEEP;
	}
	return BACKUP_PATH_OK;
}

static int
backup_check_path(struct backup_run *run, const char *name, char **path)
{
	/* Every refusal returns -1 here, where *path is NULL, whatever backup_error does. */
	switch (backup_path_clean(name, path)) {
	case BACKUP_PATH_OK:
		return 0;
	case BACKUP_PATH_ABSOLUTE:
		backup_error(run, _("The backup entry \"%s\" has an absolute path."), run->shown);
		break;
	case BACKUP_PATH_DOTDOT:
		backup_error(run,
		    _("The backup entry \"%s\" has \"..\" in its path: it would "
		      "land outside the staging folder."),
		    run->shown);
		break;
	case BACKUP_PATH_LONG:
		backup_error(run, _("The backup entry \"%1$s\" has a path longer than %2$d bytes."),
		    run->shown, PATH_MAX - 1);
		break;
	case BACKUP_PATH_DEEP:
		backup_error(run,
		    _("The backup entry \"%1$s\" is nested more than %2$d folders deep."),
		    run->shown, BACKUP_MAX_DEPTH);
		break;
	}
	return -1;
}

/* The entry's type; a hard link (which tar stores without one) is a file. */
static mode_t
backup_entry_type(struct archive_entry *e)
{
	mode_t type = archive_entry_filetype(e);

	if (type == 0 && archive_entry_hardlink(e) != NULL)
		return AE_IFREG;
	return type;
}

/* Refuses every kind of entry a Kmsdata folder does not hold. */
static int
backup_check_type(struct backup_run *run, struct archive_entry *e)
{
	char *target;

	switch (backup_entry_type(e)) {
	case AE_IFREG:
	case AE_IFDIR:
		break;
	case AE_IFLNK:
		target = backup_shown(archive_entry_symlink(e));
		backup_error(run,
		    _("The backup entry \"%1$s\" is a symbolic link (to \"%2$s\"); a "
		      "Kmsdata backup holds none."),
		    run->shown, target);
		free(target);
		return -1;
	case AE_IFCHR:
	case AE_IFBLK:
		return backup_error(run, _("The backup entry \"%s\" is a device node."),
		    run->shown);
	case AE_IFIFO:
		return backup_error(run, _("The backup entry \"%s\" is a FIFO."), run->shown);
	case AE_IFSOCK:
		return backup_error(run, _("The backup entry \"%s\" is a socket."), run->shown);
	default:
		return backup_error(run, _("The backup entry \"%s\" is of an unknown type."),
		    run->shown);
	}
	if ((archive_entry_mode(e) & (S_ISUID | S_ISGID | S_ISVTX)) != 0)
		return backup_error(run,
		    _("The backup entry \"%s\" has a set-user-ID, set-group-ID "
		      "or sticky bit."),
		    run->shown);
	return 0;
}

/* A hard link must name a file extracted before it; *canon is that file's record. */
static int
backup_check_hardlink(struct backup_run *run, struct archive_entry *e, size_t *canon)
{
	const char *target = archive_entry_hardlink(e);
	char *path, *shown;
	size_t i = SIZE_MAX;

	*canon = SIZE_MAX;
	if (target == NULL)
		return 0;
	if (backup_path_clean(target, &path) == BACKUP_PATH_OK)
		i = backup_recs_find(&run->recs, path);
	if (i == SIZE_MAX || backup_rec(&run->recs, i)->type != BACKUP_REC_FILE) {
		shown = backup_shown(target);
		backup_error(run,
		    _("The backup entry \"%1$s\" is a hard link to \"%2$s\", which is "
		      "outside the backup or not extracted before it."),
		    run->shown, shown);
		free(shown);
		free(path);
		return -1;
	}
	archive_entry_set_hardlink(e, path);
	free(path);
	*canon = backup_rec(&run->recs, i)->canon;
	return 0;
}

/* More paths than records can count: far beyond any Kmsdata, and refused. */
static int
backup_too_many(struct backup_run *run)
{
	return backup_error(run, _("The backup %1$s cannot be read: %2$s."), run->shown_source,
	    strerror(EOVERFLOW));
}

/* Refuses a path through anything but a folder; records the folders it implies. */
static int
backup_check_parents(struct backup_run *run, const char *path)
{
	struct backup_rec *rec;
	char *prefix, *slash, *shown;
	size_t i;
	int ret = 0;

	prefix = xstrdup(path);
	for (slash = strchr(prefix, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if ((i = backup_recs_find(&run->recs, prefix)) == SIZE_MAX) {
			if (backup_recs_add(&run->recs, prefix, BACKUP_REC_PARENT) == SIZE_MAX) {
				ret = backup_too_many(run);
				break;
			}
		} else if ((rec = backup_rec(&run->recs, i))->type == BACKUP_REC_LISTED)
			rec->type = BACKUP_REC_PARENT;
		else if (rec->type != BACKUP_REC_PARENT && rec->type != BACKUP_REC_DIR) {
			shown = backup_shown(prefix);
			ret = backup_error(run,
			    _("The backup entry \"%1$s\" goes through \"%2$s\", which "
			      "is not a folder."),
			    run->shown, shown);
			free(shown);
			break;
		}
		*slash = '/';
	}
	free(prefix);
	return ret;
}

/*
 * Records the entry, refusing duplicates and replacements. Returns its
 * index, or SIZE_MAX with a cause.
 */
static size_t
backup_check_new(struct backup_run *run, const char *path, enum backup_rec_type type)
{
	struct backup_rec *rec;
	size_t i;

	if ((i = backup_recs_find(&run->recs, path)) == SIZE_MAX) {
		if ((i = backup_recs_add(&run->recs, path, type)) == SIZE_MAX)
			backup_too_many(run);
		return i;
	}
	rec = backup_rec(&run->recs, i);
	if (rec->type == BACKUP_REC_LISTED ||
	    (rec->type == BACKUP_REC_PARENT && type == BACKUP_REC_DIR)) {
		rec->type = (unsigned char)type;
		return i;
	}
	if ((rec->type == BACKUP_REC_PARENT || rec->type == BACKUP_REC_DIR) &&
	    type != BACKUP_REC_DIR)
		backup_error(run, _("The backup entry \"%s\" would replace a folder with a file."),
		    run->shown);
	else if (rec->type == BACKUP_REC_FILE && type == BACKUP_REC_DIR)
		backup_error(run, _("The backup entry \"%s\" would replace a file with a folder."),
		    run->shown);
	else
		backup_error(run, _("The backup entry \"%s\" appears twice in the backup."),
		    run->shown);
	return SIZE_MAX;
}

static int
backup_check_space(struct backup_run *run, uint64_t total)
{
	uint64_t free_space = run->opt->free_space;

	if (free_space == 0 || total <= free_space)
		return 0;
	/* TRANSLATORS: %2$llu and %3$llu are numbers of bytes. */
	return backup_error(run,
	    _("The backup entry \"%1$s\" does not fit: the backup needs %2$llu "
	      "bytes, and %3$llu are free."),
	    run->shown, (unsigned long long)total, (unsigned long long)free_space);
}

/*
 * Reading an entry's data: hashed, and written when staging.
 */

/* A file's digest, back from the hasher: into the record it was asked for. */
static void
backup_file_digested(void *arg, size_t rec, const unsigned char *digest)
{
	struct backup_run *run = arg;
	struct backup_rec *r = backup_rec(&run->recs, rec);

	if ((r->state & BACKUP_REC_HASHED) && memcmp(r->digest, digest, DIGEST_LEN) != 0)
		r->state |= BACKUP_REC_CHANGED;
	memcpy(r->digest, digest, DIGEST_LEN);
	r->state |= BACKUP_REC_HASHED;
}

static int
backup_disk_failed(struct backup_run *run, const char *why)
{
	char *detail;
	int ret;

	detail = backup_shown(why != NULL ? why : archive_error_string(run->disk));
	ret = backup_error(run,
	    _("The backup entry \"%1$s\" cannot be written to the staging "
	      "folder: %2$s."),
	    run->shown, detail);
	free(detail);
	return ret;
}

static int
backup_write_block(struct backup_run *run, const void *buf, size_t len, int64_t off)
{
	if (run->disk == NULL)
		return 0;
	if (fault_fail("write") != 0)
		return backup_disk_failed(run, strerror(errno));
	if (archive_write_data_block(run->disk, buf, len, off) < ARCHIVE_WARN)
		return backup_disk_failed(run, NULL);
	return 0;
}

/*
 * Starts writing the file's data up to at to the disk, without waiting,
 * every BACKUP_FLUSH_STEP bytes (and at its end, once started): the disk
 * then works while the rest of the backup is read, and the syncfs at the
 * end (which alone gives the guarantee) has little left to wait for. Small
 * files are left to it. Best effort: a failure here changes nothing.
 */
static void
backup_flush(struct backup_run *run, struct archive_entry *e, int64_t at, int last)
{
#ifdef SYNC_FILE_RANGE_WRITE
	if (run->disk == NULL || (at - run->flushed < BACKUP_FLUSH_STEP && !last) ||
	    (last && run->flushed == 0))
		return;
	if (run->flush_fd < 0)
		run->flush_fd = open(archive_entry_pathname(e),
		    O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (run->flush_fd >= 0 && at > run->flushed)
		(void)sync_file_range(run->flush_fd, run->flushed, at - run->flushed,
		    SYNC_FILE_RANGE_WRITE);
	run->flushed = at;
	if (last && run->flush_fd >= 0) {
		close(run->flush_fd);
		run->flush_fd = -1;
	}
#else
	(void)run;
	(void)e;
	(void)at;
	(void)last;
#endif
}

/*
 * A small file is hashed here, on the reading thread: handing it to the
 * hasher costs more than its SHA-256 (two jobs, a wake-up and a switch of
 * threads: 4 context switches a file, 400,000 for 100,000 files). Only a
 * file's own data: a hard link's follows its target's through the hasher,
 * in order.
 */
static void
backup_hash_zeros(struct backup_run *run, int here, uint64_t n)
{
	static const unsigned char zeros[4096];
	size_t k;

	if (!here) {
		hasher_zeros(run->hasher, n);
		return;
	}
	for (; n > 0; n -= k) {
		k = n < sizeof zeros ? (size_t)n : sizeof zeros;
		digest_update(run->file_digest, zeros, k);
	}
}

/*
 * Copies the entry's data (holes read as zeros) and has it hashed, the
 * digest going to record canon (own: canon is the entry's own record).
 */
static int
backup_copy_data(struct backup_run *run, struct archive_entry *e, size_t canon, int own)
{
	unsigned char digest[DIGEST_LEN];
	const void *buf;
	size_t len;
	int64_t off, at = 0;
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	int r, here = own && size >= 0 && size <= BACKUP_HASH_HERE_MAX;

	run->flushed = 0;
	while ((r = run->ops->data(run, &buf, &len, &off)) > 0) {
		/*
		 * Blocks must come in order and inside the declared size; a hole
		 * needs a declared size. Otherwise a planted sparse entry could
		 * make us hash an endless run of zeros.
		 */
		if (off < at || (size >= 0 && (off > size || (int64_t)len > size - off)) ||
		    (size < 0 && off != at))
			return backup_error(run,
			    _("The backup entry \"%s\" has its data out of order."), run->shown);
		backup_hash_zeros(run, here, (uint64_t)(off - at));
		if (here)
			digest_update(run->file_digest, buf, len);
		else
			hasher_update(run->hasher, buf, len);
		at = off + (int64_t)len;
		run->bytes += len;
		if (backup_write_block(run, buf, len, off) != 0 ||
		    backup_check_space(run,
			run->declared > run->bytes ? run->declared : run->bytes) != 0)
			return -1;
		backup_flush(run, e, at, 0);
		if (backup_bytes_read(run) - run->last_progress >= BACKUP_PROGRESS_STEP &&
		    backup_report(run) != 0)
			return -1;
	}
	if (r < 0)
		return -1;
	backup_flush(run, e, at, 1);
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > at)
		backup_hash_zeros(run, here, (uint64_t)(archive_entry_size(e) - at));
	if (!here) {
		hasher_final(run->hasher, canon);
		return 0;
	}
	digest_final(run->file_digest, digest);
	backup_file_digested(run, canon, digest);
	return 0;
}

static int backup_manifest_checks(const struct backup_recs *r, size_t i);

/*
 * A manifest line's digest for record i: checked at once when its file's
 * data is hashed for good, else kept in recs.wants until the end. A folder
 * (or MANIFEST.sha256) never has data to check: it counts as missing then.
 */
static void
backup_manifest_want(struct backup_recs *r, size_t i, const unsigned char want[DIGEST_LEN])
{
	struct backup_rec *rec = backup_rec(r, i);
	const struct backup_rec *data = backup_rec(r, rec->canon);

	if (backup_manifest_checks(r, i) &&
	    (data->state & (BACKUP_REC_HASHED | BACKUP_REC_OPEN)) == BACKUP_REC_HASHED) {
		rec->state |= BACKUP_REC_EARLY;
		if (memcmp(want, data->digest, DIGEST_LEN) != 0)
			rec->state |= BACKUP_REC_BAD;
		return;
	}
	if (rec->type != BACKUP_REC_LISTED && !backup_manifest_checks(r, i))
		return;
	if (r->nwants == r->wants_alloc) {
		r->wants_alloc = r->wants_alloc == 0 ? 64 : r->wants_alloc * 2;
		r->wants = xreallocarray(r->wants, r->wants_alloc, sizeof *r->wants);
	}
	r->wants[r->nwants].rec = (uint32_t)i;
	memcpy(r->wants[r->nwants++].digest, want, DIGEST_LEN);
}

/* At the end, every file hashed: the lines kept waiting are checked. */
static void
backup_manifest_wanted(struct backup_recs *r)
{
	struct backup_rec *rec;
	size_t k;

	for (k = 0; k < r->nwants; k++) {
		rec = backup_rec(r, r->wants[k].rec);
		if (backup_manifest_checks(r, r->wants[k].rec) &&
		    memcmp(r->wants[k].digest, backup_rec(r, rec->canon)->digest, DIGEST_LEN) != 0)
			rec->state |= BACKUP_REC_BAD;
	}
}

/* Whether record i's line, checked as it was read, does not match: BAD, or the data changed since. */
static int
backup_manifest_bad(const struct backup_recs *r, size_t i)
{
	const struct backup_rec *rec = backup_rec(r, i);

	return (rec->state & BACKUP_REC_BAD) ||
	    ((rec->state & BACKUP_REC_EARLY) &&
		(backup_rec(r, rec->canon)->state & BACKUP_REC_CHANGED));
}

/*
 * MANIFEST.sha256 is read a line at a time as it streams by, each line
 * going into the record of its path (made for it when the backup has not
 * shown the path yet): the text is never held whole. What is wrong with
 * it is kept for the end, so that a fault of the backup itself is told
 * first, as when the manifest comes last.
 */
static void
backup_manifest_line(struct backup_run *run, const char *s, size_t len)
{
	struct backup_rec *rec;
	unsigned char digest[DIGEST_LEN];
	char *path, *why = NULL;
	size_t i, line = ++run->manifest_lines;

	/* A blank line (0) leaves why NULL; after an error (-1) no line is read again. */
	if (manifest_parse_line(s, len, line, &path, digest, &why) <= 0) {
		run->manifest_cause = why;
		return;
	}
	run->manifest_entries++;
	if ((i = backup_recs_find(&run->recs, path)) == SIZE_MAX &&
	    (i = backup_recs_add(&run->recs, path, BACKUP_REC_LISTED)) == SIZE_MAX)
		backup_too_many(run);
	else if ((rec = backup_rec(&run->recs, i))->line != 0)
		/* TRANSLATORS: both are line numbers of MANIFEST.sha256. */
		run->manifest_cause = xasprintf(
		    _("line %1$zu: the same file is listed on line %2$zu"), line,
		    (size_t)rec->line);
	else {
		rec->line = (uint32_t)line;
		backup_manifest_want(&run->recs, i, digest);
	}
	free(path);
}

/* Takes the manifest's bytes: complete lines are read at once, the rest waits. */
static void
backup_manifest_feed(struct backup_run *run, const char *buf, size_t len)
{
	const char *nl;
	size_t n;

	while (len > 0 && run->manifest_cause == NULL && run->cause == NULL) {
		nl = memchr(buf, '\n', len);
		n = nl != NULL ? (size_t)(nl - buf) : len;
		if (nl == NULL || run->mline_len > 0) {
			if (run->mline_len + n > run->mline_alloc) {
				run->mline_alloc = run->mline_len + n + 256;
				run->mline = xreallocarray(run->mline, run->mline_alloc, 1);
			}
			memcpy(run->mline + run->mline_len, buf, n);
			run->mline_len += n;
		}
		if (nl == NULL)
			return;
		if (run->mline_len > 0) {
			backup_manifest_line(run, run->mline, run->mline_len);
			run->mline_len = 0;
		} else
			backup_manifest_line(run, buf, n);
		buf += n + 1;
		len -= n + 1;
	}
}

/* MANIFEST.sha256 or BACKUP.INFO at the root: read and hashed, never written. */
static int
backup_entry_meta(struct backup_run *run, struct archive_entry *e, const char *path)
{
	const void *buf;
	size_t len, i;
	int64_t off;
	int r, is_manifest = strcmp(path, MANIFEST_NAME) == 0;

	if (backup_entry_type(e) != AE_IFREG || archive_entry_hardlink(e) != NULL)
		/* TRANSLATORS: %s is MANIFEST.sha256 or BACKUP.INFO, as the archive names it. */
		return backup_error(run, _("The backup's %s is not a plain file."), run->shown);
	if ((i = backup_check_new(run, path, BACKUP_REC_META)) == SIZE_MAX)
		return -1;
	/* The files before it hashed: their lines are checked as they are read. */
	if (is_manifest)
		hasher_drain(run->hasher);
	while ((r = run->ops->data(run, &buf, &len, &off)) > 0) {
		digest_update(run->file_digest, buf, len);
		if (!is_manifest)
			continue;
		if ((uint64_t)off != run->manifest_len ||
		    len > BACKUP_MANIFEST_MAX - run->manifest_len)
			/* TRANSLATORS: %1$s is MANIFEST.sha256, %2$d a number of mebibytes. */
			return backup_error(run, _("The backup's %1$s is larger than %2$d MiB."),
			    MANIFEST_NAME, BACKUP_MANIFEST_MAX >> 20);
		run->manifest_len += len;
		backup_manifest_feed(run, buf, len);
	}
	if (is_manifest && run->mline_len > 0 && run->manifest_cause == NULL) {
		backup_manifest_line(run, run->mline, run->mline_len);
		run->mline_len = 0;
	}
	digest_final(run->file_digest, backup_rec(&run->recs, i)->digest);
	backup_rec(&run->recs, i)->state |= BACKUP_REC_HASHED;
	run->manifest_found |= is_manifest;
	return run->cause != NULL ? -1 : r;
}

/* Checks a file or folder entry and records it: the index, or SIZE_MAX. */
static size_t
backup_entry_check(struct backup_run *run, struct archive_entry *e, const char *path)
{
	enum backup_rec_type type;
	size_t canon, i;

	if (backup_check_type(run, e) != 0 || backup_check_hardlink(run, e, &canon) != 0)
		return SIZE_MAX;
	type = backup_entry_type(e) == AE_IFDIR ? BACKUP_REC_DIR : BACKUP_REC_FILE;
	if (canon != SIZE_MAX && type != BACKUP_REC_FILE) {
		backup_error(run, _("The backup entry \"%s\" is a folder and a hard link."),
		    run->shown);
		return SIZE_MAX;
	}
	if (backup_check_parents(run, path) != 0 ||
	    (i = backup_check_new(run, path, type)) == SIZE_MAX)
		return SIZE_MAX;
	if (canon != SIZE_MAX)
		backup_rec(&run->recs, i)->canon = (uint32_t)canon;
	if (type == BACKUP_REC_FILE && archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
		run->declared += (uint64_t)archive_entry_size(e);
		if (backup_check_space(run, run->declared) != 0)
			return SIZE_MAX;
	}
	return i;
}

/* A file or folder of the tree: checked, written, its data hashed. */
static int
backup_entry_tree(struct backup_run *run, struct archive_entry *e, const char *path)
{
	struct backup_rec *rec;
	size_t i;

	if ((i = backup_entry_check(run, e, path)) == SIZE_MAX)
		return -1;
	if (run->disk != NULL) {
		archive_entry_set_pathname(e, path);
		archive_entry_set_perm(e,
		    (archive_entry_perm(e) & 0777) |
			(backup_entry_type(e) == AE_IFDIR ? S_IRWXU : S_IRUSR | S_IWUSR));
		if (backup_enter(run) != 0)
			return -1;
		if (archive_write_header(run->disk, e) < ARCHIVE_WARN)
			return backup_disk_failed(run, NULL);
	}
	rec = backup_rec(&run->recs, i);
	if (rec->type == BACKUP_REC_FILE)
		run->files++;
	if (rec->type == BACKUP_REC_FILE && rec->canon == i && archive_entry_size(e) == 0)
		rec->state |= BACKUP_REC_OPEN;
	/*
	 * A hard link shares its target's digest; one carrying data (as the
	 * last link of a cpio set does) gives the data of both.
	 */
	if (rec->type == BACKUP_REC_FILE && (rec->canon == i || archive_entry_size(e) > 0) &&
	    backup_copy_data(run, e, rec->canon, rec->canon == i) != 0)
		return -1;
	if (run->disk != NULL && archive_write_finish_entry(run->disk) < ARCHIVE_WARN)
		return backup_disk_failed(run, NULL);
	writeback_note(run->writeback,
	    rec->type == BACKUP_REC_FILE ? (uint64_t)archive_entry_size(e) : 0);
	return 0;
}

/* One entry of the backup, whatever it is. */
static int
backup_entry(struct backup_run *run, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	char *path = NULL;
	int ret = -1;

	free(run->current);
	free(run->shown);
	run->current = xstrdup(name != NULL ? name : "");
	run->shown = backup_shown(run->current);
	if (backup_report_due(run) && backup_report(run) != 0)
		return -1;
	if (name == NULL || *name == '\0')
		return backup_error(run, _("The backup holds an entry whose name cannot be read."));
	if (backup_check_path(run, name, &path) != 0)
		goto out;
	if (*path == '\0' && archive_entry_filetype(e) == AE_IFDIR)
		ret = 0; /* the archive's root: the staging folder itself */
	else if (*path == '\0')
		ret = backup_error(run,
		    _("The backup entry \"%s\" names the backup's root but is not "
		      "a folder."),
		    run->shown);
	else if (strcmp(path, MANIFEST_NAME) == 0 || strcmp(path, BACKUP_INFO_NAME) == 0)
		ret = backup_entry_meta(run, e, path);
	else
		ret = backup_entry_tree(run, e, path);
out:
	free(path);
	return ret;
}

/*
 * The whole run.
 */

static int
backup_disk_close(struct backup_run *run)
{
	int r;

	if (backup_enter(run) != 0)
		return -1;
	r = archive_write_close(run->disk);
	if (backup_leave(run) != 0)
		return -1;
	if (r < ARCHIVE_WARN) {
		free(run->shown);
		run->shown = backup_shown(archive_error_string(run->disk));
		return backup_error(run, _("Cannot finish the staged folders: %s."), run->shown);
	}
	return 0;
}

/* Reads the source through once, entry by entry. */
static int
backup_pass(struct backup_run *run)
{
	struct archive_entry *e;
	int r;

	if (backup_source_open(run) != 0)
		return -1;
	if (run->staging_fd >= 0) {
		run->disk = archive_write_disk_new();
		archive_write_disk_set_options(run->disk, BACKUP_DISK_FLAGS);
	}
	while ((r = run->ops->next(run, &e)) > 0) {
		if (backup_entry(run, e) != 0)
			return -1;
		run->entries++;
	}
	if (r < 0)
		return -1;
	hasher_drain(run->hasher);
	free(run->current);
	run->current = NULL;
	if (run->disk != NULL && backup_disk_close(run) != 0)
		return -1;
	if (run->in != NULL && backup_input_drain(run->in) != 0)
		return backup_read_failed(run);
	return backup_report(run);
}

static int
backup_manifest_refuse(struct backup_run *run, const char *path, size_t mismatched, size_t unlisted,
    size_t missing)
{
	char *shown = backup_shown(path);
	unsigned long n;

	if (mismatched > 0) {
		n = (unsigned long)mismatched;
		/* TRANSLATORS: %2$lu is how many files differ in all. */
		backup_error(run,
		    Q_("The backup file \"%1$s\" does not match its SHA-256 in "
		       "MANIFEST.sha256 (%2$lu file differs).",
			"The backup file \"%1$s\" does not match "
			"its SHA-256 in MANIFEST.sha256 (%2$lu files differ).",
			n),
		    shown, n);
	} else if (missing > 0) {
		n = (unsigned long)missing;
		backup_error(run,
		    Q_("The file \"%1$s\" listed in MANIFEST.sha256 is missing from the "
		       "backup (%2$lu listed file is missing).",
			"The file \"%1$s\" listed in "
			"MANIFEST.sha256 is missing from the backup (%2$lu listed files are "
			"missing).",
			n),
		    shown, n);
	} else {
		n = (unsigned long)unlisted;
		backup_error(run,
		    Q_("The backup file \"%1$s\" is not listed in MANIFEST.sha256 (%2$lu "
		       "file is not listed).",
			"The backup file \"%1$s\" is not listed in MANIFEST.sha256 "
			"(%2$lu files are not listed).",
			n),
		    shown, n);
	}
	free(shown);
	return -1;
}

/* Whether the manifest's line for rec is checked against data: a file, or BACKUP.INFO. */
static int
backup_manifest_checks(const struct backup_recs *r, size_t i)
{
	const struct backup_rec *rec = backup_rec(r, i);

	return rec->type == BACKUP_REC_FILE ||
	    (rec->type == BACKUP_REC_META && strcmp(backup_rec_path(r, i), BACKUP_INFO_NAME) == 0);
}

/* Every file listed with the right digest, every listed file present. */
static int
backup_manifest_compare(struct backup_run *run)
{
	const struct backup_recs *r = &run->recs;
	const struct backup_rec *rec;
	size_t i, bad = SIZE_MAX, unlisted = SIZE_MAX, missing = SIZE_MAX;
	size_t nbad = 0, nunlisted = 0, nmissing = 0;

	backup_manifest_wanted(&run->recs);
	for (i = 0; i < r->count; i++) {
		rec = backup_rec(r, i);
		if (rec->line == 0) {
			if (rec->type == BACKUP_REC_FILE && nunlisted++ == 0)
				unlisted = i;
		} else if (!backup_manifest_checks(r, i)) {
			if (nmissing++ == 0 || rec->line < backup_rec(r, missing)->line)
				missing = i;
		} else if (backup_manifest_bad(r, i) && nbad++ == 0)
			bad = i;
	}
	if (nbad > 0)
		return backup_manifest_refuse(run, backup_rec_path(r, bad), nbad, 0, 0);
	if (nmissing > 0)
		return backup_manifest_refuse(run, backup_rec_path(r, missing), 0, 0, nmissing);
	if (nunlisted > 0)
		return backup_manifest_refuse(run, backup_rec_path(r, unlisted), 0, nunlisted, 0);
	return 0;
}

static int
backup_manifest(struct backup_run *run, struct backup_result *result)
{
	char *shown;

	result->manifest_found = run->manifest_found;
	if (!run->manifest_found) {
		backup_result_warn(result,
		    run->in != NULL ?
			_("The backup has no MANIFEST.sha256: its "
			  "files cannot be checked one by one; the archive's SHA-256 is recorded "
			  "in the "
			  "report.") :
			_("The backup has no MANIFEST.sha256: its files cannot be checked one "
			  "by one."));
		return 0;
	}
	if (run->manifest_cause != NULL) {
		shown = backup_shown(run->manifest_cause);
		/* TRANSLATORS: %s says which line is wrong and how. */
		backup_error(run, _("The backup's MANIFEST.sha256 cannot be used: %s."), shown);
		free(shown);
		return -1;
	}
	result->manifest_entries = run->manifest_entries;
	return backup_manifest_compare(run);
}

/* The tree to restore: the one top folder named Kmsdata in any case, or the whole. */
static char *
backup_payload(const struct backup_run *run)
{
	const struct backup_recs *r = &run->recs;
	const struct backup_rec *rec;
	size_t i, top = SIZE_MAX;

	for (i = 0; i < r->count; i++) {
		rec = backup_rec(r, i);
		if (rec->type == BACKUP_REC_META || rec->type == BACKUP_REC_LISTED ||
		    strchr(backup_rec_path(r, i), '/') != NULL)
			continue;
		if (top != SIZE_MAX)
			return xstrdup("");
		top = i;
	}
	if (top == SIZE_MAX)
		return xstrdup("");
	rec = backup_rec(r, top);
	if ((rec->type == BACKUP_REC_DIR || rec->type == BACKUP_REC_PARENT) &&
	    strcasecmp(backup_rec_path(r, top), "kmsdata") == 0)
		return xstrdup(backup_rec_path(r, top));
	return xstrdup("");
}

static int
backup_conclude(struct backup_run *run, struct backup_result *result)
{
	unsigned char sum[DIGEST_LEN];

	if (run->in != NULL) {
		if (backup_hmac_verify(run) != 0)
			return -1;
		backup_input_finish(run->in);
		memcpy(sum, run->in->sum, DIGEST_LEN);
		digest_hex(sum, result->sha256);
		result->hmac_matched = run->in->hmac;
		if (run->in->cipher != NULL && !run->in->hmac)
			backup_result_warn(result,
			    _("The encrypted backup has no HMAC file beside it: tampering with it "
			      "cannot be detected beyond its MANIFEST.sha256."));
	}
	result->bytes_read = backup_bytes_read(run);
	result->files = run->files;
	result->bytes = run->bytes;
	if (backup_manifest(run, result) != 0)
		return -1;
	if (run->files == 0)
		return backup_error(run, _("The backup %s holds no files."), run->shown_source);
	result->payload = backup_payload(run);
	return 0;
}

static void
backup_run_init(struct backup_run *run, const struct backup_options *opt,
    const struct progress *progress)
{
	memset(run, 0, sizeof *run);
	run->opt = opt;
	run->progress = progress;
	run->shown_source = backup_escape_name(opt->source);
	run->parent_fd = run->staging_fd = run->cwd_fd = run->flush_fd = -1;
	run->file_digest = digest_new();
	run->hasher = hasher_new(backup_file_digested, run, 1);
}

/*
 * Frees the disk writer, which then sets the folders' modes and times by
 * path: from inside the staging folder, or, if that cannot be entered, not
 * at all.
 */
static void
backup_disk_free(struct backup_run *run)
{
	if (run->disk == NULL)
		return;
	if (backup_enter(run) != 0)
		archive_write_fail(run->disk);
	archive_write_free(run->disk);
	run->disk = NULL;
	(void)backup_leave(run);
}

static void
backup_run_free(struct backup_run *run)
{
	size_t i;

	backup_disk_free(run);
	if (run->reader != NULL)
		archive_read_free(run->reader);
	if (run->in != NULL) {
		close(run->in->fd);
		if (run->in->spool_fd >= 0)
			close(run->in->spool_fd);
		EVP_CIPHER_CTX_free(run->in->cipher);
		hasher_free(run->in->hasher);
		/* What was read into it: a small backup leaves most pages untouched. */
		for (i = 0; i < BACKUP_RING; i++)
			OPENSSL_cleanse(run->in->ring + i * BACKUP_BLOCK, run->in->ring_used[i]);
		free(run->in->ring);
		if (run->in->plain != NULL) {
			OPENSSL_cleanse(run->in->plain, BACKUP_BLOCK + EVP_MAX_BLOCK_LENGTH);
			free(run->in->plain);
		}
		free(run->in);
	}
	backup_walk_free(run->walk);
	hasher_free(run->hasher);
	if (run->flush_fd >= 0)
		close(run->flush_fd);
	if (run->staging_fd >= 0)
		close(run->staging_fd);
	if (run->cwd_fd >= 0)
		close(run->cwd_fd);
	backup_recs_free(&run->recs);
	digest_free(run->file_digest);
	free(run->manifest_cause);
	free(run->mline);
	free(run->current);
	free(run->shown);
	free(run->shown_source);
	free(run->cause);
}

int
backup_validate(const struct backup_options *opt, const struct progress *progress,
    struct backup_result *result, char **cause)
{
	struct backup_run run;
	int ret = 0;

	memset(result, 0, sizeof *result);
	backup_run_init(&run, opt, progress);
	if (backup_pass(&run) != 0 || backup_conclude(&run, result) != 0) {
		backup_result_free(result);
		*cause = run.cause;
		run.cause = NULL;
		ret = -1;
	}
	backup_run_free(&run);
	return ret;
}

static int
backup_staging_create(struct backup_run *run, int parent_fd, const char *name, int *created)
{
	char *shown;

	run->parent_fd = parent_fd;
	if (fault_fail("mkdir") != 0 || mkdirat(parent_fd, name, S_IRWXU) != 0) {
		shown = backup_shown(name);
		backup_error(run, _("Cannot create the staging folder %1$s: %2$s."), shown,
		    strerror(errno));
		free(shown);
		return -1;
	}
	*created = 1;
	run->staging_fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (run->staging_fd < 0 || fstat(run->staging_fd, &run->staging_st) != 0)
		return backup_error(run, _("Cannot open the staging folder: %s."), strerror(errno));
#ifdef O_PATH
	run->cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
#else
	run->cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#endif
	if (run->cwd_fd < 0)
		return backup_error(run, _("Cannot open the current folder: %s."), strerror(errno));
	return 0;
}

/* The cause of a failed staging, saying what became of the staging folder. */
static char *
backup_stage_cause(struct backup_run *run, int parent_fd, const char *name, int created)
{
	char *shown, *cause;

	if (!created)
		/* TRANSLATORS: %s is a complete sentence saying what went wrong. */
		return xasprintf(_("%s Nothing was changed."), run->cause);
	if (backup_remove_tree(parent_fd, name) == 0)
		/* TRANSLATORS: %s is a complete sentence saying what went wrong. */
		return xasprintf(_("%s The staging folder was removed; nothing else was changed."),
		    run->cause);
	shown = backup_shown(name);
	/* TRANSLATORS: %1$s says what went wrong, %2$s is a folder, %3$s the system's error. */
	cause = xasprintf(_("%1$s The staging folder %2$s could not be removed (%3$s); nothing "
			    "else was changed."),
	    run->cause, shown, strerror(errno));
	free(shown);
	return cause;
}

int
backup_stage(const struct backup_options *opt, int parent_fd, const char *staged_name,
    const struct progress *progress, struct backup_result *result, char **cause)
{
	struct backup_run run;
	int ret = -1, created = 0, r;

	memset(result, 0, sizeof *result);
	backup_run_init(&run, opt, progress);
	if (backup_staging_create(&run, parent_fd, staged_name, &created) != 0)
		goto out;
	run.writeback = writeback_start(run.staging_fd);
	r = backup_pass(&run);
	writeback_stop(run.writeback);
	run.writeback = NULL;
	if (r != 0 || backup_conclude(&run, result) != 0 || backup_staging_sync(&run) != 0)
		goto out;
	ret = 0;
out:
	(void)backup_leave(&run);
	if (ret != 0) {
		backup_disk_free(&run);
		backup_result_free(result);
		if (run.cause == NULL)
			run.cause = xstrdup(_("The backup could not be staged."));
		if (run.staging_fd >= 0) {
			close(run.staging_fd);
			run.staging_fd = -1;
		}
		*cause = backup_stage_cause(&run, parent_fd, staged_name, created);
	}
	backup_run_free(&run);
	return ret;
}
