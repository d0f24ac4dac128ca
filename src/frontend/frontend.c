/*
 * What all frontends share of struct frontend: reading the '&' hotkey marks
 * of translated labels.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "utf8.h"
#include "xmalloc.h"

char *
fe_label_parse(const char *label, long *hot)
{
	size_t len = strlen(label), i, o = 0;
	char *plain = xmalloc(len + 1);

	*hot = -1;
	for (i = 0; i < len; i++) {
		if (label[i] == '&' && label[i + 1] == '&') {
			plain[o++] = '&';
			i++;
		} else if (label[i] == '&' && label[i + 1] != '\0') {
			if (*hot < 0)
				*hot = (long)o;
		} else
			plain[o++] = label[i];
	}
	plain[o] = '\0';
	return plain;
}

char *
fe_label_plain(const char *label)
{
	long hot;

	return fe_label_parse(label, &hot);
}

int
fe_label_hotkey(const char *label)
{
	char *plain;
	long hot;
	uint32_t cp = 0;

	plain = fe_label_parse(label, &hot);
	if (hot >= 0 &&
	    utf8_decode((const unsigned char *)plain + hot, strlen(plain + hot), &cp) == 0)
		cp = 0;
	free(plain);
	return hot >= 0 ? (int)cp : 0;
}

char *
fe_label_words(const char *label)
{
	char *plain = fe_label_plain(label);
	const char *mark = strstr(label, "(&");
	size_t len = strlen(plain);

	/* "...(&T)" at the end: the letter is for keys, not for reading ("Type it (T)"). */
	if (mark != NULL && mark[2] != '\0' && mark[2] != '&' && mark[3] == ')' &&
	    mark[4] == '\0' && len >= 3 && plain[len - 1] == ')' && plain[len - 3] == '(') {
		len -= 3;
		while (len > 0 && plain[len - 1] == ' ')
			len--;
		plain[len] = '\0';
	}
	return plain;
}
