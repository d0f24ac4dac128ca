/*
 * The languages, and switching between them while the program runs.
 *
 * The names are not translated: each language is offered by its own name,
 * so that an operator who cannot read the screen's present language still
 * finds theirs. The table follows po/LINGUAS (tests/tty/languages.sh
 * checks that the wizard offers every language there).
 *
 * Switching: glibc's gettext keeps what it has looked up; LANGUAGE set
 * anew and _nl_msg_cat_cntr bumped make it look again (the gettext
 * manual's way). LANGUAGE is heard because main.c has made sure that the
 * locale is not "C" (C.UTF-8 when nothing else would do).
 */
#include "config.h"

#include <langinfo.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "languages.h"
#include "xmalloc.h"

extern int _nl_msg_cat_cntr;

static const struct language languages[] = {
	{ "en", "English", "English" },
	{ "de", "Deutsch", "German" },
	{ "fr", "Français", "French" },
	{ "es", "Español", "Spanish" },
	{ "it", "Italiano", "Italian" },
	{ "pt_BR", "Português (Brasil)", "Brazilian Portuguese" },
	{ "nl", "Nederlands", "Dutch" },
	{ "sv", "Svenska", "Swedish" },
	{ "pl", "Polski", "Polish" },
	{ "ru", "Русский", "Russian" },
	{ "ja", "日本語", "Japanese" },
	{ "zh_CN", "简体中文", "Simplified Chinese" },
	{ "ko", "한국어", "Korean" },
};

const struct language *
languages_list(size_t *n)
{
	*n = sizeof languages / sizeof languages[0];
	return languages;
}

/* Whether the language needs glyphs beyond what a VT100 or the Linux console shows. */
static int
language_wide(const char *code)
{
	return strncmp(code, "ja", 2) == 0 || strncmp(code, "zh", 2) == 0 ||
	    strncmp(code, "ko", 2) == 0;
}

/* The table's entry for a code or a locale name ("pt_BR", "de_AT" -> de), or NULL. */
static const struct language *
language_find(const char *code)
{
	size_t i, len = strcspn(code, "_.@:");

	for (i = 0; i < sizeof languages / sizeof languages[0]; i++)
		if (strcmp(languages[i].code, code) == 0)
			return &languages[i];
	for (i = 0; i < sizeof languages / sizeof languages[0]; i++)
		if (strlen(languages[i].code) == len && strncmp(languages[i].code, code, len) == 0)
			return &languages[i];
	return NULL;
}

char *
language_unshowable(const char *code)
{
	const char *codeset = nl_langinfo(CODESET), *term = getenv("TERM");
	const struct language *l;
	int console = term != NULL && (strcmp(term, "linux") == 0 || strncmp(term, "vt", 2) == 0);

	if (code == NULL || strncmp(code, "en", 2) == 0)
		return NULL;
	if (strcmp(codeset, "UTF-8") == 0 && !(console && language_wide(code)))
		return NULL;
	l = language_find(code);
	return xasprintf("this terminal cannot show %s (%s)", l != NULL ? l->english : code,
	    strcmp(codeset, "UTF-8") != 0 ? codeset : term);
}

const char *
language_current(void)
{
	static char code[16];
	const char *empty = "", *header, *p;
	size_t len;

	/* The catalog's header (the translation of ""), empty without a catalog. */
	header = gettext(empty);
	if ((p = strstr(header, "Language: ")) == NULL)
		return "en";
	p += strlen("Language: ");
	len = strcspn(p, " \n");
	if (len == 0 || len >= sizeof code)
		return "en";
	memcpy(code, p, len);
	code[len] = '\0';
	return code;
}

void
language_switch(const char *code)
{
	setenv("LANGUAGE", code, 1);
	++_nl_msg_cat_cntr;
}
