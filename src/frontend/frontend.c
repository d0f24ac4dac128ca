/*
 * What all frontends share of struct frontend: reading the '&' hotkey marks
 * of translated labels.
 */
#include "config.h"

#include <string.h>

#include "frontend.h"
#include "xmalloc.h"

char *
fe_label_plain(const char *label)
{
	char *out = xmalloc(strlen(label) + 1), *q = out;
	const char *p;

	for (p = label; *p != '\0'; p++) {
		if (*p == '&') {
			if (p[1] == '&')
				*q++ = *++p;
			continue;
		}
		*q++ = *p;
	}
	*q = '\0';
	return out;
}

/* The code point at s (UTF-8), or 0 for an invalid sequence. */
static int
fe_utf8_decode(const unsigned char *s)
{
	int c, n, i;

	if (s[0] < 0x80)
		return s[0];
	if ((s[0] & 0xe0) == 0xc0)
		c = s[0] & 0x1f, n = 1;
	else if ((s[0] & 0xf0) == 0xe0)
		c = s[0] & 0x0f, n = 2;
	else if ((s[0] & 0xf8) == 0xf0)
		c = s[0] & 0x07, n = 3;
	else
		return 0;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	return c;
}

int
fe_label_hotkey(const char *label)
{
	const char *p;

	for (p = label; *p != '\0'; p++) {
		if (*p != '&')
			continue;
		if (p[1] == '&') {
			p++;
			continue;
		}
		return fe_utf8_decode((const unsigned char *)p + 1);
	}
	return 0;
}
