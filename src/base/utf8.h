/*
 * UTF-8 for every layer: one decoder, and the escaping of a name (a path
 * from a backup, a file the operator typed) for the screen and the logs, so
 * that a name is shown the same everywhere.
 */
#ifndef KMSRECOVER_UTF8_H
#define KMSRECOVER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The valid UTF-8 sequence at s (at most len bytes): its length (1 to 4)
 * with its code point in *cp, or 0 when it is not one (a stray byte, an
 * overlong form, a surrogate, past U+10FFFF, cut short).
 */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);

/*
 * Escapes a name for display and logs: control characters (C0, DEL, and
 * C1 as UTF-8), bidirectional controls, line separators and invalid UTF-8
 * bytes as \xHH, a backslash as \\; printable UTF-8 is kept. NULL gives "".
 * Never returns NULL.
 */
char *utf8_escape(const char *name);

#endif
