/*
 * The single read: the source opened, its entries one by one, each checked,
 * written into the staging folder and hashed, MANIFEST.sha256 and
 * BACKUP.INFO read on the way.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "xmalloc.h"
#include "backup-run.h"

/* Opens the source, whatever it is. */
static int
backup_source_open(struct backup_run *run)
{
	struct stat st;
	int fd;

	fd = open(run->opt->source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0) {
		backup_error(run, _("Cannot open the backup %1$s: %2$s."), run->shown_source,
		    strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		backup_walk_start(run, fd);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		backup_error(run, _("The backup %s is neither a file nor a folder."),
		    run->shown_source);
		goto fail;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return backup_input_open(run, fd, (uint64_t)st.st_size);

fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* MANIFEST.sha256 or BACKUP.INFO at the root: read and hashed, never written. */
static int
backup_entry_meta(struct backup_run *run, struct archive_entry *e, const char *path)
{
	const void *buf;
	size_t len, i;
	int64_t off;
	int r, is_manifest = strcmp(path, MANIFEST_NAME) == 0;

	if (backup_entry_type(e) != AE_IFREG || archive_entry_hardlink(e) != NULL)
		/* TRANSLATORS: %s is MANIFEST.sha256 or BACKUP.INFO, as the archive names it. */
		return backup_error(run, _("The backup's %s is not a plain file."), run->shown);
	if ((i = backup_check_new(run, path, BACKUP_REC_META)) == SIZE_MAX)
		return -1;
	/* The files before it hashed: their lines are checked as they are read. */
	if (is_manifest)
		hasher_drain(run->hasher);
	while ((r = run->ops->data(run, &buf, &len, &off)) > 0) {
		digest_update(run->file_digest, buf, len);
		if (!is_manifest)
			continue;
		if ((uint64_t)off != run->manifest_len ||
		    len > BACKUP_MANIFEST_MAX - run->manifest_len)
			/* TRANSLATORS: %1$s is MANIFEST.sha256, %2$d a number of mebibytes. */
			return backup_error(run, _("The backup's %1$s is larger than %2$d MiB."),
			    MANIFEST_NAME, BACKUP_MANIFEST_MAX >> 20);
		run->manifest_len += len;
		manifest_feed(run, buf, len);
	}
	if (is_manifest && run->mline_len > 0 && run->manifest_cause == NULL) {
		manifest_feed_line(run, run->mline, run->mline_len);
		run->mline_len = 0;
	}
	digest_final(run->file_digest, backup_rec(&run->recs, i)->digest);
	backup_rec(&run->recs, i)->state |= BACKUP_REC_HASHED;
	run->manifest_found |= is_manifest;
	return run->cause != NULL ? -1 : r;
}

/* Checks a file or folder entry and records it: the index, or SIZE_MAX. */
static size_t
backup_entry_check(struct backup_run *run, struct archive_entry *e, const char *path)
{
	enum backup_rec_type type;
	size_t canon, i;

	if (backup_check_type(run, e) != 0 || backup_check_hardlink(run, e, &canon) != 0)
		return SIZE_MAX;
	type = backup_entry_type(e) == AE_IFDIR ? BACKUP_REC_DIR : BACKUP_REC_FILE;
	if (canon != SIZE_MAX && type != BACKUP_REC_FILE) {
		backup_error(run, _("The backup entry \"%s\" is a folder and a hard link."),
		    run->shown);
		return SIZE_MAX;
	}
	if (backup_check_parents(run, path) != 0 ||
	    (i = backup_check_new(run, path, type)) == SIZE_MAX)
		return SIZE_MAX;
	if (canon != SIZE_MAX)
		backup_rec(&run->recs, i)->canon = (uint32_t)canon;
	if (type == BACKUP_REC_FILE && archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
		run->declared += (uint64_t)archive_entry_size(e);
		if (backup_check_space(run, run->declared) != 0)
			return SIZE_MAX;
	}
	return i;
}

/* A file or folder of the tree: checked, written, its data hashed. */
static int
backup_entry_tree(struct backup_run *run, struct archive_entry *e, const char *path)
{
	struct backup_rec *rec;
	size_t i;

	if ((i = backup_entry_check(run, e, path)) == SIZE_MAX)
		return -1;
	if (run->disk != NULL) {
		archive_entry_set_pathname(e, path);
		archive_entry_set_perm(e,
		    (archive_entry_perm(e) & 0777) |
			(backup_entry_type(e) == AE_IFDIR ? S_IRWXU : S_IRUSR | S_IWUSR));
		if (backup_enter(run) != 0)
			return -1;
		if (archive_write_header(run->disk, e) < ARCHIVE_WARN)
			return backup_disk_failed(run, NULL);
	}
	rec = backup_rec(&run->recs, i);
	if (rec->type == BACKUP_REC_FILE)
		run->files++;
	if (rec->type == BACKUP_REC_FILE && rec->canon == i && archive_entry_size(e) == 0)
		rec->state |= BACKUP_REC_OPEN;
	/*
	 * A hard link shares its target's digest; one carrying data (as the
	 * last link of a cpio set does) gives the data of both.
	 */
	if (rec->type == BACKUP_REC_FILE && (rec->canon == i || archive_entry_size(e) > 0) &&
	    backup_copy_data(run, e, rec->canon, rec->canon == i) != 0)
		return -1;
	if (run->disk != NULL && archive_write_finish_entry(run->disk) < ARCHIVE_WARN)
		return backup_disk_failed(run, NULL);
	writeback_note(run->writeback,
	    rec->type == BACKUP_REC_FILE ? (uint64_t)archive_entry_size(e) : 0);
	return 0;
}

/* One entry of the backup, whatever it is. */
static int
backup_entry(struct backup_run *run, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	char *path = NULL;
	int ret = -1;

	free(run->current);
	free(run->shown);
	run->current = xstrdup(name != NULL ? name : "");
	run->shown = backup_shown(run->current);
	if (backup_report_due(run) && backup_report(run) != 0)
		return -1;
	if (name == NULL || *name == '\0')
		return backup_error(run, _("The backup holds an entry whose name cannot be read."));
	if (backup_check_path(run, name, &path) != 0)
		goto out;
	if (*path == '\0' && archive_entry_filetype(e) == AE_IFDIR)
		ret = 0; /* the archive's root: the staging folder itself */
	else if (*path == '\0')
		ret = backup_error(run,
		    _("The backup entry \"%s\" names the backup's root but is not "
		      "a folder."),
		    run->shown);
	else if (strcmp(path, MANIFEST_NAME) == 0 || strcmp(path, BACKUP_INFO_NAME) == 0)
		ret = backup_entry_meta(run, e, path);
	else
		ret = backup_entry_tree(run, e, path);
out:
	free(path);
	return ret;
}

/*
 * The whole run.
 */

static int
backup_disk_close(struct backup_run *run)
{
	int r;

	if (backup_enter(run) != 0)
		return -1;
	r = archive_write_close(run->disk);
	if (backup_leave(run) != 0)
		return -1;
	if (r < ARCHIVE_WARN) {
		free(run->shown);
		run->shown = backup_shown(archive_error_string(run->disk));
		return backup_error(run, _("Cannot finish the staged folders: %s."), run->shown);
	}
	return 0;
}

/* Reads the source through once, entry by entry. */
int
backup_pass(struct backup_run *run)
{
	struct archive_entry *e;
	int r;

	if (backup_source_open(run) != 0)
		return -1;
	if (run->staging_fd >= 0) {
		run->disk = archive_write_disk_new();
		archive_write_disk_set_options(run->disk, BACKUP_DISK_FLAGS);
	}
	while ((r = run->ops->next(run, &e)) > 0) {
		if (backup_entry(run, e) != 0)
			return -1;
		run->entries++;
	}
	if (r < 0)
		return -1;
	hasher_drain(run->hasher);
	free(run->current);
	run->current = NULL;
	if (run->disk != NULL && backup_disk_close(run) != 0)
		return -1;
	if (run->in != NULL && backup_input_drain(run->in) != 0)
		return backup_read_failed(run);
	return backup_report(run);
}
