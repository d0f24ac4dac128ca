/*
 * How the restore scales (the benchmark's promises, checked without timing
 * anything): the backup is read exactly once, byte for byte, however many
 * files it holds; what checking it holds in memory does not grow with the
 * size of its files at all, and with their number by no more than a small
 * record each (every path is kept to the end, since MANIFEST.sha256 may
 * come last; the data never is).
 *
 * The archives are made here with libarchive's writer, MANIFEST.sha256 last
 * as kmsrecover's own backups have it, and one encrypted with its FILE.hmac
 * by kmsrecover's own writer: its HMAC is checked in the same single read,
 * and an altered copy is refused having been read once, to its end, too.
 * Reads are counted by this program's
 * own read(), which the backend's calls reach (it is linked statically) and
 * which counts the bytes read from the archive's inode; syncfs() and
 * fchdir() are counted the same way, to prove that staging sends its files
 * to the disk from a second thread while it reads (the last syncfs, which
 * gives the guarantee, still on the caller's) and changes folder a fixed
 * number of times, not twice an entry. The heap is
 * sampled with mallinfo2() at every progress report (after each entry and
 * each MiB read); under a sanitizer, which keeps its own heap, those checks
 * are skipped.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "backup.h"
#include "digest.h"
#include "manifest.h"
#include "mkbackup.h"
#include "secret.h"
#include "tap.h"
#include "writeback.h"
#include "xmalloc.h"

#define FOLDERS 100
/* bytes a file may cost, at most (a 48-byte record, its path, its index slot) */
#define RECORD_MAX 100
#define DATA_SLACK (512 * 1024) /* what larger files may cost, at most: nothing that grows */
#define PASSPHRASE "correct horse battery"

static char root[] = "/tmp/test-backup-scale.XXXXXX";

/* The archive being read: its inode, and what read() took from it. */
static dev_t watch_dev;
static ino_t watch_ino;
static uint64_t watch_bytes;
static uint64_t watch_reads;

ssize_t
read(int fd, void *buf, size_t len)
{
	ssize_t n = (ssize_t)syscall(SYS_read, fd, buf, len);
	struct stat st;

	if (n > 0 && watch_ino != 0 && fstat(fd, &st) == 0 && st.st_ino == watch_ino &&
	    st.st_dev == watch_dev) {
		__atomic_add_fetch(&watch_bytes, (uint64_t)n, __ATOMIC_RELAXED);
		__atomic_add_fetch(&watch_reads, 1, __ATOMIC_RELAXED);
	}
	return n;
}

/* syncfs calls on the main thread and on others; fchdir calls. */
static pid_t main_tid;
static unsigned long syncfs_main, syncfs_other, fchdir_calls;

int
syncfs(int fd)
{
	if ((pid_t)syscall(SYS_gettid) == main_tid)
		__atomic_add_fetch(&syncfs_main, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&syncfs_other, 1, __ATOMIC_RELAXED);
	return (int)syscall(SYS_syncfs, fd);
}

int
fchdir(int fd)
{
	__atomic_add_fetch(&fchdir_calls, 1, __ATOMIC_RELAXED);
	return (int)syscall(SYS_fchdir, fd);
}

static size_t
heap_now(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* Whether mallinfo2 sees this program's allocations (not under ASan). */
static int
heap_measurable(void)
{
	size_t before = heap_now();
	char *p = malloc(4 * 1024 * 1024);
	int seen;

	if (p == NULL)
		return 0;
	memset(p, 1, 4 * 1024 * 1024);
	seen = heap_now() >= before + 4 * 1024 * 1024;
	free(p);
	return seen;
}

struct watch {
	size_t peak;
	uint64_t reports;
	uint64_t last_done;
};

static int
watch_progress(void *arg, const struct progress_state *s)
{
	struct watch *w = arg;
	size_t now = heap_now();

	if (now > w->peak)
		w->peak = now;
	w->reports++;
	w->last_done = s->bytes_done;
	return 0;
}

static char *
join(const char *a, const char *b)
{
	return xasprintf("%s/%s", a, b);
}

static void
rm_rf(const char *path)
{
	char *cmd = xasprintf("rm -rf '%s'", path);

	if (system(cmd) != 0)
		diag("cannot remove %s", path);
	free(cmd);
}

static int
add_entry(struct archive *a, struct archive_entry *e, const char *path, int type, const void *data,
    size_t len)
{
	archive_entry_clear(e);
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, (unsigned int)type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, type == AE_IFDIR ? 0 : (la_int64_t)len);
	archive_entry_set_mtime(e, 1000000000, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		return -1;
	if (len > 0 && archive_write_data(a, data, len) != (la_ssize_t)len)
		return -1;
	return 0;
}

/* One file's content: size bytes, the same for the same (n, size). */
static void
fill(unsigned char *buf, size_t size, unsigned long n)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL * (n + 1);
	size_t i;

	for (i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
}

/*
 * A tar of files files of size bytes each, in FOLDERS folders (when there
 * are more than FOLDERS), with MANIFEST.sha256 last. Returns its path.
 */
static char *
make_tar(const char *name, unsigned long files, size_t size)
{
	char *out = join(root, name), path[64], hex[DIGEST_HEX_LEN + 1], *manifest = NULL;
	unsigned char sum[DIGEST_LEN], *buf = xmalloc(size > 0 ? size : 1);
	size_t mlen = 0, malloc_len = 0;
	struct archive_entry *e = archive_entry_new();
	struct archive *a = archive_write_new();
	struct digest *d = digest_new();
	unsigned long i, folders = files > FOLDERS ? FOLDERS : 0;
	int ok = 0, n;

	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, out) != ARCHIVE_OK)
		goto out;
	for (i = 0; i < folders; i++) {
		snprintf(path, sizeof path, "d%03lu", i);
		if (add_entry(a, e, path, AE_IFDIR, NULL, 0) != 0)
			goto out;
	}
	for (i = 0; i < files; i++) {
		if (folders > 0)
			snprintf(path, sizeof path, "d%03lu/f%06lu.dat", i % folders, i);
		else
			snprintf(path, sizeof path, "f%06lu.dat", i);
		fill(buf, size, i);
		digest_update(d, buf, size);
		digest_final(d, sum);
		digest_hex(sum, hex);
		if (add_entry(a, e, path, AE_IFREG, buf, size) != 0)
			goto out;
		if (mlen + 256 > malloc_len) {
			malloc_len = malloc_len == 0 ? 65536 : malloc_len * 2;
			manifest = xreallocarray(manifest, malloc_len, 1);
		}
		n = snprintf(manifest + mlen, malloc_len - mlen, "%s  %s\n", hex, path);
		if (n < 0 || (size_t)n >= malloc_len - mlen)
			goto out;
		mlen += (size_t)n;
	}
	if (add_entry(a, e, MANIFEST_NAME, AE_IFREG, manifest, mlen) != 0 ||
	    archive_write_close(a) != ARCHIVE_OK)
		goto out;
	ok = 1;
out:
	if (!ok)
		diag("cannot make %s: %s", out, archive_error_string(a));
	archive_write_free(a);
	archive_entry_free(e);
	digest_free(d);
	free(manifest);
	free(buf);
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}

static off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
watch_start(const char *archive)
{
	struct stat st;

	watch_ino = 0;
	if (stat(archive, &st) != 0)
		return;
	watch_dev = st.st_dev;
	watch_bytes = watch_reads = 0;
	watch_ino = st.st_ino;
}

/*
 * A Kmsdata-like folder (a few files of 4 MiB and many small ones), backed
 * up encrypted by mkbackup_write, which writes FILE.hmac beside it. Returns
 * the archive's path.
 */
static char *
make_encrypted(const char *name, const struct secret *pass)
{
	struct mkbackup_options opt;
	struct mkbackup_result made;
	char *dir = join(root, "kmsdata"), *out = join(root, name), *path, *cause = NULL;
	unsigned char *buf = xmalloc(4 * 1024 * 1024);
	unsigned long i;
	size_t size;
	int fd, ok = mkdir(dir, 0700) == 0;

	for (i = 0; ok && i < 200; i++) {
		path = xasprintf("%s/f%03lu.dat", dir, i);
		size = i < 3 ? 4 * 1024 * 1024 : 4096 + i;
		fill(buf, size, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		ok = fd >= 0 && write(fd, buf, size) == (ssize_t)size;
		if (fd >= 0)
			close(fd);
		free(path);
	}
	memset(&opt, 0, sizeof opt);
	opt.kmsdata_fd = ok ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
	opt.output = out;
	opt.passphrase = pass;
	opt.iterations = 1000;
	if (opt.kmsdata_fd < 0 || mkbackup_write(&opt, NULL, &made, &cause) != 0) {
		diag("cannot make %s: %s", out, cause != NULL ? cause : "");
		free(out);
		out = NULL;
	}
	if (opt.kmsdata_fd >= 0)
		close(opt.kmsdata_fd);
	rm_rf(dir);
	free(dir);
	free(buf);
	free(cause);
	return out;
}

/*
 * Reads archive through (staging it under parent_fd when >= 0, decrypting
 * it with pass when not NULL); 0 when sound, else -1 with *cause when
 * cause is not NULL.
 */
static int
read_through(const char *archive, const struct secret *pass, int parent_fd, struct watch *w,
    struct backup_result *res, char **cause_out)
{
	struct backup_options opt;
	struct progress pr = { watch_progress, w };
	char *cause = NULL;
	int r;

	memset(&opt, 0, sizeof opt);
	memset(w, 0, sizeof *w);
	opt.source = archive;
	opt.passphrase = pass;
	opt.iterations = 1000;
	watch_start(archive);
	w->peak = heap_now();
	if (parent_fd >= 0)
		r = backup_stage(&opt, parent_fd, "staged", &pr, res, &cause);
	else
		r = backup_validate(&opt, &pr, res, &cause);
	watch_ino = 0;
	if (r != 0 && cause_out != NULL) {
		*cause_out = cause;
		return r;
	}
	if (r != 0)
		diag("%s: %s", archive, cause != NULL ? cause : "failed");
	free(cause);
	return r;
}

/* Staged or checked, each archive is read once: every byte, no byte twice. */
static void
test_read_once(const char *archive, const struct secret *pass, const char *what, int parent_fd)
{
	struct backup_result res;
	struct watch w;
	off_t size = size_of(archive);
	char *staged = join(root, "p/staged");
	int r;

	r = read_through(archive, pass, parent_fd, &w, &res, NULL);
	ok(r == 0 && (pass == NULL || (res.hmac_matched && res.warnings == NULL)), "%s: sound%s",
	    what, pass != NULL ? ", its HMAC matched" : "");
	ok(r == 0 && (off_t)res.bytes_read == size,
	    "%s: bytes_read is the archive's size (%llu, %lld)", what,
	    r == 0 ? (unsigned long long)res.bytes_read : 0ULL, (long long)size);
	ok((off_t)watch_bytes == size,
	    "%s: read(2) took exactly the archive's %lld bytes from it (%llu in %llu reads)", what,
	    (long long)size, (unsigned long long)watch_bytes, (unsigned long long)watch_reads);
	ok(r == 0 && (off_t)w.last_done == size, "%s: the progress ends at the archive's size",
	    what);
	if (r == 0)
		backup_result_free(&res);
	if (parent_fd >= 0)
		rm_rf(staged);
	free(staged);
}

/*
 * Staging files files: past WRITEBACK_FILES of them, the write-back thread
 * has run syncfs while they were read; the one syncfs that makes them
 * durable is the caller's, after the read; the folder is entered and left
 * around progress reports, not around each entry.
 */
static void
test_writeback(const char *archive, unsigned long files, int parent_fd)
{
	struct backup_result res;
	struct watch w;
	char *staged = join(root, "p/staged");
	unsigned long limit;
	int r;

	syncfs_main = syncfs_other = fchdir_calls = 0;
	r = read_through(archive, NULL, parent_fd, &w, &res, NULL);
	ok(r == 0 && res.files == files, "%lu files staged", files);
	if (files >= WRITEBACK_FILES)
		ok(syncfs_other >= 1,
		    "%lu files: syncfs ran %lu times on the write-back thread while they were "
		    "read",
		    files, syncfs_other);
	else
		ok(syncfs_other == 0, "%lu files (fewer than %d): no early syncfs (%lu)", files,
		    WRITEBACK_FILES, syncfs_other);
	ok(syncfs_main == 1, "%lu files: one syncfs on the caller's thread at the end (%lu)", files,
	    syncfs_main);
	limit = 2 * ((unsigned long)w.reports + 2);
	ok(fchdir_calls <= limit,
	    "%lu files: %lu folder changes, at most two a progress report (%llu reports)", files,
	    fchdir_calls, (unsigned long long)w.reports);
	if (r == 0)
		backup_result_free(&res);
	rm_rf(staged);
	free(staged);
}

/* The peak heap while checking archive, above what was in use before. */
static size_t
peak_of(const char *archive, unsigned long files)
{
	struct backup_result res;
	struct watch w;
	size_t before;
	int r;

	before = heap_now();
	r = read_through(archive, NULL, -1, &w, &res, NULL);
	ok(r == 0 && res.files == files, "%lu files checked (%llu reports)", files,
	    (unsigned long long)w.reports);
	if (r == 0)
		backup_result_free(&res);
	return w.peak > before ? w.peak - before : 0;
}

static void
test_memory(const char *few, const char *many, unsigned long nfew, unsigned long nmany,
    const char *small, const char *large)
{
	size_t p_few, p_many, p_small, p_large, per;

	if (!heap_measurable()) {
		ok(1, "# SKIP the heap cannot be measured here (a sanitizer's allocator)");
		return;
	}
	p_few = peak_of(few, nfew);
	p_many = peak_of(many, nmany);
	per = p_many > p_few ? (p_many - p_few) / (nmany - nfew) : 0;
	ok(per <= RECORD_MAX,
	    "%lu files cost %zu bytes each at most, beyond %lu files (peak heap %zu KiB, %zu KiB;"
	    " at most %d)",
	    nmany, per, nfew, p_many / 1024, p_few / 1024, RECORD_MAX);
	p_small = peak_of(small, 8);
	p_large = peak_of(large, 8);
	ok(p_large <= p_small + DATA_SLACK,
	    "8 files of 8 MiB take no more memory than 8 of 8 KiB (peak heap %zu KiB, %zu KiB)",
	    p_large / 1024, p_small / 1024);
}

/*
 * An encrypted archive altered near its end: refused by its HMAC, having
 * read it once to its end (and not a byte more) to compute it.
 */
static void
test_refused_read_once(const char *good, const struct secret *pass, int parent_fd)
{
	struct backup_result res;
	struct watch w;
	char *bad = join(root, "altered.tar.zst.enc"), *cmd, *cause = NULL;
	off_t size;
	int r = -1;

	cmd = xasprintf("cp '%s' '%s' && cp '%s.hmac' '%s.hmac' && printf x | dd of='%s' bs=1 "
			"seek=$(( $(stat -c %%s '%s') - 200 )) conv=notrunc 2>/dev/null",
	    good, bad, good, bad, bad, bad);
	size = system(cmd) == 0 ? size_of(bad) : -1;
	if (size > 0)
		r = read_through(bad, pass, parent_fd, &w, &res, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "HMAC does not match") != NULL,
	    "an altered encrypted archive is refused (%s)", cause != NULL ? cause : "");
	ok(size > 0 && (off_t)watch_bytes == size,
	    "and read(2) took exactly its %lld bytes, once (%llu in %llu reads)", (long long)size,
	    (unsigned long long)watch_bytes, (unsigned long long)watch_reads);
	if (r == 0)
		backup_result_free(&res);
	free(cause);
	free(cmd);
	free(bad);
}

int
main(void)
{
	struct secret pass = { (char *)PASSPHRASE, sizeof PASSPHRASE - 1 };
	char *few, *mid, *many, *small, *large, *enc, *parent;
	unsigned long nfew = 1000, nmid = 10000, nmany = 100000;
	int parent_fd;

	main_tid = (pid_t)syscall(SYS_gettid);

	if (mkdtemp(root) == NULL)
		skip_all("mkdtemp failed");
	parent = join(root, "p");
	if (mkdir(parent, 0700) != 0 || (parent_fd = open(parent, O_RDONLY | O_DIRECTORY)) < 0)
		skip_all("cannot make the staging parent");
	few = make_tar("few.tar", nfew, 16);
	mid = make_tar("mid.tar", nmid, 16);
	many = make_tar("many.tar", nmany, 16);
	small = make_tar("small.tar", 8, 8 * 1024);
	large = make_tar("large.tar", 8, 8 * 1024 * 1024);
	enc = make_encrypted("kms.tar.zst.enc", &pass);
	if (few == NULL || mid == NULL || many == NULL || small == NULL || large == NULL ||
	    enc == NULL)
		skip_all("the archives could not be made");

	test_read_once(few, NULL, "1,000 files, staged", parent_fd);
	test_read_once(large, NULL, "8 files of 8 MiB, staged", parent_fd);
	test_read_once(many, NULL, "100,000 files, checked", -1);
	test_read_once(enc, &pass, "encrypted, with its HMAC file, staged", parent_fd);
	test_read_once(enc, &pass, "encrypted, with its HMAC file, checked", -1);
	test_refused_read_once(enc, &pass, parent_fd);
	test_writeback(few, nfew, parent_fd);
	test_writeback(mid, nmid, parent_fd);
	test_memory(few, many, nfew, nmany, small, large);

	close(parent_fd);
	rm_rf(root);
	free(few);
	free(mid);
	free(many);
	free(small);
	free(large);
	free(enc);
	free(parent);
	return done_testing();
}
