/*
 * The password handed to other programs: the profile's verifier, and the
 * file hand-offs a service reads at its start. Used by service.c and the
 * procedure.
 */
#ifndef KMSRECOVER_HANDOFF_H
#define KMSRECOVER_HANDOFF_H

#include "profile.h"
#include "secret.h"

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
