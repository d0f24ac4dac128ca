/*
 * The startup disk (KMSPWD.INI): found on removable media or at a path,
 * and read into secure memory. Used by the procedure's step P and tasks.
 */
#ifndef KMSRECOVER_STARTUP_DISK_H
#define KMSRECOVER_STARTUP_DISK_H

#include "secret.h"

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

#endif
