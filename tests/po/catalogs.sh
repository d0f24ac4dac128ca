#!/bin/sh
# Every catalog in po/LINGUAS is complete against the sources as they are
# now: a template made afresh from POTFILES.in, merged into each catalog,
# must leave no untranslated or fuzzy message, and msgfmt -c must accept it
# (format strings, plural forms, headers).
. "$top_srcdir/tests/lib.sh"

command -v xgettext >/dev/null || skip_all "xgettext is not installed (Debian package gettext)"
(cd "$top_srcdir/po" && xgettext --default-domain=kmsrecover --directory=.. \
	--add-comments=TRANSLATORS: --keyword=_ --keyword=N_ --keyword=Q_:1,2 \
	--from-code=UTF-8 --files-from=POTFILES.in -o "$T/kmsrecover.pot") 2>"$T/xgettext.err"
ok $? "the template is made from the sources"
n=$(grep -c '^msgid ' "$T/kmsrecover.pot")
[ "$n" -gt 100 ]
ok $? "the template holds the program's messages ($n)"

for lang in $(grep -v '^#' "$top_srcdir/po/LINGUAS"); do
	msgmerge --quiet "$top_srcdir/po/$lang.po" "$T/kmsrecover.pot" -o "$T/$lang.po" 2>/dev/null
	stats=$(msgfmt -c --statistics -o /dev/null "$T/$lang.po" 2>&1)
	case $stats in
	*fuzzy* | *untranslated* | *error*) ok 1 "$lang is complete"; echo "# $lang: $stats" ;;
	*) ok 0 "$lang is complete ($stats)" ;;
	esac
done

done_testing
