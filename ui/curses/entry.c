/*
 * A line of text (a path) and a masked secret (the alpha string, a backup
 * passphrase). Both edit wide characters and measure them with wcwidth, so
 * a field scrolls sideways by display width.
 *
 * A secret's characters live only in OpenSSL's secure heap (locked, out of
 * core dumps) and are wiped with OPENSSL_cleanse when changed or freed;
 * they leave it only as a struct secret (secret_new), through a secure
 * buffer wiped at once. Masked, the field shows a fixed row of '*' once
 * anything is typed, so the screen does not tell the length, and the
 * cursor stays at its end: only typing, Backspace and Ctrl-U make sense
 * there. Shown (the reveal toggle), it edits like any field.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <openssl/crypto.h>

#include "secret.h"
#include "width.h"
#include "wizard.h"
#include "xmalloc.h"

#define CURSES_MASK "********"

struct curses_entry {
	wchar_t *buf; /* cap + 1 characters; secure heap for a secret */
	size_t cap;
	size_t len;
	size_t cursor;
	size_t scroll; /* first character shown */
	int secret;
};

struct curses_entry *
curses_entry_new(size_t cap, int secret)
{
	struct curses_entry *e = xcalloc(1, sizeof *e);
	size_t bytes = (cap + 1) * sizeof *e->buf;

	e->cap = cap;
	e->secret = secret;
	e->buf = secret ? OPENSSL_secure_zalloc(bytes) : xcalloc(cap + 1, sizeof *e->buf);
	if (e->buf == NULL)
		abort();
	return e;
}

void
curses_entry_free(struct curses_entry *e)
{
	size_t bytes;

	if (e == NULL)
		return;
	bytes = (e->cap + 1) * sizeof *e->buf;
	if (e->secret)
		OPENSSL_secure_clear_free(e->buf, bytes);
	else
		free(e->buf);
	free(e);
}

void
curses_entry_clear(struct curses_entry *e)
{
	OPENSSL_cleanse(e->buf, (e->cap + 1) * sizeof *e->buf);
	e->len = e->cursor = e->scroll = 0;
}

size_t
curses_entry_length(const struct curses_entry *e)
{
	return e->len;
}

/* Inserts one character at the cursor; controls and unprintables are refused. */
static int
curses_entry_insert(struct curses_entry *e, wchar_t c)
{
	if (e->len >= e->cap || wcwidth(c) < 0)
		return 0;
	wmemmove(e->buf + e->cursor + 1, e->buf + e->cursor, e->len - e->cursor);
	e->buf[e->cursor++] = c;
	e->buf[++e->len] = L'\0';
	return 1;
}

void
curses_entry_set(struct curses_entry *e, const char *utf8)
{
	size_t off = 0, n = strlen(utf8);
	uint32_t cp;

	curses_entry_clear(e);
	while (off < n) {
		off += width_decode_char(utf8 + off, n - off, &cp);
		curses_entry_insert(e, (wchar_t)cp);
	}
}

/* Encodes cp as UTF-8 into out (4 bytes at most); returns the length. */
static size_t
curses_entry_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The text as UTF-8 into out (len * 4 + 1 bytes); returns its length. */
static size_t
curses_entry_encode(const struct curses_entry *e, char *out)
{
	size_t i, n = 0;

	for (i = 0; i < e->len; i++)
		n += curses_entry_utf8((uint32_t)e->buf[i], out + n);
	out[n] = '\0';
	return n;
}

char *
curses_entry_text(const struct curses_entry *e)
{
	char *out = xmalloc(e->len * 4 + 1);

	curses_entry_encode(e, out);
	return out;
}

struct secret *
curses_entry_secret(const struct curses_entry *e)
{
	size_t size = e->len * 4 + 1, n;
	struct secret *s;
	char *tmp;

	if ((tmp = OPENSSL_secure_malloc(size)) == NULL)
		abort();
	n = curses_entry_encode(e, tmp);
	s = secret_new(tmp, n);
	OPENSSL_secure_clear_free(tmp, size);
	return s;
}

int
curses_entry_equal(const struct curses_entry *a, const struct curses_entry *b)
{
	return a->len == b->len && CRYPTO_memcmp(a->buf, b->buf, a->len * sizeof *a->buf) == 0;
}

/* Deletes n characters at the cursor. */
static void
curses_entry_delete(struct curses_entry *e, size_t n)
{
	if (n > e->len - e->cursor)
		n = e->len - e->cursor;
	wmemmove(e->buf + e->cursor, e->buf + e->cursor + n, e->len - e->cursor - n + 1);
	e->len -= n;
	OPENSSL_cleanse(e->buf + e->len + 1, n * sizeof *e->buf);
}

/* Cursor moves; masked, the cursor stays at the end. Returns 1 when handled. */
static int
curses_entry_move(struct curses_entry *e, enum curses_action a, int masked)
{
	switch (a) {
	case CA_LEFT:
		if (!masked && e->cursor > 0)
			e->cursor--;
		return 1;
	case CA_RIGHT:
		if (!masked && e->cursor < e->len)
			e->cursor++;
		return 1;
	case CA_HOME:
		if (!masked)
			e->cursor = 0;
		return 1;
	case CA_END:
		e->cursor = e->len;
		return 1;
	default:
		return 0;
	}
}

int
curses_entry_key(struct curses_entry *e, enum curses_action a, const struct curses_key *k,
    int masked)
{
	if (masked)
		e->cursor = e->len;
	if (curses_entry_move(e, a, masked))
		return 1;
	switch (a) {
	case CA_CHAR:
		curses_entry_insert(e, (wchar_t)k->ch);
		return 1;
	case CA_BACKSPACE:
		if (e->cursor > 0) {
			e->cursor--;
			curses_entry_delete(e, 1);
		}
		return 1;
	case CA_DELETE:
		curses_entry_delete(e, 1);
		return 1;
	case CA_KILL_LINE:
		curses_entry_clear(e);
		return 1;
	case CA_KILL_END:
		curses_entry_delete(e, e->len - e->cursor);
		return 1;
	default:
		return 0;
	}
}

/* Columns of buf[from..to). */
static int
curses_entry_cols(const struct curses_entry *e, size_t from, size_t to)
{
	int cols = 0;

	for (; from < to; from++)
		cols += wcwidth(e->buf[from]);
	return cols;
}

void
curses_entry_draw(struct wizard *w, struct curses_entry *e, int y, int x, int width, int masked,
    int focused)
{
	attr_t attr = w->looks[focused ? CL_FIELD_FOCUS : CL_FIELD];
	size_t n;
	int cols;

	/* Brackets show the field where underline does not (a capture, a braille line). */
	curses_put(y, x, 1, "[", A_NORMAL);
	curses_put(y, x + width - 1, 1, "]", A_NORMAL);
	x++;
	width -= 2;
	curses_fill(y, x, width, attr);
	if (masked) {
		cols = e->len > 0 ? curses_put(y, x, width - 1, CURSES_MASK, attr) : 0;
		if (focused)
			curses_widget_cursor(w, y, x + cols);
		return;
	}
	if (e->cursor < e->scroll)
		e->scroll = e->cursor;
	while (e->scroll < e->cursor && curses_entry_cols(e, e->scroll, e->cursor) > width - 1)
		e->scroll++;
	for (n = e->scroll, cols = 0; n < e->len; n++) {
		if (cols + wcwidth(e->buf[n]) > width)
			break;
		cols += wcwidth(e->buf[n]);
	}
	attrset(attr);
	mvaddnwstr(y, x, e->buf + e->scroll, (int)(n - e->scroll));
	attrset(A_NORMAL);
	if (focused)
		curses_widget_cursor(w, y, x + curses_entry_cols(e, e->scroll, e->cursor));
}
