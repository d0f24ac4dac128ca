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

/* A password line's longest, typed, in a file or on a startup disk. */
#define SECRET_LINE_MAX 1024

/* size bytes (zeroed) of secure memory, or of ordinary memory when that is full. Never NULL. */
char *secret_alloc(size_t size);
/* Wipes and frees what secret_alloc gave. NULL is fine. */
void secret_release(char *p, size_t size);
/* The secret and a newline in new secure memory (*len without the NUL): for a reader of stdin. */
char *secret_line(const struct secret *s, size_t *len);
/* Blanks and line ends, as the password's reader trims them. */
int secret_is_space(char c);
/* One byte of fd: 1, 0 at its end, -1 on an error (EINTR retried). */
int secret_read_byte(int fd, char *c);

#endif
