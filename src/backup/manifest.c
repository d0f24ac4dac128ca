/*
 * MANIFEST.sha256, checked as the backup streams by: a line read after its
 * file is checked at once, one read before waits for the data; at the end
 * every file listed with the right digest and every listed file present.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "xmalloc.h"
#include "backup-run.h"

static int backup_manifest_checks(const struct backup_recs *r, size_t i);

/*
 * A manifest line's digest for record i: checked at once when its file's
 * data is hashed for good, else kept in recs.wants until the end. A folder
 * (or MANIFEST.sha256) never has data to check: it counts as missing then.
 */
static void
backup_manifest_want(struct backup_recs *r, size_t i, const unsigned char want[DIGEST_LEN])
{
	struct backup_rec *rec = backup_rec(r, i);
	const struct backup_rec *data = backup_rec(r, rec->canon);

	if (backup_manifest_checks(r, i) &&
	    (data->state & (BACKUP_REC_HASHED | BACKUP_REC_OPEN)) == BACKUP_REC_HASHED) {
		rec->state |= BACKUP_REC_EARLY;
		if (memcmp(want, data->digest, DIGEST_LEN) != 0)
			rec->state |= BACKUP_REC_BAD;
		return;
	}
	if (rec->type != BACKUP_REC_LISTED && !backup_manifest_checks(r, i))
		return;
	if (r->nwants == r->wants_alloc) {
		r->wants_alloc = r->wants_alloc == 0 ? 64 : r->wants_alloc * 2;
		r->wants = xreallocarray(r->wants, r->wants_alloc, sizeof *r->wants);
	}
	r->wants[r->nwants].rec = (uint32_t)i;
	memcpy(r->wants[r->nwants++].digest, want, DIGEST_LEN);
}

/* At the end, every file hashed: the lines kept waiting are checked. */
static void
backup_manifest_wanted(struct backup_recs *r)
{
	struct backup_rec *rec;
	size_t k;

	for (k = 0; k < r->nwants; k++) {
		rec = backup_rec(r, r->wants[k].rec);
		if (backup_manifest_checks(r, r->wants[k].rec) &&
		    memcmp(r->wants[k].digest, backup_rec(r, rec->canon)->digest, DIGEST_LEN) != 0)
			rec->state |= BACKUP_REC_BAD;
	}
}

/* Whether record i's line, checked as it was read, does not match: BAD, or the data changed since. */
static int
backup_manifest_bad(const struct backup_recs *r, size_t i)
{
	const struct backup_rec *rec = backup_rec(r, i);

	return (rec->state & BACKUP_REC_BAD) ||
	    ((rec->state & BACKUP_REC_EARLY) &&
		(backup_rec(r, rec->canon)->state & BACKUP_REC_CHANGED));
}

/*
 * MANIFEST.sha256 is read a line at a time as it streams by, each line
 * going into the record of its path (made for it when the backup has not
 * shown the path yet): the text is never held whole. What is wrong with
 * it is kept for the end, so that a fault of the backup itself is told
 * first, as when the manifest comes last.
 */
void
backup_manifest_line(struct backup_run *run, const char *s, size_t len)
{
	struct backup_rec *rec;
	unsigned char digest[DIGEST_LEN];
	char *path, *why = NULL;
	size_t i, line = ++run->manifest_lines;

	/* A blank line (0) leaves why NULL; after an error (-1) no line is read again. */
	if (manifest_parse_line(s, len, line, &path, digest, &why) <= 0) {
		run->manifest_cause = why;
		return;
	}
	run->manifest_entries++;
	if ((i = backup_recs_find(&run->recs, path)) == SIZE_MAX &&
	    (i = backup_recs_add(&run->recs, path, BACKUP_REC_LISTED)) == SIZE_MAX)
		backup_too_many(run);
	else if ((rec = backup_rec(&run->recs, i))->line != 0)
		/* TRANSLATORS: both are line numbers of MANIFEST.sha256. */
		run->manifest_cause = xasprintf(
		    _("line %1$zu: the same file is listed on line %2$zu"), line,
		    (size_t)rec->line);
	else {
		rec->line = (uint32_t)line;
		backup_manifest_want(&run->recs, i, digest);
	}
	free(path);
}

/* Takes the manifest's bytes: complete lines are read at once, the rest waits. */
void
backup_manifest_feed(struct backup_run *run, const char *buf, size_t len)
{
	const char *nl;
	size_t n;

	while (len > 0 && run->manifest_cause == NULL && run->cause == NULL) {
		nl = memchr(buf, '\n', len);
		n = nl != NULL ? (size_t)(nl - buf) : len;
		if (nl == NULL || run->mline_len > 0) {
			if (run->mline_len + n > run->mline_alloc) {
				run->mline_alloc = run->mline_len + n + 256;
				run->mline = xreallocarray(run->mline, run->mline_alloc, 1);
			}
			memcpy(run->mline + run->mline_len, buf, n);
			run->mline_len += n;
		}
		if (nl == NULL)
			return;
		if (run->mline_len > 0) {
			backup_manifest_line(run, run->mline, run->mline_len);
			run->mline_len = 0;
		} else
			backup_manifest_line(run, buf, n);
		buf += n + 1;
		len -= n + 1;
	}
}

static int
backup_manifest_refuse(struct backup_run *run, const char *path, size_t mismatched, size_t unlisted,
    size_t missing)
{
	char *shown = backup_shown(path);
	unsigned long n;

	if (mismatched > 0) {
		n = (unsigned long)mismatched;
		/* TRANSLATORS: %2$lu is how many files differ in all. */
		backup_error(run,
		    Q_("The backup file \"%1$s\" does not match its SHA-256 in "
		       "MANIFEST.sha256 (%2$lu file differs).",
			"The backup file \"%1$s\" does not match "
			"its SHA-256 in MANIFEST.sha256 (%2$lu files differ).",
			n),
		    shown, n);
	} else if (missing > 0) {
		n = (unsigned long)missing;
		backup_error(run,
		    Q_("The file \"%1$s\" listed in MANIFEST.sha256 is missing from the "
		       "backup (%2$lu listed file is missing).",
			"The file \"%1$s\" listed in "
			"MANIFEST.sha256 is missing from the backup (%2$lu listed files are "
			"missing).",
			n),
		    shown, n);
	} else {
		n = (unsigned long)unlisted;
		backup_error(run,
		    Q_("The backup file \"%1$s\" is not listed in MANIFEST.sha256 (%2$lu "
		       "file is not listed).",
			"The backup file \"%1$s\" is not listed in MANIFEST.sha256 "
			"(%2$lu files are not listed).",
			n),
		    shown, n);
	}
	free(shown);
	return -1;
}

/* Whether the manifest's line for rec is checked against data: a file, or BACKUP.INFO. */
static int
backup_manifest_checks(const struct backup_recs *r, size_t i)
{
	const struct backup_rec *rec = backup_rec(r, i);

	return rec->type == BACKUP_REC_FILE ||
	    (rec->type == BACKUP_REC_META && strcmp(backup_rec_path(r, i), BACKUP_INFO_NAME) == 0);
}

/* Every file listed with the right digest, every listed file present. */
static int
backup_manifest_compare(struct backup_run *run)
{
	const struct backup_recs *r = &run->recs;
	const struct backup_rec *rec;
	size_t i, bad = SIZE_MAX, unlisted = SIZE_MAX, missing = SIZE_MAX;
	size_t nbad = 0, nunlisted = 0, nmissing = 0;

	backup_manifest_wanted(&run->recs);
	for (i = 0; i < r->count; i++) {
		rec = backup_rec(r, i);
		if (rec->line == 0) {
			if (rec->type == BACKUP_REC_FILE && nunlisted++ == 0)
				unlisted = i;
		} else if (!backup_manifest_checks(r, i)) {
			if (nmissing++ == 0 || rec->line < backup_rec(r, missing)->line)
				missing = i;
		} else if (backup_manifest_bad(r, i) && nbad++ == 0)
			bad = i;
	}
	if (nbad > 0)
		return backup_manifest_refuse(run, backup_rec_path(r, bad), nbad, 0, 0);
	if (nmissing > 0)
		return backup_manifest_refuse(run, backup_rec_path(r, missing), 0, 0, nmissing);
	if (nunlisted > 0)
		return backup_manifest_refuse(run, backup_rec_path(r, unlisted), 0, nunlisted, 0);
	return 0;
}

int
backup_manifest(struct backup_run *run, struct backup_result *result)
{
	char *shown;

	result->manifest_found = run->manifest_found;
	if (!run->manifest_found) {
		backup_result_warn(result,
		    run->in != NULL ?
			_("The backup has no MANIFEST.sha256: its "
			  "files cannot be checked one by one; the archive's SHA-256 is recorded "
			  "in the "
			  "report.") :
			_("The backup has no MANIFEST.sha256: its files cannot be checked one "
			  "by one."));
		return 0;
	}
	if (run->manifest_cause != NULL) {
		shown = backup_shown(run->manifest_cause);
		/* TRANSLATORS: %s says which line is wrong and how. */
		backup_error(run, _("The backup's MANIFEST.sha256 cannot be used: %s."), shown);
		free(shown);
		return -1;
	}
	result->manifest_entries = run->manifest_entries;
	return backup_manifest_compare(run);
}
