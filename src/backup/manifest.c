/*
 * MANIFEST.sha256 (DESIGN.md, "Manifest"): its parser (sha256sum's format),
 * and its check as the backup streams by: a line read after its
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

/*
 * The parser: a whole MANIFEST.sha256, or one line of it. The manifest is
 * what `sha256sum` writes; it is parsed once into an array kept in the
 * file's order (so "the first missing file" is the first one the operator
 * sees in the file) and an index sorted by path for the lookups.
 */

struct manifest_entry {
	char *path;
	unsigned char digest[DIGEST_LEN];
	size_t line;
	int seen;
};

struct manifest {
	struct manifest_entry *entries; /* in the file's order */
	struct manifest_entry **sorted; /* by path */
	size_t count;
	size_t alloc;
};

/*
 * Drops "." components (a leading "./" above all, as find(1) writes) and
 * folds runs of "/", so that a path in the manifest and the same path as an
 * archive stores it compare equal. ".." is kept: such a path matches no
 * entry, since the backup refuses those.
 */
char *
manifest_normalize_path(const char *path)
{
	char *out, *o;
	size_t n;

	out = o = xmalloc(strlen(path) + 1);
	while (*path != '\0') {
		n = strcspn(path, "/");
		if (n > 0 && !(n == 1 && path[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memcpy(o, path, n);
			o += n;
		}
		for (path += n; *path == '/'; path++)
			;
	}
	*o = '\0';
	return out;
}

/* Reads 64 hex digits (either case, as sha256sum -c accepts). */
static int
manifest_parse_hex(const char *s, size_t len, unsigned char out[DIGEST_LEN])
{
	if (len < DIGEST_HEX_LEN)
		return -1;
	return digest_unhex(s, out, DIGEST_LEN);
}

/*
 * Undoes sha256sum's escaping of a name holding a backslash or a line end
 * (the line then starts with a backslash): "\\" and "\n" (and "\r", which
 * newer coreutils write). Returns NULL on any other escape.
 */
static char *
manifest_unescape(const char *s, size_t len)
{
	char *out, *o;
	size_t i;

	out = o = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		if (++i == len || (s[i] != '\\' && s[i] != 'n' && s[i] != 'r')) {
			free(out);
			return NULL;
		}
		*o++ = s[i] == 'n' ? '\n' : s[i] == 'r' ? '\r' : '\\';
	}
	*o = '\0';
	return out;
}

static int
manifest_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	}
	return 1;
}

/* Appends an entry, taking path. */
static void
manifest_add(struct manifest *m, char *path, const unsigned char digest[DIGEST_LEN], size_t line)
{
	struct manifest_entry *e;

	if (m->count == m->alloc) {
		m->alloc = m->alloc == 0 ? 16 : m->alloc * 2;
		m->entries = xreallocarray(m->entries, m->alloc, sizeof *m->entries);
	}
	e = &m->entries[m->count++];
	e->path = path;
	memcpy(e->digest, digest, DIGEST_LEN);
	e->line = line;
	e->seen = 0;
}

int
manifest_parse_line(const char *s, size_t len, size_t line, char **path,
    unsigned char digest[DIGEST_LEN], char **cause)
{
	char *raw;
	int escaped = 0;

	*path = NULL;
	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (manifest_blank(s, len))
		return 0;
	if (memchr(s, '\0', len) != NULL) {
		*cause = xasprintf(_("line %zu: it holds a NUL byte"), line);
		return -1;
	}
	if (s[0] == '\\') {
		escaped = 1;
		s++;
		len--;
	}
	if (manifest_parse_hex(s, len, digest) != 0 ||
	    (len > DIGEST_HEX_LEN && s[DIGEST_HEX_LEN] != ' ')) {
		*cause = xasprintf(_("line %zu: it does not start with a SHA-256 of 64 "
				     "hexadecimal digits and a space"),
		    line);
		return -1;
	}
	if (len < DIGEST_HEX_LEN + 3 ||
	    (s[DIGEST_HEX_LEN + 1] != ' ' && s[DIGEST_HEX_LEN + 1] != '*')) {
		*cause = xasprintf(_("line %zu: the file's path is missing after the SHA-256"),
		    line);
		return -1;
	}
	s += DIGEST_HEX_LEN + 2;
	len -= DIGEST_HEX_LEN + 2;
	raw = escaped ? manifest_unescape(s, len) : xstrndup(s, len);
	if (raw == NULL) {
		*cause = xasprintf(_("line %zu: the file's path has an unknown backslash escape"),
		    line);
		return -1;
	}
	*path = manifest_normalize_path(raw);
	free(raw);
	if (**path == '\0') {
		free(*path);
		*path = NULL;
		*cause = xasprintf(_("line %zu: the file's path is empty"), line);
		return -1;
	}
	return 1;
}

static int
manifest_compare(const void *a, const void *b)
{
	const struct manifest_entry *ea = *(struct manifest_entry *const *)a;
	const struct manifest_entry *eb = *(struct manifest_entry *const *)b;
	int r;

	if ((r = strcmp(ea->path, eb->path)) != 0)
		return r;
	return ea->line < eb->line ? -1 : ea->line > eb->line;
}

/* Sorts the index and refuses a path listed twice, naming the second line. */
static int
manifest_index(struct manifest *m, char **cause)
{
	struct manifest_entry *a, *b;
	size_t i;

	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized as one */
	m->sorted = xreallocarray(NULL, m->count, sizeof *m->sorted);
	for (i = 0; i < m->count; i++)
		m->sorted[i] = &m->entries[i];
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized as one */
	qsort(m->sorted, m->count, sizeof *m->sorted, manifest_compare);
	for (i = 1; i < m->count; i++) {
		a = m->sorted[i - 1];
		b = m->sorted[i];
		if (strcmp(a->path, b->path) == 0) {
			/* TRANSLATORS: both are line numbers of MANIFEST.sha256. */
			*cause = xasprintf(_("line %1$zu: the same file is listed on line %2$zu"),
			    b->line, a->line);
			return -1;
		}
	}
	return 0;
}

int
manifest_parse(const char *buf, size_t len, struct manifest **out, char **cause)
{
	struct manifest *m;
	const char *p = buf, *end, *nl;
	unsigned char digest[DIGEST_LEN];
	size_t line = 0, n;
	char *path;
	int r;

	*out = NULL;
	/* An empty manifest may come as NULL, and NULL + 0 is undefined in C. */
	end = len > 0 ? buf + len : buf;
	m = xcalloc(1, sizeof *m);
	while (p < end) {
		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if ((r = manifest_parse_line(p, n, line, &path, digest, cause)) < 0)
			goto fail;
		if (r > 0)
			manifest_add(m, path, digest, line);
		p = nl != NULL ? nl + 1 : end;
	}
	if (manifest_index(m, cause) != 0)
		goto fail;
	*out = m;
	return 0;

fail:
	manifest_free(m);
	return -1;
}

void
manifest_free(struct manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->count; i++)
		free(m->entries[i].path);
	free(m->entries);
	free(m->sorted);
	free(m);
}

size_t
manifest_count(const struct manifest *m)
{
	return m->count;
}

static int
manifest_search(const void *key, const void *elem)
{
	const struct manifest_entry *e = *(struct manifest_entry *const *)elem;

	return strcmp(key, e->path);
}

int
manifest_check(struct manifest *m, const char *path, const unsigned char digest[DIGEST_LEN])
{
	struct manifest_entry **found;
	char *norm;

	norm = manifest_normalize_path(path);
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized as one */
	found = bsearch(norm, m->sorted, m->count, sizeof *m->sorted, manifest_search);
	free(norm);
	if (found == NULL)
		return -1;
	(*found)->seen = 1;
	return memcmp((*found)->digest, digest, DIGEST_LEN) == 0;
}

const char *
manifest_first_unseen(const struct manifest *m)
{
	size_t i;

	for (i = 0; i < m->count; i++) {
		if (!m->entries[i].seen)
			return m->entries[i].path;
	}
	return NULL;
}

size_t
manifest_unseen_count(const struct manifest *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->count; i++)
		n += !m->entries[i].seen;
	return n;
}

/*
 * The check as the backup streams by.
 */

static int manifest_listed_checked(const struct backup_recs *r, size_t i);

/*
 * A manifest line's digest for record i: checked at once when its file's
 * data is hashed for good, else kept in recs.wants until the end. A folder
 * (or MANIFEST.sha256) never has data to check: it counts as missing then.
 */
static void
manifest_want(struct backup_recs *r, size_t i, const unsigned char want[DIGEST_LEN])
{
	struct backup_rec *rec = backup_rec(r, i);
	const struct backup_rec *data = backup_rec(r, rec->canon);

	if (manifest_listed_checked(r, i) &&
	    (data->state & (BACKUP_REC_HASHED | BACKUP_REC_OPEN)) == BACKUP_REC_HASHED) {
		rec->state |= BACKUP_REC_EARLY;
		if (memcmp(want, data->digest, DIGEST_LEN) != 0)
			rec->state |= BACKUP_REC_BAD;
		return;
	}
	if (rec->type != BACKUP_REC_LISTED && !manifest_listed_checked(r, i))
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
manifest_wanted(struct backup_recs *r)
{
	struct backup_rec *rec;
	size_t k;

	for (k = 0; k < r->nwants; k++) {
		rec = backup_rec(r, r->wants[k].rec);
		if (manifest_listed_checked(r, r->wants[k].rec) &&
		    memcmp(r->wants[k].digest, backup_rec(r, rec->canon)->digest, DIGEST_LEN) != 0)
			rec->state |= BACKUP_REC_BAD;
	}
}

/* Whether record i's line, checked as it was read, does not match: BAD, or the data changed since. */
static int
manifest_line_bad(const struct backup_recs *r, size_t i)
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
manifest_feed_line(struct backup_run *run, const char *s, size_t len)
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
		manifest_want(&run->recs, i, digest);
	}
	free(path);
}

/* Takes the manifest's bytes: complete lines are read at once, the rest waits. */
void
manifest_feed(struct backup_run *run, const char *buf, size_t len)
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
			manifest_feed_line(run, run->mline, run->mline_len);
			run->mline_len = 0;
		} else
			manifest_feed_line(run, buf, n);
		buf += n + 1;
		len -= n + 1;
	}
}

static int
manifest_refuse(struct backup_run *run, const char *path, size_t mismatched, size_t unlisted,
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
manifest_listed_checked(const struct backup_recs *r, size_t i)
{
	const struct backup_rec *rec = backup_rec(r, i);

	return rec->type == BACKUP_REC_FILE ||
	    (rec->type == BACKUP_REC_META && strcmp(backup_rec_path(r, i), BACKUP_INFO_NAME) == 0);
}

/* Every file listed with the right digest, every listed file present. */
static int
manifest_compare_staged(struct backup_run *run)
{
	const struct backup_recs *r = &run->recs;
	const struct backup_rec *rec;
	size_t i, bad = SIZE_MAX, unlisted = SIZE_MAX, missing = SIZE_MAX;
	size_t nbad = 0, nunlisted = 0, nmissing = 0;

	manifest_wanted(&run->recs);
	for (i = 0; i < r->count; i++) {
		rec = backup_rec(r, i);
		if (rec->line == 0) {
			if (rec->type == BACKUP_REC_FILE && nunlisted++ == 0)
				unlisted = i;
		} else if (!manifest_listed_checked(r, i)) {
			if (nmissing++ == 0 || rec->line < backup_rec(r, missing)->line)
				missing = i;
		} else if (manifest_line_bad(r, i) && nbad++ == 0)
			bad = i;
	}
	if (nbad > 0)
		return manifest_refuse(run, backup_rec_path(r, bad), nbad, 0, 0);
	if (nmissing > 0)
		return manifest_refuse(run, backup_rec_path(r, missing), 0, 0, nmissing);
	if (nunlisted > 0)
		return manifest_refuse(run, backup_rec_path(r, unlisted), 0, nunlisted, 0);
	return 0;
}

int
manifest_conclude(struct backup_run *run, struct backup_result *result)
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
	return manifest_compare_staged(run);
}
