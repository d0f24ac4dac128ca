/*
 * Backup sources: any archive libarchive reads (tar, pax, cpio, zip, 7z,
 * ISO; gzip, bzip2, xz, zstd, lz4), the same wrapped in openssl enc
 * -aes-256-cbc -pbkdf2 ("Salted__"), or a plain directory. The backup is
 * read exactly once: each entry is checked, written into the staging folder
 * and hashed in the same pass, and the whole is compared with
 * MANIFEST.sha256 at the end (DESIGN.md, step P).
 */
#ifndef KMSRECOVER_BACKUP_H
#define KMSRECOVER_BACKUP_H

#include <stdint.h>

#include <openssl/types.h>

#include "digest.h"
#include "progress.h"

struct secret;

enum backup_kind { BACKUP_DIRECTORY, BACKUP_ARCHIVE, BACKUP_ENCRYPTED };

/*
 * Looks at source without reading it through: a directory, an archive, or
 * an openssl enc file (starts with "Salted__", so a passphrase is needed).
 * Returns 0 with *kind, or -1 with *cause (missing, unreadable, not a
 * regular file or directory).
 */
int backup_probe(const char *source, enum backup_kind *kind, char **cause);

struct backup_options {
	const char *source;              /* archive file or directory */
	const struct secret *passphrase; /* for BACKUP_ENCRYPTED, else NULL */
	int iterations;                  /* PBKDF2 iterations (profile, default 10000) */
	uint64_t free_space;             /* bytes free beside Kmsdata; 0 = do not check */
	/*
	 * A file the tree to restore must hold (a path inside it, compared
	 * without regard to case: the key database), or NULL or "" for none.
	 * A backup without it is refused, saying what it holds instead.
	 */
	const char *expect;
};

struct backup_result {
	uint64_t files;      /* regular files staged (payload, manifest excluded) */
	uint64_t bytes;      /* their bytes */
	uint64_t bytes_read; /* bytes read from the source (the archive as stored) */
	/* SHA-256 of the source file as stored; "" for a directory */
	char sha256[DIGEST_HEX_LEN + 1];
	int manifest_found;
	uint64_t manifest_entries;
	int hmac_matched; /* an encrypted source's FILE.hmac was checked and matched */
	/*
	 * The tree to restore, relative to the staging folder: "" or the one top
	 * folder, when it is named Kmsdata in any case ("Kmsdata"). The manifest's
	 * paths stay relative to the archive's root ("Kmsdata/Kmsmdb.edb").
	 */
	char *payload;
	char **warnings; /* NULL-terminated, translated (e.g. no manifest); may be NULL */
};

/*
 * Reads the backup once into a new folder staged_name under parent_fd
 * (created 0700; must not exist). Refuses, naming the entry: paths with
 * "..", absolute paths, any symbolic link (a Kmsdata folder has none),
 * hard links to outside or to a file not extracted before them, device
 * nodes, FIFOs, sockets, set-id and sticky bits, an entry through a file,
 * an entry replacing a directory with a file or the reverse, duplicates,
 * paths longer than PATH_MAX or more than 64 folders deep, a manifest
 * mismatch, a file missing from the manifest or a listed file missing from
 * the backup, a backup with no file, more bytes than free_space (checked
 * on each entry's declared size before it is written). Names in causes are
 * escaped (no control characters reach a terminal or a log). Files are
 * fsynced (syncfs where there is one), then the folders. MANIFEST.sha256
 * (and BACKUP.INFO, checked if listed) at the archive's root are read but
 * not written to the tree. The cwd is the staging folder while libarchive
 * writes, and is restored before every return and every progress call.
 * Returns 0 with *result filled (backup_result_free after), or -1 with
 * *cause (saying what failed and that nothing else was changed) and
 * nothing to free; on failure the staging folder is removed again.
 */
int backup_stage(const struct backup_options *opt, int parent_fd, const char *staged_name,
    const struct progress *progress, struct backup_result *result, char **cause);

/*
 * An encrypted source with FILE.hmac beside it (see mkbackup.h) is also
 * authenticated in the same read: the HMAC of the file as stored is
 * computed as it is read and compared, in constant time, once the archive
 * has ended and before the manifest or anything else is accepted. A
 * mismatch, an unreadable or malformed side file, or a file that cannot be
 * read to its end fails the staging (the file is then read to its end, so
 * that a failure caused by an altered file is told as one). Without a side
 * file (an openssl enc file made by hand) the backup is accepted with a
 * warning in result->warnings.
 */

/*
 * The same checks without writing anything (kmsrecover verify): the backup
 * read through, hashed, authenticated, compared with the manifest.
 */
int backup_validate(const struct backup_options *opt, const struct progress *progress,
    struct backup_result *result, char **cause);

void backup_result_free(struct backup_result *result);

/*
 * The HMAC side file, shared with the writer (mkbackup.c):
 * "kmsrecover-hmac-sha256 1 ITERATIONS\nHEX\n", HEX the HMAC-SHA256 of the
 * encrypted file as stored, under a key derived from the passphrase by
 * PBKDF2-HMAC-SHA256 over the file's salt and a label (so that it is not
 * the encryption key) with ITERATIONS rounds.
 */
#define BACKUP_HMAC_LEN 32

/* The HMAC side file's name for an archive path ("FILE.hmac"), newly allocated. */
char *backup_hmac_path(const char *archive_path);

/* The side file's key for the file's 8-byte salt. 0, or -1. */
int backup_hmac_key(const struct secret *passphrase, const unsigned char *salt, int iterations,
    unsigned char key[BACKUP_HMAC_LEN]);

/* A new HMAC-SHA256 under key (EVP_MAC_CTX_free after), or NULL. */
EVP_MAC_CTX *backup_hmac_new(const unsigned char key[BACKUP_HMAC_LEN]);

/*
 * Parses the side file's text (NUL-terminated). The iteration count is
 * bounded, so a planted side file cannot ask for a PBKDF2 that never ends.
 * Returns 0 with *iterations and mac, or -1.
 */
int backup_hmac_parse(const char *text, int *iterations, unsigned char mac[BACKUP_HMAC_LEN]);

#endif
