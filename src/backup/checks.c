/*
 * Safety rule 5 (DESIGN.md): entries that would land outside Kmsdata
 * (.., absolute paths, through symbolic links, hard links out), device
 * nodes, set-id bits and other kinds a Kmsdata does not hold are refused,
 * naming the entry; and the free space is checked before the data comes.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "xmalloc.h"
#include "backup-run.h"

/*
 * Checking each entry before it is written.
 */

enum backup_path_verdict {
	BACKUP_PATH_OK,
	BACKUP_PATH_ABSOLUTE,
	BACKUP_PATH_DOTDOT,
	BACKUP_PATH_LONG,
	BACKUP_PATH_DEEP
};

/*
 * Normalises an entry's path: "." components, repeated and trailing
 * slashes dropped ("" for the archive's root). Refuses what could leave
 * the staging folder or not fit in it.
 */
static enum backup_path_verdict
backup_path_clean(const char *name, char **out)
{
	const char *p = name;
	size_t n, depth = 0, len = strlen(name);
	char *o;

	*out = NULL;
	if (*name == '/')
		return BACKUP_PATH_ABSOLUTE;
	if (len >= PATH_MAX)
		return BACKUP_PATH_LONG;
	o = *out = xmalloc(len + 1);
	while (*p != '\0') {
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(*out);
			*out = NULL;
			return BACKUP_PATH_DOTDOT;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o != *out)
				*o++ = '/';
			memcpy(o, p, n);
			o += n;
			depth++;
		}
		for (p += n; *p == '/'; p++)
			;
	}
	*o = '\0';
	if (depth > BACKUP_MAX_DEPTH) {
		free(*out);
		*out = NULL;
		return BACKUP_PATH_DEEP;
	}
	return BACKUP_PATH_OK;
}

int
backup_check_path(struct backup_run *run, const char *name, char **path)
{
	/* Every refusal returns -1 here, where *path is NULL, whatever backup_error does. */
	switch (backup_path_clean(name, path)) {
	case BACKUP_PATH_OK:
		return 0;
	case BACKUP_PATH_ABSOLUTE:
		backup_error(run, _("The backup entry \"%s\" has an absolute path."), run->shown);
		break;
	case BACKUP_PATH_DOTDOT:
		backup_error(run,
		    _("The backup entry \"%s\" has \"..\" in its path: it would "
		      "land outside the staging folder."),
		    run->shown);
		break;
	case BACKUP_PATH_LONG:
		backup_error(run, _("The backup entry \"%1$s\" has a path longer than %2$d bytes."),
		    run->shown, PATH_MAX - 1);
		break;
	case BACKUP_PATH_DEEP:
		backup_error(run,
		    _("The backup entry \"%1$s\" is nested more than %2$d folders deep."),
		    run->shown, BACKUP_MAX_DEPTH);
		break;
	}
	return -1;
}

/* The entry's type; a hard link (which tar stores without one) is a file. */
mode_t
backup_entry_type(struct archive_entry *e)
{
	mode_t type = archive_entry_filetype(e);

	if (type == 0 && archive_entry_hardlink(e) != NULL)
		return AE_IFREG;
	return type;
}

/* Refuses every kind of entry a Kmsdata folder does not hold. */
int
backup_check_type(struct backup_run *run, struct archive_entry *e)
{
	char *target;

	switch (backup_entry_type(e)) {
	case AE_IFREG:
	case AE_IFDIR:
		break;
	case AE_IFLNK:
		target = backup_shown(archive_entry_symlink(e));
		backup_error(run,
		    _("The backup entry \"%1$s\" is a symbolic link (to \"%2$s\"); a "
		      "Kmsdata backup holds none."),
		    run->shown, target);
		free(target);
		return -1;
	case AE_IFCHR:
	case AE_IFBLK:
		return backup_error(run, _("The backup entry \"%s\" is a device node."),
		    run->shown);
	case AE_IFIFO:
		return backup_error(run, _("The backup entry \"%s\" is a FIFO."), run->shown);
	case AE_IFSOCK:
		return backup_error(run, _("The backup entry \"%s\" is a socket."), run->shown);
	default:
		return backup_error(run, _("The backup entry \"%s\" is of an unknown type."),
		    run->shown);
	}
	if ((archive_entry_mode(e) & (S_ISUID | S_ISGID | S_ISVTX)) != 0)
		return backup_error(run,
		    _("The backup entry \"%s\" has a set-user-ID, set-group-ID "
		      "or sticky bit."),
		    run->shown);
	return 0;
}

/* A hard link must name a file extracted before it; *canon is that file's record. */
int
backup_check_hardlink(struct backup_run *run, struct archive_entry *e, size_t *canon)
{
	const char *target = archive_entry_hardlink(e);
	char *path, *shown;
	size_t i = SIZE_MAX;

	*canon = SIZE_MAX;
	if (target == NULL)
		return 0;
	if (backup_path_clean(target, &path) == BACKUP_PATH_OK)
		i = backup_recs_find(&run->recs, path);
	if (i == SIZE_MAX || backup_rec(&run->recs, i)->type != BACKUP_REC_FILE) {
		shown = backup_shown(target);
		backup_error(run,
		    _("The backup entry \"%1$s\" is a hard link to \"%2$s\", which is "
		      "outside the backup or not extracted before it."),
		    run->shown, shown);
		free(shown);
		free(path);
		return -1;
	}
	archive_entry_set_hardlink(e, path);
	free(path);
	*canon = backup_rec(&run->recs, i)->canon;
	return 0;
}

/* More paths than records can count: far beyond any Kmsdata, and refused. */
int
backup_too_many(struct backup_run *run)
{
	return backup_error(run, _("The backup %1$s cannot be read: %2$s."), run->shown_source,
	    strerror(EOVERFLOW));
}

/* Refuses a path through anything but a folder; records the folders it implies. */
int
backup_check_parents(struct backup_run *run, const char *path)
{
	struct backup_rec *rec;
	char *prefix, *slash, *shown;
	size_t i;
	int ret = 0;

	prefix = xstrdup(path);
	for (slash = strchr(prefix, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if ((i = backup_recs_find(&run->recs, prefix)) == SIZE_MAX) {
			if (backup_recs_add(&run->recs, prefix, BACKUP_REC_PARENT) == SIZE_MAX) {
				ret = backup_too_many(run);
				break;
			}
		} else if ((rec = backup_rec(&run->recs, i))->type == BACKUP_REC_LISTED)
			rec->type = BACKUP_REC_PARENT;
		else if (rec->type != BACKUP_REC_PARENT && rec->type != BACKUP_REC_DIR) {
			shown = backup_shown(prefix);
			ret = backup_error(run,
			    _("The backup entry \"%1$s\" goes through \"%2$s\", which "
			      "is not a folder."),
			    run->shown, shown);
			free(shown);
			break;
		}
		*slash = '/';
	}
	free(prefix);
	return ret;
}

/*
 * Records the entry, refusing duplicates and replacements. Returns its
 * index, or SIZE_MAX with a cause.
 */
size_t
backup_check_new(struct backup_run *run, const char *path, enum backup_rec_type type)
{
	struct backup_rec *rec;
	size_t i;

	if ((i = backup_recs_find(&run->recs, path)) == SIZE_MAX) {
		if ((i = backup_recs_add(&run->recs, path, type)) == SIZE_MAX)
			backup_too_many(run);
		return i;
	}
	rec = backup_rec(&run->recs, i);
	if (rec->type == BACKUP_REC_LISTED ||
	    (rec->type == BACKUP_REC_PARENT && type == BACKUP_REC_DIR)) {
		rec->type = (unsigned char)type;
		return i;
	}
	if ((rec->type == BACKUP_REC_PARENT || rec->type == BACKUP_REC_DIR) &&
	    type != BACKUP_REC_DIR)
		backup_error(run, _("The backup entry \"%s\" would replace a folder with a file."),
		    run->shown);
	else if (rec->type == BACKUP_REC_FILE && type == BACKUP_REC_DIR)
		backup_error(run, _("The backup entry \"%s\" would replace a file with a folder."),
		    run->shown);
	else
		backup_error(run, _("The backup entry \"%s\" appears twice in the backup."),
		    run->shown);
	return SIZE_MAX;
}

int
backup_check_space(struct backup_run *run, uint64_t total)
{
	uint64_t free_space = run->opt->free_space;

	if (free_space == 0 || total <= free_space)
		return 0;
	/* TRANSLATORS: %2$llu and %3$llu are numbers of bytes. */
	return backup_error(run,
	    _("The backup entry \"%1$s\" does not fit: the backup needs %2$llu "
	      "bytes, and %3$llu are free."),
	    run->shown, (unsigned long long)total, (unsigned long long)free_space);
}
