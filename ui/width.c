/*
 * Display width of UTF-8 text (see width.h). Every frontend measures with
 * these, so a line never runs past the edge of a terminal or a box, and a
 * double-width character or an accented letter is never cut in half.
 *
 * The text is decoded here rather than with mbrtowc so that the layout is
 * the same whatever the locale's charset; only the widths come from
 * wcwidth. A "glyph" is a character and the zero-width marks that follow.
 */
#include "config.h"

#include <langinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "utf8.h"
#include "width.h"
#include "xmalloc.h"

/* One decoded glyph. */
struct width_glyph {
	size_t len;  /* bytes, with the zero-width marks after it */
	size_t cols; /* columns */
	uint32_t cp; /* the base character (0xfffd for an invalid byte) */
	int blank;   /* a space or a tab: a line may break here */
	int wide;    /* double width: a line may break before and after */
};

/* Decodes one UTF-8 character; returns its length (1 for an invalid byte: U+FFFD). */
static size_t
width_decode(const unsigned char *s, size_t n, uint32_t *cp, int *valid)
{
	size_t len = utf8_decode(s, n, cp);

	*valid = len > 0;
	if (len > 0)
		return len;
	*cp = 0xfffd;
	return 1;
}

size_t
width_decode_char(const char *s, size_t n, uint32_t *cp)
{
	int valid;

	return width_decode((const unsigned char *)s, n, cp, &valid);
}

/* Columns of one character: unprintable and invalid count one. */
static int
width_char(uint32_t cp, int valid)
{
	int w;

	if (!valid)
		return 1;
	w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : w;
}

/* Reads the glyph at s (n > 0 bytes left). */
static void
width_next(const char *s, size_t n, struct width_glyph *g)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	int valid;
	size_t len;

	len = width_decode(u, n, &g->cp, &valid);
	g->cols = (size_t)width_char(g->cp, valid);
	g->blank = valid && (g->cp == ' ' || g->cp == '\t');
	g->wide = g->cols == 2;
	/* Zero-width marks ride with the character before them. */
	while (len < n && u[len] != '\0' && u[len] != '\n') {
		size_t l = width_decode(u + len, n - len, &cp, &valid);

		if (!valid || cp < 0x20 || wcwidth((wchar_t)cp) != 0)
			break;
		len += l;
	}
	g->len = len;
}

size_t
width_of_n(const char *s, size_t len)
{
	struct width_glyph g;
	size_t off = 0, cols = 0;

	while (off < len && s[off] != '\0') {
		width_next(s + off, len - off, &g);
		cols += g.cols;
		off += g.len;
	}
	return cols;
}

size_t
width_of(const char *s)
{
	return width_of_n(s, strlen(s));
}

size_t
width_fit(const char *s, size_t cols, size_t *used)
{
	struct width_glyph g;
	size_t off = 0, w = 0, n = strlen(s);

	while (off < n) {
		width_next(s + off, n - off, &g);
		if (w + g.cols > cols)
			break;
		w += g.cols;
		off += g.len;
	}
	if (used != NULL)
		*used = w;
	return off;
}

const char *
width_ellipsis(void)
{
	const char *codeset = nl_langinfo(CODESET);

	if (codeset != NULL && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0))
		return "\xe2\x80\xa6";
	return "...";
}

char *
width_truncate(const char *s, size_t cols)
{
	const char *ell = width_ellipsis();
	size_t ellw = width_of(ell), keep;
	char *out;

	if (width_of(s) <= cols)
		return xstrdup(s);
	if (cols < ellw)
		return xstrndup("...", cols);
	keep = width_fit(s, cols - ellw, NULL);
	out = xasprintf("%.*s%s", (int)keep, s, ell);
	return out;
}

/* Growing vector of lines for width_wrap. */
struct width_lines {
	char **v;
	size_t n, cap;
};

/* Adds s[start..end) to the lines, without the blanks at its end. */
static void
width_emit(struct width_lines *l, const char *s, size_t start, size_t end)
{
	while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	if (l->n + 2 > l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = xstrndup(s + start, end - start);
	l->v[l->n] = NULL;
}

/* Skips the blanks at s[off..end). */
static size_t
width_skip_blanks(const char *s, size_t off, size_t end)
{
	while (off < end && (s[off] == ' ' || s[off] == '\t'))
		off++;
	return off;
}

/* Whether cp is one of the n code points in cps. */
static int
width_listed(const uint32_t *cps, size_t n, uint32_t cp)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cps[i] == cp)
			return 1;
	return 0;
}

/*
 * Line breaking in CJK text (kinsoku): a line does not start with closing
 * punctuation, a small kana or the prolonged sound mark, and does not end
 * with an opening bracket, so "「元の」" is never cut before its "」".
 */
static int
width_no_line_start(uint32_t cp)
{
	/* clang-format off */
	static const uint32_t cps[] = {
		0x3001, 0x3002, 0x3005, 0x3009, 0x300b, 0x300d, 0x300f, 0x3011, 0x3015,
		0x3041, 0x3043, 0x3045, 0x3047, 0x3049, 0x3063, 0x3083, 0x3085, 0x3087, 0x308e,
		0x30a1, 0x30a3, 0x30a5, 0x30a7, 0x30a9, 0x30c3, 0x30e3, 0x30e5, 0x30e7, 0x30ee,
		0x30f5, 0x30f6, 0x30fb, 0x30fc, 0xff01, 0xff09, 0xff0c, 0xff0e, 0xff1a, 0xff1b,
		0xff1f, 0xff3d, 0xff5d, ')', ']', '}', ',', '.', ':', ';', '!', '?',
	};
	/* clang-format on */

	return width_listed(cps, sizeof cps / sizeof cps[0], cp);
}

static int
width_no_line_end(uint32_t cp)
{
	/* clang-format off */
	static const uint32_t cps[] = {
		0x3008, 0x300a, 0x300c, 0x300e, 0x3010, 0x3014, 0xff08, 0xff3b, 0xff5b, '(', '[', '{',
	};
	/* clang-format on */

	return width_listed(cps, sizeof cps / sizeof cps[0], cp);
}

/* Whether a line may break between the characters before and after (0: the end). */
static int
width_may_break(uint32_t before, uint32_t after)
{
	return !width_no_line_end(before) && (after == 0 || !width_no_line_start(after));
}

/* The character at s[q..end), or 0 at the end. */
static uint32_t
width_peek(const char *s, size_t q, size_t end)
{
	struct width_glyph g;

	if (q >= end)
		return 0;
	width_next(s + q, end - q, &g);
	return g.cp;
}

/* Whether the word at s[q..end) (up to the next blank) holds a '/': a path, kept whole. */
static int
width_word_is_path(const char *s, size_t q, size_t end)
{
	while (q < end && s[q] != ' ' && s[q] != '\t') {
		if (s[q] == '/')
			return 1;
		q++;
	}
	return 0;
}

/*
 * Wraps the line s[start..end) (no '\n' in it). brk is where the line may
 * end at the latest break opportunity and res where the next then starts;
 * brk <= start means there is none. With whole, a word is never split
 * (a path not even before a wide glyph) and one longer than cols overflows.
 */
static void
width_wrap_line(struct width_lines *l, const char *s, size_t start, size_t end, size_t cols,
    int whole)
{
	struct width_glyph g;
	size_t q = start, w = 0, brk = 0, res = 0;
	uint32_t prev = ' ';
	int first = 1, path = 0;

	while (q < end) {
		width_next(s + q, end - q, &g);
		if (whole && !g.blank && (prev == ' ' || prev == '\t'))
			path = width_word_is_path(s, q, end);
		if (g.wide && q > start && !path && width_may_break(prev, g.cp)) {
			brk = q;
			res = q;
		}
		if (w + g.cols > cols && q > start && (g.blank || brk > start || !whole)) {
			if (g.blank) {
				width_emit(l, s, start, q);
				start = q = width_skip_blanks(s, q, end);
			} else if (brk > start) {
				width_emit(l, s, start, brk);
				start = width_skip_blanks(s, res, end);
				q = start;
			} else {
				width_emit(l, s, start, q);
				start = q;
			}
			w = 0;
			brk = 0;
			first = 0;
			prev = ' ';
			continue;
		}
		if (g.blank && !first && q == start) {
			start = q = width_skip_blanks(s, q, end);
			continue;
		}
		w += g.cols;
		q += g.len;
		prev = g.cp;
		/* Blanks, wide glyphs, and (unless whole) a path's slashes are where lines may break. */
		if (g.blank) {
			brk = q - g.len;
			res = q;
		} else if (((g.wide && !path) || (g.cp == '/' && !whole)) &&
		    width_may_break(g.cp, width_peek(s, q, end))) {
			brk = q;
			res = q;
		}
	}
	width_emit(l, s, start, end);
}

static char **
width_wrap_lines(const char *s, size_t cols, size_t *nlines, int whole)
{
	struct width_lines l = { NULL, 0, 0 };
	const char *nl;
	size_t start = 0, end, len = strlen(s);

	if (cols == 0)
		cols = 1;
	for (;;) {
		nl = memchr(s + start, '\n', len - start);
		end = nl == NULL ? len : (size_t)(nl - s);
		width_wrap_line(&l, s, start, end, cols, whole);
		if (nl == NULL)
			break;
		start = end + 1;
	}
	if (nlines != NULL)
		*nlines = l.n;
	return l.v;
}

char **
width_wrap(const char *s, size_t cols, size_t *nlines)
{
	return width_wrap_lines(s, cols, nlines, 0);
}

char **
width_wrap_whole(const char *s, size_t cols, size_t *nlines)
{
	return width_wrap_lines(s, cols, nlines, 1);
}

/* A growing string for width_escape. */
struct width_buf {
	char *s;
	size_t len, cap;
};

static void
width_buf_add(struct width_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap == 0 ? 64 : b->cap * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Whether cp must be escaped: controls and the bidi overrides and isolates. */
static int
width_is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
	    cp == 0x200f || cp == 0x061c;
}

/* Appends the escaped form of one character or invalid byte. */
static void
width_escape_one(struct width_buf *b, const unsigned char *p, uint32_t cp, int valid)
{
	char tmp[16];
	int n;

	if (!valid)
		n = snprintf(tmp, sizeof tmp, "\\x%02x", p[0]);
	else if (cp < 0x100)
		n = snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)cp);
	else
		n = snprintf(tmp, sizeof tmp, "\\u{%04x}", (unsigned)cp);
	if (n > 0 && (size_t)n < sizeof tmp)
		width_buf_add(b, tmp, (size_t)n);
}

char *
width_escape(const char *s, int flags)
{
	struct width_buf b = { NULL, 0, 0 };
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), off = 0, len, col = 0;
	uint32_t cp;
	int valid;

	width_buf_add(&b, "", 0);
	while (off < n) {
		len = width_decode(p + off, n - off, &cp, &valid);
		if (valid && cp == '\n' && (flags & WIDTH_KEEP_NEWLINES)) {
			width_buf_add(&b, "\n", 1);
			col = 0;
		} else if (valid && cp == '\t' && (flags & WIDTH_EXPAND_TABS)) {
			do
				width_buf_add(&b, " ", 1);
			while (++col % 8 != 0);
		} else if (!valid || width_is_control(cp)) {
			width_escape_one(&b, p + off, cp, valid);
			col += 4;
		} else {
			width_buf_add(&b, s + off, len);
			col += (size_t)width_char(cp, 1);
		}
		off += len;
	}
	return b.s;
}
