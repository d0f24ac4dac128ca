/*
 * Hotkeys are translated with their labels: in every catalog of LINGUAS,
 * every label shown on one screen has a hotkey and no two share one
 * (compared without case). The catalogs are the ones built in the tree
 * (KMSRECOVER_LOCALEDIR), looked up through gettext as the program does.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "frontend.h"
#include "i18n.h"
#include "tap.h"

extern int _nl_msg_cat_cntr;

/* The labels shown together, NULL-terminated groups (the English msgids). */
static const char *groups[][8] = {
	{ "&Yes", "&No", "&Back", NULL },
	{ "&Next", "&Back", NULL },
	{ "&Next", "&Quit", NULL },
	{ "&Stop", "C&ontinue", NULL },
	{ "&Quit", "&Cancel", NULL },
	{ "&OK", NULL },
	{ "&Try another password", "&Roll back", "&Quit", "&Next", NULL },
	{ "&Resume", "Roll &back", "&Start over", "&Quit", "&Next", NULL },
	{ "&Type the alpha string", "Read the &startup disk (KMSPWD.INI)", "&Next", NULL },
	{ "&Recover the KM Server from a backup", "&Back up Kmsdata (before a rebuild)",
	    "Make a &startup disk", "Re&hearse a recovery on a throw-away copy", "&Next", "&Quit",
	    NULL },
};

static int
group_unique(size_t g, const char *lang)
{
	int keys[8];
	size_t i, j;
	const char *label;

	for (i = 0; groups[g][i] != NULL; i++) {
		label = gettext(groups[g][i]);
		keys[i] = (int)towlower((wint_t)fe_label_hotkey(label));
		if (keys[i] == 0) {
			diag("%s: \"%s\" has no hotkey", lang, label);
			return 0;
		}
		for (j = 0; j < i; j++) {
			if (keys[j] == keys[i]) {
				diag("%s: \"%s\" and \"%s\" share a hotkey", lang,
				    gettext(groups[g][j]), label);
				return 0;
			}
		}
	}
	return 1;
}

static void
check_language(const char *lang)
{
	size_t g;
	int all = 1;

	setenv("LANGUAGE", lang, 1);
	++_nl_msg_cat_cntr;
	ok(strcmp(gettext("&Yes"), "&Yes") != 0 || strcmp(lang, "en") == 0,
	    "%s: the catalog is found and translates the buttons", lang);
	for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
		all &= group_unique(g, lang);
	ok(all, "%s: every label has a hotkey, unique on its screen", lang);
}

int
main(void)
{
	const char *srcdir = getenv("top_srcdir"), *dir = getenv("KMSRECOVER_LOCALEDIR");
	char path[4096], lang[64];
	FILE *f;

	if (srcdir == NULL || dir == NULL)
		skip_all("top_srcdir and KMSRECOVER_LOCALEDIR come from the test harness");
	if (setlocale(LC_ALL, "C.UTF-8") == NULL)
		skip_all("the C.UTF-8 locale is missing");
	bindtextdomain(PACKAGE, dir);
	bind_textdomain_codeset(PACKAGE, "UTF-8");
	textdomain(PACKAGE);
	snprintf(path, sizeof path, "%s/po/LINGUAS", srcdir);
	if ((f = fopen(path, "r")) == NULL)
		skip_all("po/LINGUAS cannot be read");
	check_language("en");
	while (fscanf(f, "%63s", lang) == 1) {
		if (lang[0] != '#')
			check_language(lang);
	}
	fclose(f);
	return done_testing();
}
