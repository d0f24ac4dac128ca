/*
 * gettext for every layer. _() marks and translates, N_() only marks (for
 * tables translated where they are shown), Q_() picks singular or plural.
 */
#ifndef KMSRECOVER_I18N_H
#define KMSRECOVER_I18N_H

#include <libintl.h>
#include <locale.h>

#define _(s) gettext(s)
#define N_(s) (s)
#define Q_(s, p, n) ngettext((s), (p), (n))

#endif
