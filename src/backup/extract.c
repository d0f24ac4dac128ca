/*
 * Writing the staging folder: each file's data through libarchive's disk
 * writer (secure flags on), sent to the disk as it goes, hashed; at the end
 * the tree made durable; on failure removed without following a link.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "fs.h"
#include "i18n.h"
#include "backup-run.h"

/* fsyncs every folder below fd and fd itself (and the files, without syncfs). */
static int
backup_sync_dir(int fd)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int sub, dup_fd, r = 0;

	if ((dup_fd = dup(fd)) < 0)
		return -1;
	if ((dir = fdopendir(dup_fd)) == NULL) {
		close(dup_fd);
		return -1;
	}
	while (r == 0 && (errno = 0, de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
#ifdef HAVE_SYNCFS
		/* syncfs has written the files: only folders are visited, found by d_type. */
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
#endif
		if ((r = fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW)) != 0)
			break;
#ifdef HAVE_SYNCFS
		if (!S_ISDIR(st.st_mode))
			continue;
#endif
		if ((sub = backup_walk_open(fd, de->d_name, &st)) < 0) {
			r = -1;
			break;
		}
		r = S_ISDIR(st.st_mode) ? backup_sync_dir(sub) : fs_fsync(sub);
		close(sub);
	}
	if (r == 0 && errno != 0)
		r = -1;
	closedir(dir);
	return r != 0 ? -1 : fs_fsync(fd);
}

/* Makes the staged tree and its name in the parent durable. */
int
backup_staging_sync(struct backup_run *run)
{
	int fd, r;

#ifdef HAVE_SYNCFS
	if (fault_fail("fsync") != 0 || syncfs(run->staging_fd) != 0)
		goto fail;
#endif
	if (backup_sync_dir(run->staging_fd) != 0)
		goto fail;
	if ((fd = openat(run->parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	r = fs_fsync(fd);
	close(fd);
	if (r != 0)
		goto fail;
	return 0;

fail:
	return backup_error(run, _("Cannot write the staged files to disk: %s."), strerror(errno));
}

/*
 * Reading an entry's data: hashed, and written when staging.
 */

/* A file's digest, back from the hasher: into the record it was asked for. */
void
backup_file_digested(void *arg, size_t rec, const unsigned char *digest)
{
	struct backup_run *run = arg;
	struct backup_rec *r = backup_rec(&run->recs, rec);

	if ((r->state & BACKUP_REC_HASHED) && memcmp(r->digest, digest, DIGEST_LEN) != 0)
		r->state |= BACKUP_REC_CHANGED;
	memcpy(r->digest, digest, DIGEST_LEN);
	r->state |= BACKUP_REC_HASHED;
}

int
backup_disk_failed(struct backup_run *run, const char *why)
{
	char *detail;
	int ret;

	detail = backup_shown(why != NULL ? why : archive_error_string(run->disk));
	ret = backup_error(run,
	    _("The backup entry \"%1$s\" cannot be written to the staging "
	      "folder: %2$s."),
	    run->shown, detail);
	free(detail);
	return ret;
}

static int
backup_write_block(struct backup_run *run, const void *buf, size_t len, int64_t off)
{
	if (run->disk == NULL)
		return 0;
	if (fault_fail("write") != 0)
		return backup_disk_failed(run, strerror(errno));
	if (archive_write_data_block(run->disk, buf, len, off) < ARCHIVE_WARN)
		return backup_disk_failed(run, NULL);
	return 0;
}

/*
 * Starts writing the file's data up to at to the disk, without waiting,
 * every BACKUP_FLUSH_STEP bytes (and at its end, once started): the disk
 * then works while the rest of the backup is read, and the syncfs at the
 * end (which alone gives the guarantee) has little left to wait for. Small
 * files are left to it. Best effort: a failure here changes nothing.
 */
static void
backup_flush(struct backup_run *run, struct archive_entry *e, int64_t at, int last)
{
#ifdef SYNC_FILE_RANGE_WRITE
	if (run->disk == NULL || (at - run->flushed < BACKUP_FLUSH_STEP && !last) ||
	    (last && run->flushed == 0))
		return;
	if (run->flush_fd < 0)
		run->flush_fd = open(archive_entry_pathname(e),
		    O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (run->flush_fd >= 0 && at > run->flushed)
		(void)sync_file_range(run->flush_fd, run->flushed, at - run->flushed,
		    SYNC_FILE_RANGE_WRITE);
	run->flushed = at;
	if (last && run->flush_fd >= 0) {
		close(run->flush_fd);
		run->flush_fd = -1;
	}
#else
	(void)run;
	(void)e;
	(void)at;
	(void)last;
#endif
}

/*
 * A small file is hashed here, on the reading thread: handing it to the
 * hasher costs more than its SHA-256 (two jobs, a wake-up and a switch of
 * threads: 4 context switches a file, 400,000 for 100,000 files). Only a
 * file's own data: a hard link's follows its target's through the hasher,
 * in order.
 */
static void
backup_hash_zeros(struct backup_run *run, int here, uint64_t n)
{
	static const unsigned char zeros[4096];
	size_t k;

	if (!here) {
		hasher_zeros(run->hasher, n);
		return;
	}
	for (; n > 0; n -= k) {
		k = n < sizeof zeros ? (size_t)n : sizeof zeros;
		digest_update(run->file_digest, zeros, k);
	}
}

/*
 * Copies the entry's data (holes read as zeros) and has it hashed, the
 * digest going to record canon (own: canon is the entry's own record).
 */
int
backup_copy_data(struct backup_run *run, struct archive_entry *e, size_t canon, int own)
{
	unsigned char digest[DIGEST_LEN];
	const void *buf;
	size_t len;
	int64_t off, at = 0;
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	int r, here = own && size >= 0 && size <= BACKUP_HASH_HERE_MAX;

	run->flushed = 0;
	while ((r = run->ops->data(run, &buf, &len, &off)) > 0) {
		/*
		 * Blocks must come in order and inside the declared size; a hole
		 * needs a declared size. Otherwise a planted sparse entry could
		 * make us hash an endless run of zeros.
		 */
		if (off < at || (size >= 0 && (off > size || (int64_t)len > size - off)) ||
		    (size < 0 && off != at))
			return backup_error(run,
			    _("The backup entry \"%s\" has its data out of order."), run->shown);
		backup_hash_zeros(run, here, (uint64_t)(off - at));
		if (here)
			digest_update(run->file_digest, buf, len);
		else
			hasher_update(run->hasher, buf, len);
		at = off + (int64_t)len;
		run->bytes += len;
		if (backup_write_block(run, buf, len, off) != 0 ||
		    backup_check_space(run,
			run->declared > run->bytes ? run->declared : run->bytes) != 0)
			return -1;
		backup_flush(run, e, at, 0);
		if (backup_bytes_read(run) - run->last_progress >= BACKUP_PROGRESS_STEP &&
		    backup_report(run) != 0)
			return -1;
	}
	if (r < 0)
		return -1;
	backup_flush(run, e, at, 1);
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > at)
		backup_hash_zeros(run, here, (uint64_t)(archive_entry_size(e) - at));
	if (!here) {
		hasher_final(run->hasher, canon);
		return 0;
	}
	digest_final(run->file_digest, digest);
	backup_file_digested(run, canon, digest);
	return 0;
}
