/*
 * UTF-8, decoded once for every layer (utf8.h): the decoder that the
 * escaping of names, the hotkeys of labels and the screens' widths use.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xmalloc.h"

size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Whether a character must not reach a terminal or a log as it is: C0, DEL
 * and C1 controls, and the line separators and bidirectional controls that
 * could make one name look like another.
 */
static int
utf8_escape_wanted(uint32_t c)
{
	if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
		return 1;
	if (c == 0x200e || c == 0x200f || c == 0x2028 || c == 0x2029)
		return 1;
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

char *
utf8_escape(const char *name)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(name != NULL ? name : "");
	size_t len = strlen((const char *)s), i, j, n, o = 0;
	uint32_t c;
	char *out;

	out = xreallocarray(NULL, len + 1, 4);
	for (i = 0; i < len; i += n) {
		if ((n = utf8_decode(s + i, len - i, &c)) == 0) {
			n = 1;
			c = 0;
		}
		if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c == 0 || utf8_escape_wanted(c)) {
			for (j = i; j < i + n; j++) {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = hex[s[j] >> 4];
				out[o++] = hex[s[j] & 0xf];
			}
		} else {
			memcpy(out + o, s + i, n);
			o += n;
		}
	}
	out[o] = '\0';
	return out;
}
