/*
 * The alpha string and backup passphrases. They live in OpenSSL's secure
 * heap (locked, never swapped, excluded from core dumps), are wiped with
 * OPENSSL_cleanse when freed, and are never put on a command line, in the
 * environment, a log or on screen (DESIGN.md, rule 6).
 */
#ifndef KMSRECOVER_SECRET_H
#define KMSRECOVER_SECRET_H

#include <stddef.h>

#include "profile.h"

struct secret {
	char *data; /* secure heap, NUL-terminated */
	size_t len;
};

/*
 * Once at start: PR_SET_DUMPABLE 0, RLIMIT_CORE 0, the secure heap. Returns
 * 0, or -1 with *warning (translated) when the secure heap could not be had;
 * the program goes on with the ordinary heap and says so in the transcript.
 */
int secret_init_process(char **warning);

/* A secret holding a copy of len bytes of buf. Never NULL. */
struct secret *secret_new(const char *buf, size_t len);
/* Wipes and frees. NULL is fine. */
void secret_free(struct secret *s);

/*
 * Makes a typed or read alpha string what the KM Server expects: trims
 * blanks and line ends; with SECRET_CASE_UPPER folds a-z to A-Z and accepts
 * only 14 or 15 letters A-Z; with SECRET_CASE_EXACT accepts any non-empty
 * string without control characters. Returns 0, or -1 with *cause
 * (translated, never quoting the secret).
 */
int secret_normalize_alpha(struct secret *s, enum secret_case c, char **cause);

/*
 * Reads the first line of path ("-" = standard input) into a secret, without
 * stdio buffering copies. Returns 0 or -1 with *cause naming the file.
 */
int secret_read_file(const char *path, struct secret **out, char **cause);

/*
 * Reads the password from a startup disk: path is the KMSPWD.INI file itself
 * or a folder holding it (the name from the profile, matched without regard
 * to case); path NULL searches removable media under /media, /run/media and
 * /mnt (two levels deep). The file is INI: "[config]" then "pwd=...";
 * blanks, CRLF and a UTF-8 BOM are tolerated. Returns 0 with *out and
 * *found (the file used), or -1 with *cause naming the file and line.
 */
int secret_from_startup_disk(const char *path, const char *name, struct secret **out,
    char **found, char **cause);

/*
 * Runs the profile's verifier with "%d" = dir and the secret plus a newline
 * on its standard input. Returns 1 when it exits 0 (the password unlocks
 * the tree), 0 when it exits otherwise (refused; *output has its words), -1
 * with *cause when it could not be run or timed out.
 */
int secret_verify(const struct profile *p, const struct secret *s, const char *dir,
    char **output, char **cause);

/*
 * The file hand-offs (credential, file:PATH): writes the secret to the path
 * the profile implies (0400 in a 0700 folder for credentials, 0600 for
 * file:), returns 0 with *path set (to remove later with
 * secret_handoff_remove), or -1 with *cause. For HANDOFF_STDIN nothing is
 * written and *path is NULL.
 */
int secret_handoff_write(const struct profile *p, const struct secret *s, char **path, char **cause);
/* Overwrites and unlinks a hand-off file. NULL is fine. */
void secret_handoff_remove(const char *path);

#endif
