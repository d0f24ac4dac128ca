/*
 * Backup sources (see backup.h): step P of the procedure reads the backup
 * once, end to end, into a staging folder beside Kmsdata, and proves it
 * sound before anything is changed.
 *
 * The one read is a pipeline. A source gives entries and their data: an
 * archive file through libarchive (our read callback hashes the file as
 * stored and, for openssl enc files, decrypts it as a stream), or a folder
 * walked through directory fds without following a symbolic link. Each
 * entry is checked here before libarchive's disk writer (with its secure
 * flags as a second line) puts it in the staging folder, and each file's
 * data is hashed on its way through. At the end the hashes are compared
 * with MANIFEST.sha256, the tree is made durable, and the payload (the tree
 * or its one Kmsdata folder) is named. On any failure the staging folder
 * is removed: nothing outside it is ever written.
 *
 * 7-Zip keeps its index at the end, so libarchive must seek: for that
 * format alone the stream is also copied to an unnamed temporary file as it
 * is read, and libarchive seeks in the copy. The backup is still read once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fault.h"
#include "fs.h"
#include "i18n.h"
#include "media.h"
#include "utf8.h"
#include "xmalloc.h"
#include "backup-run.h"

int
backup_probe(const char *source, enum backup_kind *kind, char **cause)
{
	char head[BACKUP_SALT_LEN], *shown;
	struct stat st;
	ssize_t n;
	int fd;

	shown = utf8_escape(source);
	if (stat(source, &st) != 0) {
		*cause = xasprintf(_("Cannot find the backup %1$s: %2$s."), shown, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		*kind = BACKUP_DIRECTORY;
		free(shown);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		*cause = xasprintf(_("The backup %s is neither a file nor a folder."), shown);
		goto fail;
	}
	if ((fd = open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0 ||
	    (n = fs_read_full(fd, head, sizeof head)) < 0) {
		*cause = xasprintf(_("Cannot read the backup %1$s: %2$s."), shown, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	close(fd);
	*kind = n == BACKUP_SALT_LEN && memcmp(head, BACKUP_SALT_MAGIC, BACKUP_SALT_LEN) == 0 ?
	    BACKUP_ENCRYPTED :
	    BACKUP_ARCHIVE;
	free(shown);
	return 0;

fail:
	free(shown);
	return -1;
}

void
backup_result_free(struct backup_result *result)
{
	if (result == NULL)
		return;
	free(result->payload);
	xfree_argv(result->warnings);
	memset(result, 0, sizeof *result);
}

/* The tree to restore: the one top folder named Kmsdata in any case, or the whole. */
static char *
backup_payload(const struct backup_run *run)
{
	const struct backup_recs *r = &run->recs;
	const struct backup_rec *rec;
	size_t i, top = SIZE_MAX;

	for (i = 0; i < r->count; i++) {
		rec = backup_rec(r, i);
		if (rec->type == BACKUP_REC_META || rec->type == BACKUP_REC_LISTED ||
		    strchr(backup_rec_path(r, i), '/') != NULL)
			continue;
		if (top != SIZE_MAX)
			return xstrdup("");
		top = i;
	}
	if (top == SIZE_MAX)
		return xstrdup("");
	rec = backup_rec(r, top);
	if ((rec->type == BACKUP_REC_DIR || rec->type == BACKUP_REC_PARENT) &&
	    strcasecmp(backup_rec_path(r, top), "kmsdata") == 0)
		return xstrdup(backup_rec_path(r, top));
	return xstrdup("");
}

/*
 * The tree to restore must hold opt->expect (the key database). Without it
 * the backup is refused, naming what its top holds; a folder holding an
 * archive is asked about ("did you mean that file?").
 */
static int
backup_expected(struct backup_run *run, const char *payload)
{
	const struct backup_recs *r = &run->recs;
	const struct backup_rec *rec;
	char *want, *held = NULL, *more, *archive = NULL, *shown;
	size_t i, listed = 0;
	int ret;

	if (run->opt->expect == NULL || *run->opt->expect == '\0')
		return 0;
	want = *payload != '\0' ? xasprintf("%s/%s", payload, run->opt->expect) :
				  xstrdup(run->opt->expect);
	for (i = 0; i < r->count; i++) {
		rec = backup_rec(r, i);
		if (rec->type == BACKUP_REC_FILE && strcasecmp(backup_rec_path(r, i), want) == 0) {
			free(want);
			return 0;
		}
	}
	for (i = 0; i < r->count && listed < 4; i++) {
		rec = backup_rec(r, i);
		if (rec->type == BACKUP_REC_LISTED || rec->type == BACKUP_REC_PARENT ||
		    strchr(backup_rec_path(r, i), '/') != NULL)
			continue;
		shown = backup_shown(backup_rec_path(r, i));
		more = held == NULL ? xstrdup(shown) : xasprintf("%s, %s", held, shown);
		free(held);
		held = more;
		listed++;
		if (archive == NULL && rec->type == BACKUP_REC_FILE &&
		    media_is_archive_name(backup_rec_path(r, i)))
			archive = xasprintf("%s/%s", run->shown_source, shown);
		free(shown);
	}
	shown = backup_shown(run->opt->expect);
	if (archive != NULL)
		/* TRANSLATORS: %1$s the backup, %2$s the key database's name, %3$s what it holds, %4$s a file in it. */
		ret = backup_error(run,
		    _("The backup %1$s holds no %2$s: it is not a backup of Kmsdata. It holds %3$s. "
		      "Did you mean the file %4$s?"),
		    run->shown_source, shown, held, archive);
	else
		/* TRANSLATORS: %1$s the backup, %2$s the key database's name, %3$s what it holds. */
		ret = backup_error(run,
		    _("The backup %1$s holds no %2$s: it is not a backup of Kmsdata. It holds %3$s."),
		    run->shown_source, shown, held != NULL ? held : "-");
	free(shown);
	free(held);
	free(archive);
	free(want);
	return ret;
}

static int
backup_conclude(struct backup_run *run, struct backup_result *result)
{
	unsigned char sum[DIGEST_LEN];

	if (run->in != NULL) {
		if (backup_hmac_verify(run) != 0)
			return -1;
		backup_input_finish(run->in);
		memcpy(sum, run->in->sum, DIGEST_LEN);
		digest_hex(sum, result->sha256);
		result->hmac_matched = run->in->hmac;
		if (run->in->cipher != NULL && !run->in->hmac)
			backup_result_warn(result,
			    _("The encrypted backup has no HMAC file beside it: tampering with it "
			      "cannot be detected beyond its MANIFEST.sha256."));
	}
	result->bytes_read = backup_bytes_read(run);
	result->files = run->files;
	result->bytes = run->bytes;
	if (manifest_conclude(run, result) != 0)
		return -1;
	if (run->files == 0)
		return backup_error(run, _("The backup %s holds no files."), run->shown_source);
	result->payload = backup_payload(run);
	return backup_expected(run, result->payload);
}

static void
backup_run_init(struct backup_run *run, const struct backup_options *opt,
    const struct progress *progress)
{
	memset(run, 0, sizeof *run);
	run->opt = opt;
	run->progress = progress;
	run->shown_source = utf8_escape(opt->source);
	run->parent_fd = run->staging_fd = run->cwd_fd = run->flush_fd = -1;
	run->file_digest = digest_new();
	run->hasher = hasher_new(backup_file_digested, run, 1);
}

/*
 * Frees the disk writer, which then sets the folders' modes and times by
 * path: from inside the staging folder, or, if that cannot be entered, not
 * at all.
 */
static void
backup_disk_free(struct backup_run *run)
{
	if (run->disk == NULL)
		return;
	if (backup_enter(run) != 0)
		archive_write_fail(run->disk);
	archive_write_free(run->disk);
	run->disk = NULL;
	(void)backup_leave(run);
}

static void
backup_run_free(struct backup_run *run)
{
	size_t i;

	backup_disk_free(run);
	if (run->reader != NULL)
		archive_read_free(run->reader);
	if (run->in != NULL) {
		close(run->in->fd);
		if (run->in->spool_fd >= 0)
			close(run->in->spool_fd);
		EVP_CIPHER_CTX_free(run->in->cipher);
		hasher_free(run->in->hasher);
		/* What was read into it: a small backup leaves most pages untouched. */
		for (i = 0; i < BACKUP_RING; i++)
			OPENSSL_cleanse(run->in->ring + i * BACKUP_BLOCK, run->in->ring_used[i]);
		free(run->in->ring);
		if (run->in->plain != NULL) {
			OPENSSL_cleanse(run->in->plain, BACKUP_BLOCK + EVP_MAX_BLOCK_LENGTH);
			free(run->in->plain);
		}
		free(run->in);
	}
	backup_walk_free(run->walk);
	hasher_free(run->hasher);
	if (run->flush_fd >= 0)
		close(run->flush_fd);
	if (run->staging_fd >= 0)
		close(run->staging_fd);
	if (run->cwd_fd >= 0)
		close(run->cwd_fd);
	backup_recs_free(&run->recs);
	digest_free(run->file_digest);
	free(run->manifest_cause);
	free(run->mline);
	free(run->current);
	free(run->shown);
	free(run->shown_source);
	free(run->cause);
}

int
backup_validate(const struct backup_options *opt, const struct progress *progress,
    struct backup_result *result, char **cause)
{
	struct backup_run run;
	int ret = 0;

	memset(result, 0, sizeof *result);
	backup_run_init(&run, opt, progress);
	if (backup_pass(&run) != 0 || backup_conclude(&run, result) != 0) {
		backup_result_free(result);
		*cause = run.cause;
		run.cause = NULL;
		ret = -1;
	}
	backup_run_free(&run);
	return ret;
}

static int
backup_staging_create(struct backup_run *run, int parent_fd, const char *name, int *created)
{
	char *shown;

	run->parent_fd = parent_fd;
	if (fault_fail("mkdir") != 0 || mkdirat(parent_fd, name, S_IRWXU) != 0) {
		shown = backup_shown(name);
		backup_error(run, _("Cannot create the staging folder %1$s: %2$s."), shown,
		    strerror(errno));
		free(shown);
		return -1;
	}
	*created = 1;
	run->staging_fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (run->staging_fd < 0 || fstat(run->staging_fd, &run->staging_st) != 0)
		return backup_error(run, _("Cannot open the staging folder: %s."), strerror(errno));
#ifdef O_PATH
	run->cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
#else
	run->cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
#endif
	if (run->cwd_fd < 0)
		return backup_error(run, _("Cannot open the current folder: %s."), strerror(errno));
	return 0;
}

/* The cause of a failed staging, saying what became of the staging folder. */
static char *
backup_stage_cause(struct backup_run *run, int parent_fd, const char *name, int created)
{
	char *shown, *cause;

	if (!created)
		/* TRANSLATORS: %s is a complete sentence saying what went wrong. */
		return xasprintf(_("%s Nothing was changed."), run->cause);
	if (fs_remove_tree(parent_fd, name) == 0)
		/* TRANSLATORS: %s is a complete sentence saying what went wrong. */
		return xasprintf(_("%s The staging folder was removed; nothing else was changed."),
		    run->cause);
	shown = backup_shown(name);
	/* TRANSLATORS: %1$s says what went wrong, %2$s is a folder, %3$s the system's error. */
	cause = xasprintf(_("%1$s The staging folder %2$s could not be removed (%3$s); nothing "
			    "else was changed."),
	    run->cause, shown, strerror(errno));
	free(shown);
	return cause;
}

int
backup_stage(const struct backup_options *opt, int parent_fd, const char *staged_name,
    const struct progress *progress, struct backup_result *result, char **cause)
{
	struct backup_run run;
	int ret = -1, created = 0, r;

	memset(result, 0, sizeof *result);
	backup_run_init(&run, opt, progress);
	if (backup_staging_create(&run, parent_fd, staged_name, &created) != 0)
		goto out;
	run.writeback = writeback_start(run.staging_fd);
	r = backup_pass(&run);
	writeback_stop(run.writeback);
	run.writeback = NULL;
	if (r != 0 || backup_conclude(&run, result) != 0 || backup_staging_sync(&run) != 0)
		goto out;
	ret = 0;
out:
	(void)backup_leave(&run);
	if (ret != 0) {
		backup_disk_free(&run);
		backup_result_free(result);
		if (run.cause == NULL)
			run.cause = xstrdup(_("The backup could not be staged."));
		if (run.staging_fd >= 0) {
			close(run.staging_fd);
			run.staging_fd = -1;
		}
		*cause = backup_stage_cause(&run, parent_fd, staged_name, created);
	}
	backup_run_free(&run);
	return ret;
}
