/*
 * Making the backup the KB's recovery needs (kmsrecover backup): Kmsdata
 * archived (pax + zstd by default, the format from the file's extension
 * otherwise) with MANIFEST.sha256 and BACKUP.INFO at its root, optionally
 * encrypted in the `openssl enc -aes-256-cbc -pbkdf2` format, in which case
 * an HMAC-SHA256 of the encrypted file, under a key derived separately
 * from the passphrase, is written beside it as FILE.hmac so that tampering
 * can be detected (`openssl enc -d` still opens the file by hand).
 */
#ifndef KMSRECOVER_MKBACKUP_H
#define KMSRECOVER_MKBACKUP_H

#include <stdint.h>

#include "progress.h"

struct secret;

struct mkbackup_options {
	int kmsdata_fd;                  /* the Kmsdata folder, opened O_DIRECTORY */
	const char *output;              /* where the archive is written (by its exact name) */
	const char *final_name;          /* the name it will have: its extension picks the format */
	const struct secret *passphrase; /* NULL: not encrypted */
	int iterations;                  /* PBKDF2 iterations for encryption */
	const char *info;                /* BACKUP.INFO's text (host, service, time, tool) */
};

struct mkbackup_result {
	uint64_t files, bytes;
	char sha256[65]; /* of the file as written */
};

/*
 * Writes the archive to opt->output, which must not exist (O_EXCL).
 * Returns 0, or -1 with *cause; on failure the partial file is removed.
 * The caller writes to a temporary name and renames once it is verified.
 */
int mkbackup_write(const struct mkbackup_options *opt, const struct progress *progress,
    struct mkbackup_result *result, char **cause);

/*
 * NULL when the archive's name says a format kmsrecover writes (its
 * extension, an ".enc" after it allowed), else the list of those it
 * writes, for the message (to be freed).
 */
char *mkbackup_name_refused(const char *output);

#endif
