/*
 * ui/width.c: display width, truncation and word-wrap of UTF-8 text with
 * ASCII, accented (precomposed and combining) and double-width CJK text,
 * and the escaping of untrusted text. Runs in C.UTF-8 (skipped where the
 * system has no UTF-8 locale), then checks the ASCII ellipsis in "C".
 */
#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "width.h"
#include "xmalloc.h"

#define CJK "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" /* 日本語: 3 x 2 columns */
#define E_ACUTE "\xc3\xa9"                         /* é, precomposed */
#define E_COMBINING "e\xcc\x81"                    /* e + U+0301 */
#define ELLIPSIS "\xe2\x80\xa6"

static void
test_width_of(void)
{
	ok(width_of("") == 0, "empty string is 0 columns");
	ok(width_of("Kmsdata") == 7, "ASCII: one column a byte");
	ok(width_of("caf" E_ACUTE) == 4, "precomposed accent: 4 columns");
	ok(width_of("caf" E_COMBINING) == 4, "combining accent takes no column");
	ok(width_of(CJK) == 6, "CJK: two columns each");
	ok(width_of("a" CJK "b") == 8, "mixed ASCII and CJK");
	ok(width_of_n(CJK, 3) == 2, "width_of_n counts only the bytes given");
	ok(width_of("\xff\xfe") == 2, "invalid bytes count one column each");
}

static void
test_width_fit(void)
{
	size_t used;

	ok(width_fit(CJK, 5, &used) == 6 && used == 4, "fit never splits a wide glyph");
	ok(width_fit(CJK, 1, &used) == 0 && used == 0, "a wide glyph does not fit in 1 column");
	ok(width_fit(E_COMBINING "x", 1, &used) == 3 && used == 1,
	    "a combining mark stays with its base");
	ok(width_fit("abc", 10, &used) == 3 && used == 3, "short string fits whole");
	ok(width_fit(E_ACUTE E_ACUTE, 1, NULL) == 2, "precomposed accent is never split");
}

static void
test_width_truncate(void)
{
	char *s;

	s = width_truncate("Hello, world", 8);
	ok(strcmp(s, "Hello, " ELLIPSIS) == 0, "ASCII cut with the ellipsis: '%s'", s);
	free(s);
	s = width_truncate("Hello", 5);
	ok(strcmp(s, "Hello") == 0, "exact fit is not cut");
	free(s);
	s = width_truncate(CJK CJK, 6);
	ok(strcmp(s, "\xe6\x97\xa5\xe6\x9c\xac" ELLIPSIS) == 0 && width_of(s) == 5,
	    "CJK cut before a glyph that would straddle: '%s'", s);
	free(s);
	s = width_truncate("caf" E_COMBINING "s and more", 5);
	ok(strcmp(s, "caf" E_COMBINING ELLIPSIS) == 0 && width_of(s) == 5,
	    "combining mark kept with its letter when cut: '%s'", s);
	free(s);
	s = width_truncate("abc", 0);
	ok(strcmp(s, "") == 0, "zero columns gives an empty string");
	free(s);
}

/* Every line at most cols wide, and no text lost but blanks. */
static int
wrap_sound(const char *text, size_t cols)
{
	char **lines, *joined, *p;
	const char *q;
	size_t n, i, len = 0;
	int sound = 1;

	lines = width_wrap(text, cols, &n);
	for (i = 0; i < n; i++) {
		if (width_of(lines[i]) > cols && width_of(lines[i]) > 2)
			sound = 0;
		len += strlen(lines[i]);
	}
	joined = p = xmalloc(len + 1);
	for (i = 0; i < n; i++)
		for (q = lines[i]; *q != '\0'; q++)
			if (*q != ' ')
				*p++ = *q;
	*p = '\0';
	for (q = text, p = joined; *q != '\0'; q++) {
		if (*q == ' ' || *q == '\n')
			continue;
		if (*p++ != *q)
			sound = 0;
	}
	if (*p != '\0')
		sound = 0;
	free(joined);
	xfree_argv(lines);
	return sound;
}

static void
test_width_wrap(void)
{
	const char *mixed = "R" E_ACUTE "sum" E_ACUTE ": the caf" E_COMBINING " " CJK CJK
			    "\xe3\x81\xae" CJK " text with a verylongwordthatmustbesplit here";
	char **l;
	size_t n, cols;
	int all = 1;

	l = width_wrap("The quick brown fox jumps", 10, &n);
	ok(n == 3 && strcmp(l[0], "The quick") == 0 && strcmp(l[1], "brown fox") == 0 &&
		strcmp(l[2], "jumps") == 0,
	    "ASCII wraps at blanks");
	xfree_argv(l);
	l = width_wrap("abcdefghijklm", 5, &n);
	ok(n == 3 && strcmp(l[0], "abcde") == 0 && strcmp(l[2], "klm") == 0,
	    "a word longer than a line is split");
	xfree_argv(l);
	l = width_wrap("one\n\ntwo", 20, &n);
	ok(n == 3 && strcmp(l[1], "") == 0 && strcmp(l[2], "two") == 0,
	    "an empty line between paragraphs stays");
	xfree_argv(l);
	l = width_wrap(CJK CJK, 5, &n);
	ok(n == 3 && width_of(l[0]) == 4 && width_of(l[1]) == 4 && width_of(l[2]) == 4,
	    "CJK breaks between glyphs, never inside one");
	xfree_argv(l);
	l = width_wrap("x " CJK, 4, &n);
	ok(n == 2 && strcmp(l[0], "x \xe6\x97\xa5") == 0, "a line may break before a wide glyph");
	xfree_argv(l);
	l = width_wrap("", 10, &n);
	ok(n == 1 && strcmp(l[0], "") == 0 && l[1] == NULL, "empty text is one empty line");
	xfree_argv(l);
	l = width_wrap("caf" E_COMBINING " caf" E_COMBINING, 4, &n);
	ok(n == 2 && strcmp(l[1], "caf" E_COMBINING) == 0, "combining marks count no column");
	xfree_argv(l);
	for (cols = 1; cols <= 30; cols++)
		if (!wrap_sound(mixed, cols))
			all = 0;
	ok(all, "mixed text wraps within 1..30 columns and loses nothing");
}

static void
test_width_wrap_whole(void)
{
	char **l;
	size_t n;

	l = width_wrap_whole("move /a/long/path/to/Kmsdata. now", 10, &n);
	ok(n == 3 && strcmp(l[0], "move") == 0 && strcmp(l[1], "/a/long/path/to/Kmsdata.") == 0 &&
		strcmp(l[2], "now") == 0,
	    "a path is never split: it overflows its own line");
	xfree_argv(l);
	l = width_wrap_whole("abcdefghijklm", 5, &n);
	ok(n == 1 && strcmp(l[0], "abcdefghijklm") == 0, "a long word overflows, unsplit");
	xfree_argv(l);
	l = width_wrap_whole(CJK CJK, 5, &n);
	ok(n == 3 && width_of(l[0]) == 4, "CJK prose still breaks between glyphs");
	xfree_argv(l);
	l = width_wrap_whole("x /" CJK "/" CJK, 4, &n);
	ok(n == 2 && strcmp(l[1], "/" CJK "/" CJK) == 0, "a path of wide glyphs stays whole");
	xfree_argv(l);
	l = width_wrap_whole("The quick brown fox jumps", 10, &n);
	ok(n == 3 && strcmp(l[1], "brown fox") == 0, "prose wraps at blanks as before");
	xfree_argv(l);
}

static void
test_width_escape(void)
{
	char *s;

	s = width_escape("a\x1b[31mb", 0);
	ok(strcmp(s, "a\\x1b[31mb") == 0, "escape sequences are defused: '%s'", s);
	free(s);
	s = width_escape("bad\xff"
			 "byte",
	    0);
	ok(strcmp(s, "bad\\xffbyte") == 0, "an invalid byte is shown as \\xNN");
	free(s);
	s = width_escape("x\xe2\x80\xaey", 0);
	ok(strcmp(s, "x\\u{202e}y") == 0, "a bidi override is shown, not obeyed");
	free(s);
	s = width_escape("l1\nl2", 0);
	ok(strcmp(s, "l1\\x0al2") == 0, "a newline is escaped by default");
	free(s);
	s = width_escape("l1\nl2\tx", WIDTH_KEEP_NEWLINES | WIDTH_EXPAND_TABS);
	ok(strcmp(s, "l1\nl2      x") == 0, "newline kept and tab expanded on request");
	free(s);
	s = width_escape(CJK " caf" E_ACUTE, 0);
	ok(strcmp(s, CJK " caf" E_ACUTE) == 0, "printable UTF-8 passes through");
	free(s);
}

int
main(void)
{
	char *s;

	if (setlocale(LC_ALL, "C.UTF-8") == NULL && setlocale(LC_ALL, "en_US.UTF-8") == NULL)
		skip_all("no UTF-8 locale");
	diag("locale %s, ellipsis '%s'", setlocale(LC_CTYPE, NULL), width_ellipsis());
	test_width_of();
	test_width_fit();
	test_width_truncate();
	test_width_wrap();
	test_width_wrap_whole();
	test_width_escape();
	setlocale(LC_ALL, "C");
	s = width_truncate("Hello, world", 8);
	ok(strcmp(s, "Hello...") == 0, "ASCII ellipsis outside UTF-8: '%s'", s);
	free(s);
	return done_testing();
}
