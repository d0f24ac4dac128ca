/*
 * Writing a backup (see archive.h). One pass over Kmsdata through directory
 * file descriptors: each file is read once, hashed for the manifest and
 * written into the archive; the manifest and BACKUP.INFO come last, at the
 * archive's root (the reader checks a manifest wherever it stands). The
 * bytes libarchive produces go through one callback that encrypts them
 * when asked and hashes what reaches the disk.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "mkbackup.h"
#include "backup.h"
#include "digest.h"
#include "manifest.h"
#include "fault.h"
#include "i18n.h"
#include "secret.h"
#include "xmalloc.h"

#define MKBACKUP_BLOCK 65536
#define MKBACKUP_DEPTH 64

struct writer {
	int fd;
	EVP_CIPHER_CTX *cipher; /* NULL: not encrypted */
	struct digest *sha;     /* of the bytes as written */
	EVP_MAC_CTX *hmac;      /* NULL: not encrypted */
	int failed_errno;
	const struct progress *progress;
	struct progress_state state;
	char *manifest;
	size_t manifest_len, manifest_cap;
	const char *output;
};

static int
mkbackup_writer_put(struct writer *w, const unsigned char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	digest_update(w->sha, buf, len);
	if (w->hmac != NULL)
		EVP_MAC_update(w->hmac, buf, len);
	while (off < len) {
		if (fault_fail("write") != 0 || (n = write(w->fd, buf + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			w->failed_errno = errno;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static la_ssize_t
mkbackup_writer_callback(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct writer *w = arg;
	unsigned char out[MKBACKUP_BLOCK + 32];
	size_t off, chunk;
	int outl;

	for (off = 0; off < len; off += chunk) {
		chunk = len - off > MKBACKUP_BLOCK ? MKBACKUP_BLOCK : len - off;
		if (w->cipher == NULL) {
			if (mkbackup_writer_put(w, (const unsigned char *)buf + off, chunk) != 0)
				goto fail;
			continue;
		}
		if (!EVP_EncryptUpdate(w->cipher, out, &outl, (const unsigned char *)buf + off,
			(int)chunk) ||
		    mkbackup_writer_put(w, out, (size_t)outl) != 0)
			goto fail;
	}
	return (la_ssize_t)len;
fail:
	archive_set_error(a, w->failed_errno != 0 ? w->failed_errno : EIO, "%s",
	    strerror(w->failed_errno != 0 ? w->failed_errno : EIO));
	return -1;
}

/* Starts the openssl enc format: "Salted__", the salt, then AES-256-CBC under PBKDF2. */
static int
mkbackup_writer_encrypt_begin(struct writer *w, const struct secret *pass, int iterations)
{
	unsigned char salt[8], kiv[48], hkey[BACKUP_HMAC_LEN];
	int ret = -1;

	if (RAND_bytes(salt, sizeof salt) != 1 ||
	    PKCS5_PBKDF2_HMAC(pass->data, (int)pass->len, salt, sizeof salt, iterations,
		EVP_sha256(), sizeof kiv, kiv) != 1 ||
	    backup_hmac_key(pass, salt, iterations, hkey) != 0)
		goto out;
	if ((w->cipher = EVP_CIPHER_CTX_new()) == NULL ||
	    !EVP_EncryptInit_ex(w->cipher, EVP_aes_256_cbc(), NULL, kiv, kiv + 32) ||
	    (w->hmac = backup_hmac_new(hkey)) == NULL)
		goto out;
	if (mkbackup_writer_put(w, (const unsigned char *)"Salted__", 8) != 0 ||
	    mkbackup_writer_put(w, salt, sizeof salt) != 0)
		goto out;
	ret = 0;
out:
	OPENSSL_cleanse(kiv, sizeof kiv);
	OPENSSL_cleanse(hkey, sizeof hkey);
	return ret;
}

static int
mkbackup_writer_encrypt_end(struct writer *w)
{
	unsigned char out[32];
	int outl;

	if (w->cipher == NULL)
		return 0;
	if (!EVP_EncryptFinal_ex(w->cipher, out, &outl))
		return -1;
	return mkbackup_writer_put(w, out, (size_t)outl);
}

static int
mkbackup_ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcasecmp(s + ls - lx, suffix) == 0;
}

/* The names a backup may have: its extension picks the format it is written in. */
static const char *mkbackup_extensions[] = { ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz",
	".tar.lz4", ".tar.zst", ".zip", ".7z", ".cpio" };

char *
mkbackup_name_refused(const char *output)
{
	const size_t n = sizeof mkbackup_extensions / sizeof mkbackup_extensions[0];
	char *name = xstrdup(output), *list = NULL, *more;
	size_t i;
	int known = 0;

	if (mkbackup_ends_with(name, ".enc"))
		name[strlen(name) - 4] = '\0';
	for (i = 0; i < n; i++)
		known |= mkbackup_ends_with(name, mkbackup_extensions[i]);
	free(name);
	for (i = 0; !known && i < n; i++) {
		more = list == NULL ? xstrdup(mkbackup_extensions[i]) :
				      xasprintf("%s %s", list, mkbackup_extensions[i]);
		free(list);
		list = more;
	}
	return list;
}

/* The format and filter from the file's name (".enc" aside); pax + zstd by default. */
static int
mkbackup_format(struct archive *a, const char *output)
{
	char *name = xstrdup(output);
	int ret = ARCHIVE_OK;

	if (mkbackup_ends_with(name, ".enc"))
		name[strlen(name) - 4] = '\0';
	if (mkbackup_ends_with(name, ".zip"))
		ret = archive_write_set_format_zip(a);
	else if (mkbackup_ends_with(name, ".7z"))
		ret = archive_write_set_format_7zip(a);
	else if (mkbackup_ends_with(name, ".cpio"))
		ret = archive_write_set_format_cpio_newc(a);
	else {
		ret = archive_write_set_format_pax_restricted(a);
		if (mkbackup_ends_with(name, ".tar.gz") || mkbackup_ends_with(name, ".tgz"))
			ret = archive_write_add_filter_gzip(a);
		else if (mkbackup_ends_with(name, ".tar.bz2"))
			ret = archive_write_add_filter_bzip2(a);
		else if (mkbackup_ends_with(name, ".tar.xz"))
			ret = archive_write_add_filter_xz(a);
		else if (mkbackup_ends_with(name, ".tar.lz4"))
			ret = archive_write_add_filter_lz4(a);
		else if (!mkbackup_ends_with(name, ".tar"))
			ret = archive_write_add_filter_zstd(a);
	}
	free(name);
	return ret;
}

static void
mkbackup_writer_manifest_add(struct writer *w, const char *hex, const char *path)
{
	size_t need = strlen(hex) + strlen(path) + 4;

	if (w->manifest_len + need >= w->manifest_cap) {
		w->manifest_cap = (w->manifest_cap + need) * 2;
		w->manifest = xreallocarray(w->manifest, w->manifest_cap, 1);
	}
	w->manifest_len += (size_t)snprintf(w->manifest + w->manifest_len,
	    w->manifest_cap - w->manifest_len, "%s  %s\n", hex, path);
}

static struct archive_entry *
mkbackup_entry(const char *path, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, S_ISDIR(st->st_mode) ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, st->st_mode & 0777);
	archive_entry_set_size(e, S_ISDIR(st->st_mode) ? 0 : st->st_size);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	return e;
}

/* One regular file: header, data (hashed as it goes), manifest line. */
static int
mkbackup_add_file(struct archive *a, struct writer *w, int dirfd, const char *name,
    const char *path, char **cause)
{
	unsigned char buf[MKBACKUP_BLOCK], sum[DIGEST_LEN];
	char hex[DIGEST_HEX_LEN + 1];
	struct digest *d = digest_new();
	struct archive_entry *e = NULL;
	struct stat st;
	ssize_t n;
	int fd, ret = -1;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) != 0) {
		*cause = xasprintf(_("cannot read %1$s: %2$s"), path, strerror(errno));
		goto out;
	}
	e = mkbackup_entry(path, &st);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		goto archive_failed;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		digest_update(d, buf, (size_t)n);
		if (archive_write_data(a, buf, (size_t)n) != n)
			goto archive_failed;
		w->state.bytes_done += (uint64_t)n;
	}
	if (n < 0) {
		*cause = xasprintf(_("cannot read %1$s: %2$s"), path, strerror(errno));
		goto out;
	}
	digest_final(d, sum);
	digest_hex(sum, hex);
	mkbackup_writer_manifest_add(w, hex, path);
	w->state.files_done++;
	ret = 0;
	goto out;
archive_failed:
	/* TRANSLATORS: %1$s is the archive's path, %2$s the entry, %3$s the reason. */
	*cause = xasprintf(_("cannot write %1$s (at %2$s): %3$s"), w->output, path,
	    archive_error_string(a) != NULL ? archive_error_string(a) : strerror(errno));
out:
	if (fd != -1)
		close(fd);
	archive_entry_free(e);
	digest_free(d);
	return ret;
}

static int mkbackup_add_dir(struct archive *, struct writer *, int, const char *, int, char **);

/* One entry of a folder: recurse into folders, add files, refuse anything else. */
static int
mkbackup_add_entry(struct archive *a, struct writer *w, int dirfd, const char *name,
    const char *prefix, int depth, char **cause)
{
	char *path = *prefix != '\0' ? xasprintf("%s/%s", prefix, name) : xstrdup(name);
	struct archive_entry *e;
	struct stat st;
	int fd = -1, ret = -1;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    (S_ISDIR(st.st_mode) &&
		(fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) ==
		    -1)) {
		*cause = xasprintf(_("cannot read %1$s: %2$s"), path, strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		ret = mkbackup_add_file(a, w, dirfd, name, path, cause);
	} else if (!S_ISDIR(st.st_mode)) {
		/* TRANSLATORS: %s is a path inside Kmsdata. */
		*cause = xasprintf(_("%s is neither a file nor a folder; Kmsdata holds only files "
				     "and folders, so it is not backed up."),
		    path);
	} else {
		e = mkbackup_entry(path, &st);
		ret = archive_write_header(a, e) == ARCHIVE_OK ?
		    mkbackup_add_dir(a, w, fd, path, depth + 1, cause) :
		    -1;
		if (ret != 0 && *cause == NULL)
			*cause = xasprintf(_("cannot write %1$s (at %2$s): %3$s"), w->output, path,
			    archive_error_string(a) != NULL ? archive_error_string(a) : "");
		archive_entry_free(e);
		close(fd);
	}
	free(path);
	return ret;
}

static int
mkbackup_compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a folder, sorted, so that archives of the same tree are alike. */
static char **
mkbackup_list(int fd, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t cap = 0;
	int copy = dup(fd);

	*n = 0;
	if (copy == -1 || (d = fdopendir(copy)) == NULL) {
		if (copy != -1)
			close(copy);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (*n + 1 >= cap) {
			cap = cap * 2 + 16;
			names = xreallocarray(names, cap, sizeof *names);
		}
		names[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (names != NULL) {
		names[*n] = NULL;
		qsort(names, *n, sizeof *names, mkbackup_compare_names);
	}
	return names;
}

static int
mkbackup_add_dir(struct archive *a, struct writer *w, int fd, const char *prefix, int depth,
    char **cause)
{
	size_t n, i;
	char **names;
	int ret = 0;

	if (depth > MKBACKUP_DEPTH) {
		*cause = xasprintf(_("%s is nested too deep"), prefix);
		return -1;
	}
	if ((names = mkbackup_list(fd, &n)) == NULL && n > 0)
		return -1;
	for (i = 0; i < n && ret == 0; i++) {
		w->state.current = names[i];
		if (progress_update(w->progress, &w->state) != 0) {
			*cause = xstrdup(_("Stopped by the operator."));
			ret = -1;
		} else
			ret = mkbackup_add_entry(a, w, fd, names[i], prefix, depth, cause);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

/* A small in-memory file (the manifest, BACKUP.INFO) at the archive's root. */
static int
mkbackup_add_text(struct archive *a, const char *name, const char *text)
{
	struct archive_entry *e = archive_entry_new();
	size_t len = strlen(text);
	int ret;

	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, time(NULL), 0);
	ret = archive_write_header(a, e) == ARCHIVE_OK &&
		archive_write_data(a, text, len) == (la_ssize_t)len ?
	    0 :
	    -1;
	archive_entry_free(e);
	return ret;
}

static int
mkbackup_writer_open(struct writer *w, const struct mkbackup_options *opt, char **cause)
{
	w->fd = open(opt->output, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (w->fd == -1) {
		/* TRANSLATORS: %1$s is a file, %2$s the system's reason. */
		*cause = xasprintf(_("cannot create %1$s: %2$s"), opt->output, strerror(errno));
		return -1;
	}
	w->sha = digest_new();
	w->output = opt->output;
	if (opt->passphrase != NULL &&
	    mkbackup_writer_encrypt_begin(w, opt->passphrase, opt->iterations) != 0) {
		*cause = xasprintf(_("cannot encrypt %s"), opt->output);
		return -1;
	}
	return 0;
}

/* Flushes the encryption, the HMAC side file and the data to disk. */
static int
mkbackup_writer_finish(struct writer *w, const struct mkbackup_options *opt,
    struct mkbackup_result *result, char **cause)
{
	unsigned char sum[DIGEST_LEN], mac[32];
	char hex[DIGEST_HEX_LEN + 1], *path, *text;
	size_t maclen = 0, i;
	int ret = -1;

	if (mkbackup_writer_encrypt_end(w) != 0 || fault_fail("fsync") != 0 || fsync(w->fd) != 0)
		goto fail;
	digest_final(w->sha, sum);
	digest_hex(sum, result->sha256);
	if (w->hmac == NULL)
		return 0;
	if (!EVP_MAC_final(w->hmac, mac, &maclen, sizeof mac))
		goto fail;
	for (i = 0; i < maclen && i < DIGEST_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	path = backup_hmac_path(opt->output);
	text = xasprintf("kmsrecover-hmac-sha256 1 %d\n%s\n", opt->iterations, hex);
	ret = 0;
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
		    fsync(fd) != 0)
			ret = -1;
		if (fd != -1)
			close(fd);
	}
	if (ret != 0)
		*cause = xasprintf(_("cannot write %1$s: %2$s"), path, strerror(errno));
	free(text);
	free(path);
	return ret;
fail:
	*cause = xasprintf(_("cannot write %1$s: %2$s"), opt->output, strerror(errno));
	return -1;
}

static void
mkbackup_writer_free(struct writer *w)
{
	if (w->fd != -1)
		close(w->fd);
	EVP_CIPHER_CTX_free(w->cipher);
	EVP_MAC_CTX_free(w->hmac);
	digest_free(w->sha);
	free(w->manifest);
}

int
mkbackup_write(const struct mkbackup_options *opt, const struct progress *progress,
    struct mkbackup_result *result, char **cause)
{
	struct writer w = { 0 };
	struct archive *a = archive_write_new();
	int ret = -1, open_failed;

	memset(result, 0, sizeof *result);
	w.fd = -1;
	w.progress = progress;
	w.manifest = xstrdup("");
	w.manifest_cap = 1;
	if (mkbackup_writer_open(&w, opt, cause) != 0)
		goto out;
	archive_write_set_bytes_in_last_block(a, 1);
	open_failed = mkbackup_format(a, opt->final_name != NULL ? opt->final_name : opt->output) !=
		ARCHIVE_OK ||
	    archive_write_open2(a, &w, NULL, mkbackup_writer_callback, NULL, NULL) != ARCHIVE_OK;
	if (open_failed) {
		*cause = xasprintf(_("cannot write %1$s: %2$s"), opt->output,
		    archive_error_string(a) != NULL ? archive_error_string(a) : "");
		goto out;
	}
	if (mkbackup_add_dir(a, &w, opt->kmsdata_fd, "", 0, cause) != 0)
		goto out;
	if (mkbackup_add_text(a, MANIFEST_NAME, w.manifest) != 0 ||
	    (opt->info != NULL && mkbackup_add_text(a, "BACKUP.INFO", opt->info) != 0) ||
	    archive_write_close(a) != ARCHIVE_OK) {
		*cause = xasprintf(_("cannot write %1$s: %2$s"), opt->output,
		    archive_error_string(a) != NULL ? archive_error_string(a) : "");
		goto out;
	}
	result->files = w.state.files_done;
	result->bytes = w.state.bytes_done;
	ret = mkbackup_writer_finish(&w, opt, result, cause);
out:
	archive_write_free(a);
	mkbackup_writer_free(&w);
	if (ret != 0 && w.output != NULL) {
		char *side = backup_hmac_path(opt->output);

		unlink(opt->output);
		unlink(side);
		free(side);
	}
	return ret;
}
