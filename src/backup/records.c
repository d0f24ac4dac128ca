/*
 * The paths of a backup: every one seen or listed in its manifest, kept to
 * the end in chunks with an open-addressing index (48 bytes and the path
 * each), and names escaped for display.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"
#include "backup-run.h"

/*
 * Escaping names for display.
 */

/* The length of the valid UTF-8 sequence at s and its code point, or 0. */
static size_t
backup_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
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
backup_escape_wanted(uint32_t c)
{
	if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
		return 1;
	if (c == 0x200e || c == 0x200f || c == 0x2028 || c == 0x2029)
		return 1;
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

char *
backup_escape_name(const char *name)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(name != NULL ? name : "");
	size_t len = strlen((const char *)s), i, j, n, o = 0;
	uint32_t c;
	char *out;

	out = xreallocarray(NULL, len + 1, 4);
	for (i = 0; i < len; i += n) {
		if ((n = backup_utf8_decode(s + i, len - i, &c)) == 0) {
			n = 1;
			c = 0;
		}
		if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c == 0 || backup_escape_wanted(c)) {
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

/*
 * A name for a cause: escaped, and cut short (at a character's boundary)
 * past BACKUP_SHOWN_MAX bytes, so that a hostile 4 KiB path cannot flood
 * the operator's screen.
 */
char *
backup_shown(const char *name)
{
	char *s = backup_escape_name(name), *cut;
	size_t n = strlen(s);

	if (n <= BACKUP_SHOWN_MAX)
		return s;
	n = BACKUP_SHOWN_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	cut = xasprintf("%.*s...", (int)n, s);
	free(s);
	return cut;
}

/*
 * The paths seen and listed: records in chunks, an open-addressing index.
 */

struct backup_rec *
backup_rec(const struct backup_recs *r, size_t i)
{
	return &r->chunk[i / BACKUP_REC_CHUNK][i % BACKUP_REC_CHUNK];
}

const char *
backup_rec_path(const struct backup_recs *r, size_t i)
{
	return r->names + backup_rec(r, i)->name;
}

static size_t
backup_recs_slot(const struct backup_recs *r, const char *path)
{
	uint64_t h = 14695981039346656037ULL;
	const unsigned char *p;
	size_t i;

	for (p = (const unsigned char *)path; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	i = (size_t)h & (r->nslots - 1);
	while (r->slots[i] != 0 && strcmp(backup_rec_path(r, r->slots[i] - 1), path) != 0)
		i = (i + 1) & (r->nslots - 1);
	return i;
}

/* The record's index, or SIZE_MAX. */
size_t
backup_recs_find(const struct backup_recs *r, const char *path)
{
	size_t s;

	if (r->nslots == 0)
		return SIZE_MAX;
	s = backup_recs_slot(r, path);
	return r->slots[s] == 0 ? SIZE_MAX : r->slots[s] - 1;
}

/* Keeps the index at most half full. */
static void
backup_recs_grow_index(struct backup_recs *r)
{
	size_t i;

	if ((r->count + 1) * 2 <= r->nslots)
		return;
	free(r->slots);
	r->nslots = r->nslots == 0 ? 64 : r->nslots * 2;
	r->slots = xcalloc(r->nslots, sizeof *r->slots);
	for (i = 0; i < r->count; i++)
		r->slots[backup_recs_slot(r, backup_rec_path(r, i))] = (uint32_t)i + 1;
}

/* A new record; its index, or SIZE_MAX when the backup has too many paths. */
size_t
backup_recs_add(struct backup_recs *r, const char *path, enum backup_rec_type type)
{
	struct backup_rec *rec;
	size_t len = strlen(path) + 1;

	if (r->count >= BACKUP_ENTRIES_MAX || r->names_len + len > UINT32_MAX)
		return SIZE_MAX;
	backup_recs_grow_index(r);
	if (r->count % BACKUP_REC_CHUNK == 0) {
		r->chunk = xreallocarray(r->chunk, r->count / BACKUP_REC_CHUNK + 1,
		    sizeof(struct backup_rec *));
		r->chunk[r->count / BACKUP_REC_CHUNK] = xreallocarray(NULL, BACKUP_REC_CHUNK,
		    sizeof **r->chunk);
	}
	while (r->names_len + len > r->names_alloc) {
		r->names_alloc = r->names_alloc == 0 ? 64 * 1024 : r->names_alloc * 2;
		r->names = xreallocarray(r->names, r->names_alloc, 1);
	}
	rec = backup_rec(r, r->count);
	memset(rec, 0, sizeof *rec);
	rec->name = (uint32_t)r->names_len;
	memcpy(r->names + r->names_len, path, len);
	r->names_len += len;
	rec->type = type;
	rec->canon = (uint32_t)r->count;
	r->slots[backup_recs_slot(r, path)] = (uint32_t)r->count + 1;
	return r->count++;
}

void
backup_recs_free(struct backup_recs *r)
{
	size_t i;

	for (i = 0; i * BACKUP_REC_CHUNK < r->count; i++)
		free(r->chunk[i]);
	free(r->chunk);
	free(r->names);
	free(r->slots);
	free(r->wants);
	memset(r, 0, sizeof *r);
}
