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
 * Once at start: PR_SET_DUMPABLE 0, RLIMIT_CORE 0, the secure heap (64 KiB,
 * unless already set up). Returns 0, or -1 with *warning (translated, to be
 * freed) when the secure heap could not be had or locked, or core dumps not
 * turned off; the program goes on (secrets then in the ordinary heap, still
 * wiped) and says so in the transcript.
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
 * to case; NULL means "KMSPWD.INI"); path NULL searches removable media:
 * each folder of KMSRECOVER_MEDIA_ROOTS (a colon-separated list, for the
 * tests; default "/media:/run/media:/mnt") and its subfolders two levels
 * down, in name order, the first match winning. The file is INI: "[config]"
 * then "pwd=..." (section and key without regard to case); blanks, CRLF,
 * ; comments and a UTF-8 BOM are tolerated; at most 64 KiB. It is read a
 * byte at a time into secure memory; anything but a regular file (a FIFO,
 * a device) is refused. Returns 0 with *out and *found (the
 * file used, to be freed), or -1 with *cause naming the file and line.
 */
int secret_from_startup_disk(const char *path, const char *name, struct secret **out, char **found,
    char **cause);

/*
 * Runs the profile's verifier with "%d" = dir and the secret plus a newline
 * on its standard input, within the profile's timeout. Returns 1 when it
 * exits 0 (the password unlocks the tree), 0 when it exits otherwise
 * (refused; *output has its words, to be freed), -1 with *cause when there
 * is no verifier, or it could not be run, timed out or was killed. *output
 * is NULL except on 0.
 */
int secret_verify(const struct profile *p, const struct secret *s, const char *dir, char **output,
    char **cause);

/*
 * The file hand-offs (credential, file:PATH): writes the secret and a
 * newline to the path the profile implies, created afresh (a stale file or
 * a symlink there is removed first, never followed) and fsynced:
 * credential: "<service name>.alpha", 0400, in the folder named by
 * KMSRECOVER_CREDSTORE (for the tests; default /run/credstore), made 0700;
 * file:PATH: PATH, 0600. Returns 0 with *path set (to remove later with
 * secret_handoff_remove, then free), or -1 with *cause and no file left.
 * For HANDOFF_STDIN nothing is written and *path is NULL.
 */
int secret_handoff_write(const struct profile *p, const struct secret *s, char **path,
    char **cause);
/* Overwrites and unlinks a hand-off file. NULL is fine. */
void secret_handoff_remove(const char *path);

#endif
