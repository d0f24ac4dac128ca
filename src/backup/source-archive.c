/*
 * The archive source: the archive file's head read and its decryption set
 * up, then libarchive reads the input through our callbacks; 7-Zip, which
 * keeps its index at the end, is also copied to an unnamed spool file as
 * it is read, and libarchive seeks in the copy.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "fs.h"
#include "i18n.h"
#include "xmalloc.h"
#include "backup-run.h"

/* libarchive's read callback for a stream read as it comes. */
static la_ssize_t
backup_stream_read(struct archive *a, void *arg, const void **buf)
{
	struct backup_input *in = arg;
	size_t n;
	int r;

	if ((r = backup_input_fill(in)) <= 0) {
		if (r < 0)
			archive_set_error(a, EIO, "read failed");
		return r;
	}
	*buf = in->out + in->out_off;
	n = in->out_len - in->out_off;
	in->out_off = in->out_len;
	return (la_ssize_t)n;
}

/* Appends the source's next block to the spool: 1, 0 at the end, -1. */
static int
backup_spool_extend(struct backup_input *in)
{
	const unsigned char *p;
	size_t left;
	ssize_t n;
	int r;

	if ((r = backup_input_fill(in)) <= 0)
		return r;
	p = in->out + in->out_off;
	left = in->out_len - in->out_off;
	while (left > 0) {
		n = fault_fail("write") != 0 ? -1 :
					       pwrite(in->spool_fd, p, left, (off_t)in->spool_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			in->spool_errno = n < 0 ? errno : EIO;
			return -1;
		}
		p += n;
		left -= (size_t)n;
		in->spool_len += (uint64_t)n;
	}
	in->out_off = in->out_len;
	return 1;
}

/* libarchive's read callback for a spooled stream (7-Zip). */
static la_ssize_t
backup_spool_read(struct archive *a, void *arg, const void **buf)
{
	struct backup_input *in = arg;
	uint64_t avail;
	ssize_t n;
	int r;

	while (in->pos >= in->spool_len) {
		if ((r = backup_spool_extend(in)) <= 0) {
			if (r < 0)
				archive_set_error(a, EIO, "read failed");
			return r;
		}
	}
	avail = in->spool_len - in->pos;
	do {
		n = pread(in->spool_fd, in->spool_buf,
		    avail < BACKUP_BLOCK ? (size_t)avail : BACKUP_BLOCK, (off_t)in->pos);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		in->spool_errno = n < 0 ? errno : EIO;
		archive_set_error(a, EIO, "read failed");
		return -1;
	}
	in->pos += (uint64_t)n;
	*buf = in->spool_buf;
	return n;
}

/* libarchive's seek callback: forward seeks read the source on into the spool. */
static la_int64_t
backup_spool_seek(struct archive *a, void *arg, la_int64_t offset, int whence)
{
	struct backup_input *in = arg;
	int64_t base;
	int r = 1;

	(void)a;
	if (whence == SEEK_END) {
		while ((r = backup_spool_extend(in)) > 0)
			;
	}
	if (r < 0)
		return ARCHIVE_FATAL;
	base = whence == SEEK_SET ? 0 :
	    whence == SEEK_CUR    ? (int64_t)in->pos :
				    (int64_t)in->spool_len;
	if (offset < -base || offset > INT64_MAX - base)
		return ARCHIVE_FATAL;
	while ((uint64_t)(base + offset) > in->spool_len && (r = backup_spool_extend(in)) > 0)
		;
	if (r < 0)
		return ARCHIVE_FATAL;
	in->pos = (uint64_t)(base + offset);
	if (in->pos > in->spool_len)
		in->pos = in->spool_len;
	return (la_int64_t)in->pos;
}

/*
 * Why the source could not be read, in the operator's words. An encrypted
 * backup that libarchive cannot make sense of was, most likely, decrypted
 * with the wrong passphrase.
 */
int
backup_read_failed(struct backup_run *run)
{
	struct backup_input *in = run->in;
	char *detail;
	int ret;

	if (in->read_errno != 0)
		return backup_error(run, _("Cannot read the backup %1$s: %2$s."), run->shown_source,
		    strerror(in->read_errno));
	/* What an altered encrypted file makes of libarchive, told as what it is. */
	if (in->spool_errno == 0 && backup_hmac_verify(run) != 0)
		return -1;
	if (in->spool_errno != 0)
		return backup_error(run,
		    _("Cannot write the temporary copy of the 7-Zip backup %1$s: %2$s."),
		    run->shown_source, strerror(in->spool_errno));
	if (in->bad_padding || (in->cipher != NULL && run->entries == 0))
		return backup_error(run,
		    _("The backup %s cannot be decrypted: the passphrase is wrong "
		      "or the backup is damaged."),
		    run->shown_source);
	detail = backup_shown(run->reader != NULL ? archive_error_string(run->reader) : NULL);
	if (in->cipher != NULL)
		ret = backup_error(run,
		    _("The backup %1$s cannot be read (%2$s): the passphrase is wrong "
		      "or the backup is damaged."),
		    run->shown_source, detail);
	else if (run->current != NULL)
		/* TRANSLATORS: %2$s is the backup file, %3$s libarchive's explanation. */
		ret = backup_error(run,
		    _("The entry \"%1$s\" of the backup %2$s cannot be read: %3$s."), run->shown,
		    run->shown_source, detail);
	else
		ret = backup_error(run, _("The backup %1$s cannot be read: %2$s."),
		    run->shown_source, detail);
	free(detail);
	return ret;
}

static int
backup_archive_next(struct backup_run *run, struct archive_entry **entry)
{
	int r;

	r = archive_read_next_header(run->reader, entry);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return backup_read_failed(run);
	return 1;
}

static int
backup_archive_data(struct backup_run *run, const void **buf, size_t *len, int64_t *off)
{
	la_int64_t o;
	int r;

	r = archive_read_data_block(run->reader, buf, len, &o);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return backup_read_failed(run);
	*off = o;
	return 1;
}

static const struct backup_source_ops backup_archive_ops = { backup_archive_next,
	backup_archive_data };

/*
 * Every format libarchive reads except mtree, whose "archives" take their
 * files' contents from this machine's disk (contents=/etc/shadow).
 */
static void
backup_archive_formats(struct archive *a)
{
	archive_read_support_filter_all(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_ar(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_empty(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_lha(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_warc(a);
	archive_read_support_format_xar(a);
	archive_read_support_format_zip(a);
}

/* An unnamed file for the 7-Zip spool: beside the staging folder, or in $TMPDIR. */
static int
backup_spool_open(struct backup_run *run)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (run->parent_fd >= 0)
		fd = openat(run->parent_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	else
		fd = open(tmp != NULL && *tmp != '\0' ? tmp : "/tmp",
		    O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return backup_error(run,
		    _("Cannot make a temporary copy of the 7-Zip backup %1$s: %2$s."),
		    run->shown_source, strerror(errno));
	run->in->spool_fd = fd;
	return 0;
}

static int
backup_archive_open(struct backup_run *run)
{
	struct backup_input *in = run->in;
	size_t avail = in->out_len - in->out_off;

	if (avail >= BACKUP_7Z_MAGIC_LEN &&
	    memcmp(in->out + in->out_off, BACKUP_7Z_MAGIC, BACKUP_7Z_MAGIC_LEN) == 0 &&
	    backup_spool_open(run) != 0)
		return -1;
	run->reader = archive_read_new();
	backup_archive_formats(run->reader);
	archive_read_set_callback_data(run->reader, in);
	if (in->spool_fd >= 0) {
		archive_read_set_read_callback(run->reader, backup_spool_read);
		archive_read_set_seek_callback(run->reader, backup_spool_seek);
	} else
		archive_read_set_read_callback(run->reader, backup_stream_read);
	if (archive_read_open1(run->reader) != ARCHIVE_OK)
		return backup_read_failed(run);
	run->ops = &backup_archive_ops;
	return 0;
}

/*
 * Reads the head (into the ring's first block, lent to the hasher like the
 * rest); sets up decryption for openssl enc; hands on to libarchive.
 */
int
backup_input_open(struct backup_run *run, int fd, uint64_t size)
{
	const struct backup_options *opt = run->opt;
	struct backup_input *in;
	unsigned char *head;
	ssize_t n;

	run->in = in = xcalloc(1, sizeof *in);
	in->fd = fd;
	in->size = size;
	in->spool_fd = -1;
	in->hasher = hasher_new(backup_input_digested, in, 0);
	in->ring = xmalloc((size_t)BACKUP_RING * BACKUP_BLOCK);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	head = in->ring;
	in->next = 1;
	if ((n = fs_read_full(fd, head, BACKUP_HEAD_LEN)) < 0) {
		in->read_errno = errno;
		return backup_read_failed(run);
	}
	in->raw_read = (uint64_t)n;
	in->out = head;
	in->out_len = (size_t)n;
	in->eof = n < BACKUP_HEAD_LEN;
	if (n == BACKUP_HEAD_LEN && memcmp(head, BACKUP_SALT_MAGIC, BACKUP_SALT_LEN) == 0) {
		if (opt->passphrase == NULL)
			return backup_error(run,
			    _("The backup %s is encrypted: a passphrase is needed."),
			    run->shown_source);
		if (backup_input_key(in, head + BACKUP_SALT_LEN, opt->passphrase,
			opt->iterations) != 0)
			return backup_error(run,
			    _("Cannot derive the key to decrypt the backup %s."),
			    run->shown_source);
		if (backup_hmac_open(run, head + BACKUP_SALT_LEN) != 0)
			return -1;
		in->out_len = 0;
	}
	/* Only now: the HMAC, when there is one, covers the head too. */
	in->ticket[0] = hasher_lend(in->hasher, head, (size_t)n);
	in->ring_used[0] = (size_t)n;
	if (backup_input_fill(in) < 0)
		return backup_read_failed(run);
	return backup_archive_open(run);
}
