/*
 * MANIFEST.sha256, the backup's manifest in sha256sum format (DESIGN.md,
 * "Manifest"): "<hex>  <path>" lines, paths relative to the archive's
 * root, a leading "./" ignored on either side.
 */
#ifndef KMSRECOVER_MANIFEST_H
#define KMSRECOVER_MANIFEST_H

#include <stddef.h>

#include "digest.h"

/*
 * A parsed manifest. Paths are normalised: "." components dropped (a
 * leading "./" above all), runs of "/" and a trailing "/" folded away.
 * Lookups are exact (case-sensitive), as sha256sum -c is.
 */
struct manifest;

/*
 * Parses len bytes of sha256sum output ("<64 hex>  <path>" or
 * "<64 hex> *<path>", one per line; blank lines ignored; CRLF tolerated).
 * Returns 0 with *out, or -1 with *cause naming the line (translated;
 * the caller adds the file name). Duplicate paths are an error.
 */
int manifest_parse(const char *buf, size_t len, struct manifest **out, char **cause);
void manifest_free(struct manifest *m);
size_t manifest_count(const struct manifest *m);

/*
 * Checks one file's digest against the manifest and marks the path seen.
 * Returns 1 match, 0 mismatch, -1 the path is not in the manifest.
 */
int manifest_check(struct manifest *m, const char *path, const unsigned char digest[DIGEST_LEN]);

/* The first path listed but never checked, or NULL when every one was. */
const char *manifest_first_unseen(const struct manifest *m);
/* How many paths were listed but never checked. */
size_t manifest_unseen_count(const struct manifest *m);

/* Normalises a path as the manifest does, into a new string. */
char *manifest_normalize_path(const char *path);

/*
 * Parses one line of sha256sum output without its line end (a CR before it
 * is dropped): 0 for a blank line, 1 with *path (normalised, to be freed)
 * and digest, or -1 with *cause naming the line by its number. manifest.c
 * reads a backup's manifest with it a line at a time, as it streams by.
 */
int manifest_parse_line(const char *s, size_t len, size_t line, char **path,
    unsigned char digest[DIGEST_LEN], char **cause);

#endif
