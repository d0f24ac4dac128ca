/*
 * The paths of a backup: every one seen or listed in its manifest, kept to
 * the end in chunks with an open-addressing index (48 bytes and the path
 * each), and names escaped for display.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "xmalloc.h"
#include "backup-run.h"

/*
 * A name for a cause: escaped, and cut short (at a character's boundary)
 * past BACKUP_SHOWN_MAX bytes, so that a hostile 4 KiB path cannot flood
 * the operator's screen.
 */
char *
backup_shown(const char *name)
{
	char *s = utf8_escape(name), *cut;
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
