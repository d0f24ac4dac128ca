/*
 * Display width of UTF-8 text, for every frontend: how many terminal
 * columns a string takes (wcwidth, so double-width CJK counts 2 and
 * combining marks 0), cutting a string to a number of columns without
 * splitting a glyph, word-wrapping a paragraph, and making untrusted text
 * (file names, a service's output) safe to put on a terminal.
 *
 * Strings are decoded as UTF-8 whatever the locale; the widths come from
 * the locale's wcwidth, so setlocale(LC_CTYPE, "") must have been called.
 * A byte that is not valid UTF-8 and a character wcwidth calls unprintable
 * count one column each: run such text through width_escape() first.
 */
#ifndef KMSRECOVER_WIDTH_H
#define KMSRECOVER_WIDTH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes the UTF-8 character at s (n > 0 bytes available) into *cp and
 * returns its length; a byte that does not start a valid sequence gives
 * U+FFFD and length 1.
 */
size_t width_decode_char(const char *s, size_t n, uint32_t *cp);

/* Columns taken by the NUL-terminated s, or by its first len bytes. */
size_t width_of(const char *s);
size_t width_of_n(const char *s, size_t len);

/*
 * The number of bytes of s that fit in cols columns, ending on a glyph
 * boundary (a base character and the zero-width marks after it stay
 * together). *used (may be NULL) is set to the columns those bytes take.
 */
size_t width_fit(const char *s, size_t cols, size_t *used);

/* "…" in a UTF-8 locale, "..." otherwise. */
const char *width_ellipsis(void);

/*
 * A new string: s itself when it fits in cols columns, otherwise as much
 * of s as fits with the ellipsis after it, in cols columns at most.
 */
char *width_truncate(const char *s, size_t cols);

/*
 * Word-wraps s into lines of at most cols columns (cols 0 is taken as 1).
 * Lines break at blanks, before and after double-width characters, after
 * a '/' (paths), and at each '\n' (so "\n\n" leaves an empty line); a word longer than a line is
 * split between glyphs. Blanks at a break are dropped. Returns a new
 * NULL-terminated vector (free with xfree_argv) and sets *nlines (may be
 * NULL). An empty s gives one empty line.
 */
char **width_wrap(const char *s, size_t cols, size_t *nlines);

/*
 * As width_wrap, for text that is copied and searched rather than boxed
 * (the line-mode frontends): a word is never split, so a word holding a
 * '/' (a path) stays whole on one line, and a word longer than a line
 * overflows it. Lines still break at blanks and between wide glyphs
 * outside paths.
 */
char **width_wrap_whole(const char *s, size_t cols, size_t *nlines);

/*
 * A new string safe to show: control characters (C0, DEL, C1), the bidi
 * controls that reorder text, and bytes that are not UTF-8 are written as
 * \xNN or \u{NNNN}. With WIDTH_KEEP_NEWLINES a '\n' stays; with
 * WIDTH_EXPAND_TABS a tab becomes blanks up to the next multiple of 8
 * columns (otherwise both are escaped like the other controls).
 */
#define WIDTH_KEEP_NEWLINES 0x1
#define WIDTH_EXPAND_TABS 0x2
char *width_escape(const char *s, int flags);

#endif
