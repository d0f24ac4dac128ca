/*
 * The languages kmsrecover speaks: English and the catalogs of po/LINGUAS,
 * each by its own name. Whether this terminal can show one, which one the
 * messages are in now, and switching while the program runs (the wizard's
 * F3 on its first screen). main.c uses the same test for --language, so
 * the two never disagree.
 */
#ifndef KMSRECOVER_LANGUAGES_H
#define KMSRECOVER_LANGUAGES_H

#include <stddef.h>

struct language {
	const char *code;    /* the catalog's name: "de", "pt_BR"; "en" for the msgids */
	const char *name;    /* its own name, as its speakers write it: "Deutsch", "日本語" */
	const char *english; /* its name in English, for a terminal that cannot show it */
};

/* English first, then every language of po/LINGUAS; *n gets the count. */
const struct language *languages_list(size_t *n);

/*
 * Why this terminal cannot show the language (code, or a locale name such
 * as "ja_JP"): no UTF-8 character set, or a console without CJK glyphs. An
 * English sentence (it is about a terminal that may show nothing else),
 * to be freed; NULL when it can be shown.
 */
char *language_unshowable(const char *code);

/* The code of the catalog the messages come from now; "en" without one. */
const char *language_current(void);

/* Switches the messages to the language from the next gettext call on. */
void language_switch(const char *code);

#endif
