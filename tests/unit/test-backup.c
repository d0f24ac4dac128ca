/*
 * Tests for backup.c on real archives in a private temporary directory.
 * Every archive is made here at run time: by bsdtar, tar, zip and openssl
 * enc for the good ones (each format and filter libarchive reads must stage
 * the same tree, byte for byte), and by python3's tarfile, zipfile or a
 * hand-written cpio for the hostile ones (each must be refused, naming the
 * entry escaped, with the staging folder gone and nothing created outside
 * it). An encrypted backup with its FILE.hmac is made by kmsrecover's own
 * writer, then altered in ways only the HMAC can see. Injected faults run
 * in a fresh copy of this program (argv[0] --child), so that fault.c's
 * counters start at zero.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "utf8.h"
#include "digest.h"
#include "mkbackup.h"
#include "secret.h"
#include "tap.h"
#include "xmalloc.h"

#define PASSPHRASE "correct horse battery"
#define BIG_SIZE (1300 * 1000)

static const char *self;
static char root[] = "/tmp/test-backup.XXXXXX";
static char *parent, *outside, *tree, *ktree, *pass_file, *script;
static int parent_fd = -1;

/*
 * The hostile archives, all made by one run (python3 starts slowly):
 * python3 hostile.py DIR OUTSIDE writes DIR/hostile-CASE for every case.
 */
static const char hostile_py[] =
    "import io, sys, tarfile, zipfile\n"
    "folder, outside = sys.argv[1], sys.argv[2]\n"
    "R, D, L, H = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE\n"
    "def cpio(out, entries):\n"
    "    b = b''\n"
    "    for i, (name, mode, data) in enumerate(entries + [('TRAILER!!!', 0, b'')]):\n"
    "        n = name.encode() + b'\\0'\n"
    "        b += b'070707' + b'%06o%06o%06o%06o%06o%06o%06o%011o%06o%011o' % (\n"
    "            0, i + 1, mode, 0, 0, 1, 0, 0, len(n), len(data)) + n + data\n"
    "    open(out, 'wb').write(b)\n"
    "cpio(folder + '/hostile-cpio-socket', [('ok', 0o100644, b'ok'), ('sock', 0o140755, b'')])\n"
    "z = zipfile.ZipFile(folder + '/hostile-zip-dotdot', 'w')\n"
    "z.writestr('ok', b'ok'); z.writestr('../evil', b'x'); z.close()\n"
    "t = None\n"
    "def add(name, data=None, kind=R, mode=0o644, link=''):\n"
    "    ti = tarfile.TarInfo(name); ti.type = kind; ti.mode = mode; ti.linkname = link\n"
    "    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE): ti.devmajor, ti.devminor = 1, 3\n"
    "    ti.size = len(data) if data is not None else 0\n"
    "    t.addfile(ti, io.BytesIO(data) if data is not None else None)\n"
    "cases = {\n"
    " 'dotdot': lambda: (add('ok', b'ok'), add('../evil', b'evil')),\n"
    " 'dotdot-deep': lambda: add('a/../../evil', b'evil'),\n"
    " 'absolute': lambda: add(outside + '/abs', b'evil'),\n"
    " 'symlink-out': lambda: (add('link', kind=L, mode=0o777, link=outside),\n"
    "                         add('link/file', b'evil')),\n"
    " 'symlink-in': lambda: (add('a', b'x'), add('b', kind=L, mode=0o777, link='a')),\n"
    " 'hardlink-out': lambda: add('hl', kind=H, link=outside + '/victim'),\n"
    " 'hardlink-dotdot': lambda: add('hl', kind=H, link='../victim'),\n"
    " 'hardlink-later': lambda: (add('hl', kind=H, link='later'), add('later', b'x')),\n"
    " 'hardlink-dir': lambda: (add('d', kind=D, mode=0o755), add('hl', kind=H, link='d')),\n"
    " 'device': lambda: add('dev', kind=tarfile.CHRTYPE, mode=0o666),\n"
    " 'block': lambda: add('blk', kind=tarfile.BLKTYPE, mode=0o660),\n"
    " 'fifo': lambda: add('fifo', kind=tarfile.FIFOTYPE),\n"
    " 'setuid': lambda: add('suid', b'#!/bin/sh\\n', mode=0o4755),\n"
    " 'setgid-dir': lambda: add('sgid', kind=D, mode=0o2755),\n"
    " 'sticky': lambda: add('tmp', kind=D, mode=0o1777),\n"
    " 'duplicate': lambda: (add('a', b'1'), add('a', b'2')),\n"
    " 'duplicate-dot': lambda: (add('a', b'1'), add('./a', b'2')),\n"
    " 'file-then-dir': lambda: (add('a', b'1'), add('a', kind=D, mode=0o755)),\n"
    " 'dir-then-file': lambda: (add('d', kind=D, mode=0o755), add('d', b'x')),\n"
    " 'implicit-dir-then-file': lambda: (add('d/x', b'1'), add('d', b'x')),\n"
    " 'through-file': lambda: (add('f', b'x'), add('f/g', b'y')),\n"
    " 'escape': lambda: add('../\\x1b[2Jevil\\nname', b'x'),\n"
    " 'long': lambda: add('a/' * 2100 + 'x', b'x'),\n"
    " 'deep': lambda: add('a/' * 70 + 'x', b'x'),\n"
    " 'controls-ok': lambda: add('ctl\\x1b[31m\\nname', b'fine'),\n"
    " 'hardlink-ok': lambda: (add('a', b'same'), add('b', kind=H, link='a')),\n"
    " 'manifest-dir': lambda: (add('a', b'1'), add('MANIFEST.sha256', kind=D, mode=0o755)),\n"
    "}\n"
    "for case, make in cases.items():\n"
    "    t = tarfile.open(folder + '/hostile-' + case, 'w', format=tarfile.PAX_FORMAT)\n"
    "    make()\n"
    "    t.close()\n";

/*
 * Small helpers.
 */

static int __attribute__((format(printf, 1, 2))) sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int r;

	va_start(ap, fmt);
	cmd = xvasprintf(fmt, ap);
	va_end(ap);
	r = system(cmd);
	free(cmd);
	if (r == -1 || !WIFEXITED(r))
		return -1;
	return WEXITSTATUS(r);
}

static char *
join(const char *a, const char *b)
{
	return xasprintf("%s/%s", a, b);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static long long
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void
write_file(const char *path, const void *buf, size_t len)
{
	FILE *f;

	if ((f = fopen(path, "wb")) == NULL || fwrite(buf, 1, len, f) != len)
		diag("cannot write %s", path);
	if (f != NULL)
		fclose(f);
}

/* A file of pseudo-random bytes (incompressible, so every filter works). */
static void
write_random(const char *path, size_t len, uint32_t seed)
{
	unsigned char *buf = xmalloc(len);
	size_t i;

	for (i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		buf[i] = (unsigned char)seed;
	}
	write_file(path, buf, len);
	free(buf);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in a folder, one a line: to prove nothing appeared. */
static char *
listing(const char *dir)
{
	char **names = NULL, *out, *p;
	size_t n = 0, i, len = 1;
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return xstrdup("(none)");
	while ((de = readdir(d)) != NULL) {
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
		len += strlen(de->d_name) + 1;
	}
	closedir(d);
	qsort(names, n, sizeof *names, compare_names);
	out = p = xmalloc(len);
	for (i = 0; i < n; i++) {
		p += snprintf(p, len - (size_t)(p - out), "%s\n", names[i]);
		free(names[i]);
	}
	*p = '\0';
	free(names);
	return out;
}

/* The SHA-256 of a file as sha256sum prints it. */
static void
sha256sum_of(const char *path, char out[DIGEST_HEX_LEN + 1])
{
	char *cmd, *sum;
	FILE *f;

	out[0] = '\0';
	sum = join(root, "sum.out");
	cmd = xasprintf("sha256sum '%s' > '%s'", path, sum);
	if (system(cmd) == 0 && (f = fopen(sum, "r")) != NULL) {
		if (fread(out, 1, DIGEST_HEX_LEN, f) == DIGEST_HEX_LEN)
			out[DIGEST_HEX_LEN] = '\0';
		else
			out[0] = '\0';
		fclose(f);
	}
	free(cmd);
	free(sum);
}

/* How many file descriptors this process holds. */
static int
count_fds(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static int
same_cwd(const char *before)
{
	char now[4096];

	return getcwd(now, sizeof now) != NULL && strcmp(now, before) == 0;
}

static int
contains(const char *s, const char *want)
{
	return s != NULL && strstr(s, want) != NULL;
}

/* A cause for a test line: escaped, so that a raw control character cannot break TAP. */
static const char *
shown(const char *s)
{
	static char *last;

	free(last);
	last = utf8_escape(s != NULL ? s : "(none)");
	return last;
}

static void
rm_rf(const char *path)
{
	if (sh("rm -rf '%s'", path) != 0)
		diag("cannot remove %s", path);
}

/* Whether "staged" plus rel exists in the parent folder. */
static int
staged_exists(const char *rel)
{
	char *p = xasprintf("%s/staged%s", parent, rel);
	int r = exists(p);

	free(p);
	return r;
}

static void
rm_staged(void)
{
	char *p = join(parent, "staged");

	rm_rf(p);
	free(p);
}

static int
stage(const char *source, struct backup_result *res, char **cause)
{
	struct backup_options opt;

	memset(&opt, 0, sizeof opt);
	opt.source = source;
	*cause = NULL;
	return backup_stage(&opt, parent_fd, "staged", NULL, res, cause);
}

/*
 * The fixtures: a Kmsdata-like tree with a MANIFEST.sha256 made by sha256sum.
 */

static void
make_trees(void)
{
	char *p;

	tree = join(root, "tree");
	sh("mkdir -p '%s/logs' '%s/Kmsdata/logs'", tree, root);
	p = join(tree, "Kmsmdb.edb");
	write_random(p, BIG_SIZE, 1);
	free(p);
	p = join(tree, "edb00001.log");
	write_random(p, 10000, 2);
	free(p);
	p = join(tree, "logs/res1.log");
	write_file(p, "reserve log\n", 12);
	chmod(p, 0640);
	free(p);
	p = join(tree, "empty.dat");
	write_file(p, "", 0);
	free(p);
	sh("cd '%s' && sha256sum Kmsmdb.edb edb00001.log logs/res1.log ./empty.dat > "
	   "MANIFEST.sha256",
	    tree);

	/* The same files under a top folder Kmsdata, the manifest at the root. */
	ktree = xstrdup(root);
	sh("cp -p '%s/Kmsmdb.edb' '%s/edb00001.log' '%s/Kmsdata/' && cp -p '%s/logs/res1.log' "
	   "'%s/Kmsdata/logs/' && cd '%s' && sha256sum Kmsdata/Kmsmdb.edb Kmsdata/edb00001.log "
	   "Kmsdata/logs/res1.log > '%s/kmanifest'",
	    tree, tree, root, tree, root, root, root);
}

/* The staged tree is the source tree, byte for byte, without the manifest. */
static int
same_tree(const char *src, const char *staged_sub)
{
	return sh("diff -r -x MANIFEST.sha256 '%s' '%s/staged%s' >/dev/null", src, parent,
		   staged_sub) == 0;
}

/*
 * Tests.
 */

static void
test_escape(void)
{
	static const char *cases[][2] = {
		{ "plain.edb", "plain.edb" },
		{ "a\x1b[31mb\n", "a\\x1b[31mb\\x0a" },
		{ "cr\rdel\x7f", "cr\\x0ddel\\x7f" },
		{ "back\\slash", "back\\\\slash" },
		{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" },
		{ "nel\xc2\x85", "nel\\xc2\\x85" },
		{ "csi\xc2\x9b", "csi\\xc2\\x9b" },
		{ "bad\xff", "bad\\xff" },
		{ "overlong\xc0\xaf", "overlong\\xc0\\xaf" },
		{ "cut\xe2\x82", "cut\\xe2\\x82" },
		{ "surrogate\xed\xa0\x80", "surrogate\\xed\\xa0\\x80" },
		{ "rlo\xe2\x80\xae", "rlo\\xe2\\x80\\xae" },
		{ "", "" },
	};
	size_t i;
	char *e;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		e = utf8_escape(cases[i][0]);
		ok(strcmp(e, cases[i][1]) == 0, "escape case %zu gives %s", i, cases[i][1]);
		free(e);
	}
	e = utf8_escape(NULL);
	ok(e != NULL && *e == '\0', "escaping NULL gives an empty string");
	free(e);
}

static void
test_probe(void)
{
	enum backup_kind kind;
	char *tar, *enc, *cause = NULL;
	int r;

	tar = join(root, "probe.tar");
	enc = join(root, "probe.enc");
	sh("bsdtar -cf '%s' -C '%s' . && openssl enc -aes-256-cbc -pbkdf2 -iter 10000 -salt -pass "
	   "'file:%s' -in '%s' -out '%s'",
	    tar, tree, pass_file, tar, enc);
	ok(backup_probe(tree, &kind, &cause) == 0 && kind == BACKUP_DIRECTORY, "probe: a folder");
	ok(backup_probe(tar, &kind, &cause) == 0 && kind == BACKUP_ARCHIVE, "probe: an archive");
	ok(backup_probe(enc, &kind, &cause) == 0 && kind == BACKUP_ENCRYPTED,
	    "probe: an openssl enc file (Salted__)");
	r = backup_probe("/dev/null", &kind, &cause);
	ok(r == -1 && contains(cause, "/dev/null"), "probe: a device is refused, naming it (%s)",
	    shown(cause));
	free(cause);
	cause = NULL;
	r = backup_probe("/nonexistent/backup.tgz", &kind, &cause);
	ok(r == -1 && contains(cause, "/nonexistent/backup.tgz"),
	    "probe: a missing file is named (%s)", shown(cause));
	free(cause);
	free(tar);
	free(enc);
}

struct format_case {
	const char *name;
	const char *make; /* @A the archive, @T the tree */
};

static const struct format_case formats[] = {
	{ "tar", "bsdtar -cf '@A' -C '@T' ." },
	{ "tar.gz", "bsdtar -czf '@A' -C '@T' ." },
	{ "tar.bz2", "bsdtar -cjf '@A' -C '@T' ." },
	{ "tar.xz", "bsdtar -cJf '@A' -C '@T' ." },
	{ "tar.zst", "bsdtar --zstd -cf '@A' -C '@T' ." },
	{ "tar.lz4", "bsdtar --lz4 -cf '@A' -C '@T' ." },
	{ "gnutar", "tar --format=gnu -cf '@A' -C '@T' ." },
	{ "pax", "bsdtar --format pax -cf '@A' -C '@T' ." },
	{ "cpio", "bsdtar --format cpio -cf '@A' -C '@T' ." },
	{ "newc", "bsdtar --format newc -cf '@A' -C '@T' ." },
	{ "zip", "cd '@T' && zip -qr '@A' ." },
	{ "7z", "bsdtar --format 7zip -cf '@A' -C '@T' ." },
	{ "iso", "bsdtar --format iso9660 -cf '@A' -C '@T' ." },
};

/* The command with @A and @T replaced by the archive and the tree. */
static char *
make_command(const char *tmpl, const char *archive, const char *src)
{
	char *out = xstrdup(""), *next;
	const char *p;

	for (p = tmpl; *p != '\0'; p++) {
		if (p[0] == '@' && (p[1] == 'A' || p[1] == 'T')) {
			next = xasprintf("%s%s", out, p[1] == 'A' ? archive : src);
			p++;
		} else
			next = xasprintf("%s%c", out, *p);
		free(out);
		out = next;
	}
	return out;
}

static void
check_staged_archive(const char *what, const char *archive, int r, const struct backup_result *res,
    const char *cause)
{
	char sum[DIGEST_HEX_LEN + 1], *staged;
	struct stat st;

	sha256sum_of(archive, sum);
	staged = join(parent, "staged");
	if (stat(staged, &st) != 0)
		st.st_mode = 0;
	ok(r == 0, "%s: staged (%s)", what, shown(cause));
	ok(res->files == 4 && res->bytes == BIG_SIZE + 10000 + 12,
	    "%s: 4 files and their bytes counted (%llu, %llu)", what,
	    (unsigned long long)res->files, (unsigned long long)res->bytes);
	ok((long long)res->bytes_read == size_of(archive),
	    "%s: read exactly once, to the end (%llu of %lld bytes)", what,
	    (unsigned long long)res->bytes_read, size_of(archive));
	ok(strcmp(res->sha256, sum) == 0, "%s: the SHA-256 is the archive file's", what);
	ok(res->manifest_found && res->manifest_entries == 4 && res->warnings == NULL,
	    "%s: the manifest was found and matched, no warning", what);
	ok(res->payload != NULL && strcmp(res->payload, "") == 0,
	    "%s: the payload is the whole tree", what);
	ok(same_tree(tree, ""), "%s: the staged files are the source's, byte for byte", what);
	ok(!staged_exists("/MANIFEST.sha256"), "%s: MANIFEST.sha256 is not staged", what);
	ok((st.st_mode & 07777) == 0700, "%s: the staging folder stays 0700 (mode %o)", what,
	    (unsigned)(st.st_mode & 07777));
	free(staged);
}

static void
test_formats(void)
{
	struct backup_result res;
	char *archive, *cause, *cmd, cwd_before[4096], cwd_after[4096];
	size_t i;
	int r;

	for (i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		archive = xasprintf("%s/backup.%s", root, formats[i].name);
		cmd = make_command(formats[i].make, archive, tree);
		r = sh("%s", cmd);
		free(cmd);
		if (r != 0) {
			ok(1, "# SKIP %s could not be made", formats[i].name);
			free(archive);
			continue;
		}
		if (getcwd(cwd_before, sizeof cwd_before) == NULL)
			cwd_before[0] = '\0';
		r = stage(archive, &res, &cause);
		check_staged_archive(formats[i].name, archive, r, &res, cause);
		ok(getcwd(cwd_after, sizeof cwd_after) != NULL &&
			strcmp(cwd_before, cwd_after) == 0,
		    "%s: the working directory is restored", formats[i].name);
		backup_result_free(&res);
		free(cause);
		rm_staged();
		free(archive);
	}
	ok(sh("test \"$(stat -c %%a '%s/staged/logs/res1.log' 2>/dev/null)\" = ''", parent) == 0,
	    "each staged tree was removed between formats");
}

static void
test_modes_kept(void)
{
	struct backup_result res;
	char *archive, *cause, *p;
	struct stat st;
	int r;

	archive = join(root, "modes.tar");
	sh("bsdtar -cf '%s' -C '%s' .", archive, tree);
	r = stage(archive, &res, &cause);
	p = xasprintf("%s/staged/logs/res1.log", parent);
	ok(r == 0 && stat(p, &st) == 0 && (st.st_mode & 0777) == 0640,
	    "a file's mode from the archive is kept (0640)");
	free(p);
	backup_result_free(&res);
	free(cause);
	rm_staged();
	free(archive);
}

static void
test_payload(void)
{
	struct backup_result res;
	char *archive, *cause;
	int r;

	archive = join(root, "kms.tgz");
	sh("cd '%s' && cp kmanifest MANIFEST.sha256 && bsdtar -czf '%s' MANIFEST.sha256 Kmsdata && "
	   "rm MANIFEST.sha256",
	    ktree, archive);
	r = stage(archive, &res, &cause);
	ok(r == 0, "Kmsdata top folder with the manifest at the root: staged (%s)", shown(cause));
	ok(r == 0 && strcmp(res.payload, "Kmsdata") == 0, "the payload is \"Kmsdata\" (%s)",
	    r == 0 ? res.payload : "-");
	ok(r == 0 && res.manifest_found && res.manifest_entries == 3 && res.files == 3,
	    "the manifest's paths include the top folder and all match");
	ok(sh("diff -r '%s/Kmsdata' '%s/staged/Kmsdata'", ktree, parent) == 0,
	    "the tree is staged under staged/Kmsdata");
	backup_result_free(&res);
	free(cause);
	rm_staged();
	free(archive);

	archive = join(root, "kms-lower.zip");
	sh("rm -rf '%s/lower' && mkdir -p '%s/lower' && cp -rp '%s/Kmsdata' '%s/lower/kmsdata' && "
	   "cd '%s/lower' && zip -qr '%s' kmsdata",
	    root, root, ktree, root, root, archive);
	r = stage(archive, &res, &cause);
	ok(r == 0 && strcmp(res.payload, "kmsdata") == 0 && !res.manifest_found,
	    "a zip of kmsdata/ without a manifest: payload \"kmsdata\" (%s)", shown(cause));
	backup_result_free(&res);
	free(cause);
	rm_staged();
	free(archive);

	archive = join(root, "kms-and-more.tar");
	sh("cd '%s' && bsdtar -cf '%s' Kmsdata kmanifest", ktree, archive);
	r = stage(archive, &res, &cause);
	ok(r == 0 && strcmp(res.payload, "") == 0,
	    "Kmsdata beside another file: the payload is the whole tree");
	backup_result_free(&res);
	free(cause);
	rm_staged();
	free(archive);
}

static void
test_directory(void)
{
	struct backup_result res;
	char *cause, *src, *before, *after, *p;
	int r;

	r = stage(tree, &res, &cause);
	ok(r == 0, "a folder source is staged (%s)", shown(cause));
	ok(r == 0 && res.files == 4 && res.manifest_found && res.sha256[0] == '\0',
	    "a folder: 4 files, the manifest matched, no archive SHA-256");
	p = join(tree, "MANIFEST.sha256");
	ok(r == 0 && res.bytes_read == (uint64_t)(BIG_SIZE + 10000 + 12 + size_of(p)),
	    "a folder: every file's bytes read once");
	free(p);
	ok(same_tree(tree, ""), "a folder: staged byte for byte");
	backup_result_free(&res);
	free(cause);
	rm_staged();

	src = join(root, "withlink");
	sh("cp -rp '%s' '%s' && ln -s /etc/passwd '%s/passwd'", tree, src, src);
	before = listing(parent);
	r = stage(src, &res, &cause);
	after = listing(parent);
	ok(r == -1 && contains(cause, "\"passwd\"") && contains(cause, "symbolic link"),
	    "a folder holding a symbolic link is refused, naming it (%s)", shown(cause));
	ok(strcmp(before, after) == 0, "... and the staging folder is gone");
	free(before);
	free(after);
	free(cause);
	free(src);

	src = join(parent, "data");
	sh("mkdir -p '%s' && echo x > '%s/x'", src, src);
	r = stage(parent, &res, &cause);
	ok(r == -1 && contains(cause, "holds the staging folder") && !staged_exists(""),
	    "a folder holding the staging folder is refused (%s)", shown(cause));
	free(cause);
	rm_rf(src);
	free(src);
}

static int
stage_encrypted(const char *source, const char *pass, int iterations, struct backup_result *res,
    char **cause)
{
	struct backup_options opt;
	struct secret s;

	memset(&opt, 0, sizeof opt);
	opt.source = source;
	opt.iterations = iterations;
	if (pass != NULL) {
		s.data = (char *)pass;
		s.len = strlen(pass);
		opt.passphrase = &s;
	}
	*cause = NULL;
	return backup_stage(&opt, parent_fd, "staged", NULL, res, cause);
}

static void
test_encrypted(void)
{
	struct backup_result res;
	char sum[DIGEST_HEX_LEN + 1], *plain, *enc, *cause, *before, *after;
	int r;

	plain = join(root, "enc.tar.gz");
	enc = join(root, "backup.tgz.enc");
	sh("bsdtar -czf '%s' -C '%s' . && openssl enc -aes-256-cbc -pbkdf2 -iter 10000 -salt "
	   "-pass 'file:%s' -in '%s' -out '%s'",
	    plain, tree, pass_file, plain, enc);
	sha256sum_of(enc, sum);
	r = stage_encrypted(enc, PASSPHRASE, 0, &res, &cause);
	ok(r == 0, "encrypted: staged with the right passphrase (%s)", shown(cause));
	ok(r == 0 && same_tree(tree, ""), "encrypted: staged byte for byte");
	ok(r == 0 && (long long)res.bytes_read == size_of(enc) && strcmp(res.sha256, sum) == 0,
	    "encrypted: read once; the SHA-256 is of the encrypted file as stored");
	backup_result_free(&res);
	free(cause);
	rm_staged();

	before = listing(parent);
	r = stage_encrypted(enc, "wrong horse", 0, &res, &cause);
	after = listing(parent);
	ok(r == -1 && contains(cause, "passphrase is wrong or the backup is damaged"),
	    "encrypted: a wrong passphrase is refused (%s)", shown(cause));
	ok(strcmp(before, after) == 0 && contains(cause, "staging folder was removed"),
	    "encrypted: the staging folder is removed");
	free(before);
	free(after);
	free(cause);

	r = stage_encrypted(enc, NULL, 0, &res, &cause);
	ok(r == -1 && contains(cause, "passphrase is needed"), "encrypted: no passphrase (%s)",
	    shown(cause));
	free(cause);
	r = stage_encrypted(enc, PASSPHRASE, 9999, &res, &cause);
	ok(r == -1 && contains(cause, "passphrase is wrong"),
	    "encrypted: the wrong iteration count reads as a wrong passphrase");
	free(cause);
	free(enc);
	free(plain);
}

/* 7-Zip seeks: through the spool, even when encrypted; a damaged end is caught. */
static void
test_encrypted_7z(void)
{
	struct backup_result res;
	char *plain, *enc, *cause, *p;
	int r;

	plain = join(root, "enc.tar.gz");
	enc = join(root, "backup.7z.enc");
	sh("bsdtar --format 7zip -cf '%s.7z' -C '%s' . && openssl enc -aes-256-cbc -pbkdf2 -iter "
	   "2000 "
	   "-salt -pass 'file:%s' -in '%s.7z' -out '%s'",
	    plain, tree, pass_file, plain, enc);
	r = stage_encrypted(enc, PASSPHRASE, 2000, &res, &cause);
	ok(r == 0 && same_tree(tree, "") && (long long)res.bytes_read == size_of(enc),
	    "an encrypted 7-Zip (it seeks) with 2000 iterations: staged, read once (%s)",
	    shown(cause));
	backup_result_free(&res);
	free(cause);
	rm_staged();

	/* Tampered: the last block changed, so the padding is wrong. */
	sh("cp '%s' '%s.bad' && printf 'XXXXXXXXXXXXXXXX' | dd of='%s.bad' bs=1 seek=$(( $(stat -c "
	   "%%s "
	   "'%s') - 16 )) conv=notrunc 2>/dev/null",
	    enc, enc, enc, enc);
	p = xasprintf("%s.bad", enc);
	r = stage_encrypted(p, PASSPHRASE, 2000, &res, &cause);
	free(p);
	ok(r == -1 && contains(cause, "passphrase is wrong or the backup is damaged") &&
		!staged_exists(""),
	    "a damaged encrypted backup is refused (%s)", shown(cause));
	free(cause);
	free(enc);
	free(plain);
}

/* Changes the byte at off (from the end when negative) of a file. */
static void
flip_byte(const char *path, long long off)
{
	unsigned char c;
	int fd;

	if (off < 0)
		off += size_of(path);
	if ((fd = open(path, O_RDWR)) < 0 || pread(fd, &c, 1, (off_t)off) != 1)
		diag("cannot read %s", path);
	c ^= 0x20;
	if (fd >= 0 && pwrite(fd, &c, 1, (off_t)off) != 1)
		diag("cannot write %s", path);
	if (fd >= 0)
		close(fd);
}

/* Changes the first hex digit of a side file's HMAC (its second line) into another. */
static void
flip_hex_digit(const char *side)
{
	char text[256], *nl;
	ssize_t n = -1;
	int fd;

	if ((fd = open(side, O_RDWR)) >= 0)
		n = pread(fd, text, sizeof text - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	if ((nl = strchr(text, '\n')) == NULL || nl[1] == '\0') {
		diag("%s has no second line", side);
	} else {
		nl[1] = nl[1] == '0' ? '1' : '0';
		if (pwrite(fd, nl + 1, 1, nl + 1 - text) != 1)
			diag("cannot write %s", side);
	}
	if (fd >= 0)
		close(fd);
}

/* An encrypted tar of the tree with its FILE.hmac, by kmsrecover's writer; the path. */
static char *
make_hmac_backup(const char *name)
{
	struct mkbackup_options opt;
	struct mkbackup_result made;
	struct secret s;
	char *out = join(root, name), *src = join(root, "hmac-src"), *cause = NULL;

	memset(&opt, 0, sizeof opt);
	s.data = (char *)PASSPHRASE;
	s.len = strlen(PASSPHRASE);
	/* The writer adds its own MANIFEST.sha256. */
	sh("rm -rf '%s' && cp -a '%s' '%s' && rm '%s/MANIFEST.sha256'", src, tree, src, src);
	opt.kmsdata_fd = open(src, O_RDONLY | O_DIRECTORY);
	opt.output = out;
	opt.passphrase = &s;
	opt.iterations = 1000;
	if (opt.kmsdata_fd < 0 || mkbackup_write(&opt, NULL, &made, &cause) != 0)
		diag("cannot make %s: %s", out, shown(cause));
	if (opt.kmsdata_fd >= 0)
		close(opt.kmsdata_fd);
	free(cause);
	free(src);
	return out;
}

/* Copies the backup and its side file under a new name (either may then be altered). */
static char *
copy_hmac_backup(const char *from, const char *name)
{
	char *to = join(root, name);

	sh("cp '%s' '%s' && cp '%s.hmac' '%s.hmac'", from, to, from, to);
	return to;
}

/*
 * Stages source, which must be refused: with want in the cause, the
 * staging folder removed and nothing else in the parent folder changed.
 */
static void
refused_hmac(const char *source, const char *pass, const char *want, const char *what)
{
	struct backup_result res;
	char *cause, *before, *after;
	int r;

	before = listing(parent);
	r = stage_encrypted(source, pass, 1000, &res, &cause);
	after = listing(parent);
	ok(r == -1 && contains(cause, want), "hmac: %s is refused (%s)", what, shown(cause));
	ok(r == -1 && strcmp(before, after) == 0 && contains(cause, "staging folder was removed"),
	    "hmac: %s: the staging folder is removed, nothing else changed", what);
	if (r == 0) {
		backup_result_free(&res);
		rm_staged();
	}
	free(before);
	free(after);
	free(cause);
}

/*
 * FILE.hmac is checked in the one read: a sound backup stages with no
 * warning, read once; one altered anywhere, a changed or malformed side
 * file, a truncated file are refused with the staging folder removed. The
 * first alteration (in the tar's second end-of-archive block, which a tar
 * reader never looks at) stages without complaint once its side file is
 * gone: only the HMAC can catch it.
 */
static void
test_encrypted_hmac(void)
{
	struct backup_options opt;
	struct backup_result res;
	char sum[DIGEST_HEX_LEN + 1], *good, *bad, *side, *cause = NULL;
	int r;

	good = make_hmac_backup("hmac.tar.enc");
	sha256sum_of(good, sum);
	r = stage_encrypted(good, PASSPHRASE, 1000, &res, &cause);
	ok(r == 0 && same_tree(tree, "") && res.warnings == NULL && res.hmac_matched,
	    "hmac: kmsrecover's encrypted backup stages, byte for byte, its HMAC matched (%s)",
	    shown(cause));
	ok(r == 0 && (long long)res.bytes_read == size_of(good) && strcmp(res.sha256, sum) == 0,
	    "hmac: read once, to the end; the SHA-256 is of the file as stored");
	if (r == 0)
		backup_result_free(&res);
	free(cause);
	rm_staged();

	bad = copy_hmac_backup(good, "hmac-tail.tar.enc");
	flip_byte(bad, -100);
	refused_hmac(bad, PASSPHRASE, "HMAC does not match", "a ciphertext byte in the tar's end");
	memset(&opt, 0, sizeof opt);
	opt.source = bad;
	opt.passphrase = &(struct secret){ (char *)PASSPHRASE, strlen(PASSPHRASE) };
	opt.iterations = 1000;
	cause = NULL;
	r = backup_validate(&opt, NULL, &res, &cause);
	ok(r == -1 && contains(cause, "HMAC does not match"),
	    "hmac: validate (kmsrecover verify) refuses it too (%s)", shown(cause));
	free(cause);
	sh("rm '%s.hmac'", bad);
	r = stage_encrypted(bad, PASSPHRASE, 1000, &res, &cause);
	ok(r == 0 && !res.hmac_matched && res.warnings != NULL &&
		contains(res.warnings[0], "no HMAC file"),
	    "hmac: without its side file the same alteration passes, with a warning (%s)",
	    shown(r == 0 ? (res.warnings != NULL ? res.warnings[0] : NULL) : cause));
	if (r == 0)
		backup_result_free(&res);
	free(cause);
	rm_staged();
	free(bad);

	bad = copy_hmac_backup(good, "hmac-head.tar.enc");
	flip_byte(bad, 100);
	refused_hmac(bad, PASSPHRASE, "HMAC does not match",
	    "a ciphertext byte that breaks the archive");
	free(bad);

	bad = copy_hmac_backup(good, "hmac-side.tar.enc");
	side = xasprintf("%s.hmac", bad);
	flip_hex_digit(side);
	refused_hmac(bad, PASSPHRASE, "HMAC does not match", "an altered side file");
	write_file(side, "kmsrecover-hmac-sha256 1 1000\nnot hex\n", 38);
	refused_hmac(bad, PASSPHRASE, "is not one kmsrecover wrote", "a malformed side file");
	free(side);
	free(bad);

	bad = copy_hmac_backup(good, "hmac-short.tar.enc");
	sh("truncate -s -16 '%s'", bad);
	refused_hmac(bad, PASSPHRASE, "HMAC does not match", "a file cut short by a block");
	sh("truncate -s -5 '%s'", bad);
	refused_hmac(bad, PASSPHRASE, "HMAC does not match", "a file cut short mid-block");
	free(bad);

	refused_hmac(good, "wrong horse", "passphrase is wrong", "a wrong passphrase");
	free(good);
}

/* Makes tree copy "name" with MANIFEST.sha256 replaced by text, and a tar of it. */
static char *
archive_with_manifest(const char *name, const char *sed)
{
	char *dir = join(root, name), *archive = xasprintf("%s/%s.tar", root, name);

	sh("rm -rf '%s' && cp -rp '%s' '%s' && cd '%s' && %s && bsdtar -cf '%s' .", dir, tree, dir,
	    dir, sed, archive);
	free(dir);
	return archive;
}

static void
expect_manifest_refusal(const char *what, const char *sed, const char *want1, const char *want2)
{
	struct backup_result res;
	char *archive, *cause, *before, *after;
	int r;

	archive = archive_with_manifest("m", sed);
	before = listing(parent);
	r = stage(archive, &res, &cause);
	after = listing(parent);
	ok(r == -1 && contains(cause, want1) && contains(cause, want2), "%s: refused (%s)", what,
	    shown(cause));
	ok(strcmp(before, after) == 0 && contains(cause, "staging folder was removed"),
	    "%s: the staging folder is removed", what);
	free(before);
	free(after);
	free(cause);
	free(archive);
}

static void
test_manifest(void)
{
	struct backup_result res;
	char sum[DIGEST_HEX_LEN + 1], *archive, *cause;
	int r;

	expect_manifest_refusal("one flipped digest",
	    "sed -i '/edb00001.log/s/^./X/; s/^X/0/; t; s/^0\\(.*edb00001\\)/1\\1/' "
	    "MANIFEST.sha256 && "
	    "awk '{ if ($2 == \"edb00001.log\") { c = substr($1,1,1); $1 = (c == \"0\" ? \"1\" : "
	    "\"0\") "
	    "substr($1,2) } print $1 \"  \" $2 }' MANIFEST.sha256 > M && mv M MANIFEST.sha256",
	    "\"edb00001.log\"", "does not match");
	expect_manifest_refusal("a file missing from the manifest",
	    "sed -i '/logs.res1.log/d' MANIFEST.sha256", "\"logs/res1.log\"", "not listed");
	expect_manifest_refusal("a listed file missing from the backup",
	    "echo \"$(sha256sum < empty.dat | cut -c1-64)  ghost.edb\" >> MANIFEST.sha256",
	    "\"ghost.edb\"", "missing from the backup");
	expect_manifest_refusal("a malformed manifest line", "sed -i '2s/^/zz/' MANIFEST.sha256",
	    "line 2", "MANIFEST.sha256");
	expect_manifest_refusal("a manifest that is a folder",
	    "rm MANIFEST.sha256 && mkdir MANIFEST.sha256", "MANIFEST.sha256", "not a plain file");

	archive = archive_with_manifest("nomanifest", "rm MANIFEST.sha256");
	sha256sum_of(archive, sum);
	r = stage(archive, &res, &cause);
	ok(r == 0 && !res.manifest_found && res.files == 4, "no manifest: staged (%s)",
	    shown(cause));
	ok(r == 0 && res.warnings != NULL && contains(res.warnings[0], "no MANIFEST.sha256") &&
		res.warnings[1] == NULL,
	    "no manifest: one warning (%s)",
	    shown(r == 0 && res.warnings != NULL ? res.warnings[0] : NULL));
	ok(r == 0 && strcmp(res.sha256, sum) == 0, "no manifest: the SHA-256 is sha256sum's");
	backup_result_free(&res);
	free(cause);
	rm_staged();
	free(archive);

	archive = archive_with_manifest("info", "echo 'made by test' > BACKUP.INFO");
	r = stage(archive, &res, &cause);
	ok(r == 0 && !staged_exists("/BACKUP.INFO") && res.files == 4,
	    "BACKUP.INFO is read but not staged, and needs no manifest line (%s)", shown(cause));
	backup_result_free(&res);
	free(cause);
	rm_staged();
	free(archive);
}

static char *
hostile(const char *name)
{
	char *archive = xasprintf("%s/hostile-%s", root, name);

	if (!exists(archive))
		diag("python3 did not make %s", archive);
	return archive;
}

static void
expect_hostile(const char *name, const char *want1, const char *want2)
{
	struct backup_result res;
	char *archive, *cause, *lr[2], *lp[2], *lo[2], cwd[4096];
	int r;

	archive = hostile(name);
	if (getcwd(cwd, sizeof cwd) == NULL)
		cwd[0] = '\0';
	lr[0] = listing(root);
	lp[0] = listing(parent);
	lo[0] = listing(outside);
	r = stage(archive, &res, &cause);
	lr[1] = listing(root);
	lp[1] = listing(parent);
	lo[1] = listing(outside);
	ok(r == -1 && contains(cause, want1) && contains(cause, want2), "hostile %s: refused (%s)",
	    name, shown(cause));
	ok(strcmp(lr[0], lr[1]) == 0 && strcmp(lp[0], lp[1]) == 0 && strcmp(lo[0], lo[1]) == 0 &&
		same_cwd(cwd),
	    "hostile %s: the staging folder is gone, nothing was created outside it, "
	    "the working directory is restored",
	    name);
	free(cause);
	free(lr[0]);
	free(lr[1]);
	free(lp[0]);
	free(lp[1]);
	free(lo[0]);
	free(lo[1]);
	free(archive);
}

static void
test_hostile(void)
{
	expect_hostile("dotdot", "\"../evil\"", "..");
	expect_hostile("dotdot-deep", "\"a/../../evil\"", "..");
	expect_hostile("zip-dotdot", "\"../evil\"", "..");
	expect_hostile("absolute", "/abs\"", "absolute path");
	expect_hostile("symlink-out", "\"link\"", "symbolic link");
	expect_hostile("symlink-in", "\"b\"", "symbolic link");
	expect_hostile("hardlink-out", "\"hl\"", "hard link");
	expect_hostile("hardlink-dotdot", "\"hl\"", "hard link");
	expect_hostile("hardlink-later", "\"hl\"", "not extracted before it");
	expect_hostile("hardlink-dir", "\"hl\"", "hard link");
	expect_hostile("device", "\"dev\"", "device node");
	expect_hostile("block", "\"blk\"", "device node");
	expect_hostile("fifo", "\"fifo\"", "FIFO");
	expect_hostile("cpio-socket", "\"sock\"", "socket");
	expect_hostile("setuid", "\"suid\"", "set-user-ID");
	expect_hostile("setgid-dir", "\"sgid", "set-group-ID");
	expect_hostile("sticky", "\"tmp", "sticky");
	expect_hostile("duplicate", "\"a\"", "appears twice");
	expect_hostile("duplicate-dot", "\"./a\"", "appears twice");
	expect_hostile("file-then-dir", "\"a/\"", "replace a file with a folder");
	expect_hostile("dir-then-file", "\"d\"", "replace a folder with a file");
	expect_hostile("implicit-dir-then-file", "\"d\"", "replace a folder with a file");
	expect_hostile("through-file", "\"f/g\"", "goes through \"f\"");
	expect_hostile("long", "longer than", "a/a/a/...\"");
	expect_hostile("deep", "nested more than", "a/a/a/");
	expect_hostile("manifest-dir", "MANIFEST.sha256", "not a plain file");
	expect_hostile("escape", "\"../\\x1b[2Jevil\\x0aname\"", "..");
}

/* What looks odd but is sound: control characters in a name, a hard link inside. */
static void
test_odd_but_sound(void)
{
	struct backup_result res;
	char *archive, *cause, *p;
	int r;

	archive = hostile("escape");
	r = stage(archive, &res, &cause);
	ok(r == -1 && strchr(cause, '\x1b') == NULL && strchr(cause, '\n') == NULL,
	    "no raw control character reaches the cause");
	free(cause);
	free(archive);

	archive = hostile("controls-ok");
	r = stage(archive, &res, &cause);
	p = xasprintf("%s/staged/ctl\x1b[31m\nname", parent);
	ok(r == 0 && exists(p), "a name with control characters is fine to stage (%s)",
	    shown(cause));
	free(p);
	backup_result_free(&res);
	free(cause);
	rm_staged();
	free(archive);

	archive = hostile("hardlink-ok");
	r = stage(archive, &res, &cause);
	ok(r == 0 && res.files == 2 &&
		sh("cmp -s '%s/staged/a' '%s/staged/b'", parent, parent) == 0,
	    "a hard link to a file extracted before it is staged (%s)", shown(cause));
	backup_result_free(&res);
	free(cause);
	rm_staged();
	free(archive);
}

/* A cpio (newc) set of hard links carries the data on its last link. */
static void
test_cpio_hardlinks(void)
{
	struct backup_result res;
	char *dir, *archive, *cause;
	int r;

	dir = join(root, "links");
	archive = join(root, "links.cpio");
	sh("rm -rf '%s' && mkdir '%s' && cd '%s' && echo shared > a && ln a b && echo other > c && "
	   "sha256sum a b c > MANIFEST.sha256 && bsdtar --format newc -cf '%s' MANIFEST.sha256 a b "
	   "c",
	    dir, dir, dir, archive);
	r = stage(archive, &res, &cause);
	ok(r == 0 && res.files == 3 &&
		sh("cmp -s '%s/a' '%s/staged/a' && cmp -s '%s/a' "
		   "'%s/staged/b'",
		    dir, parent, dir, parent) == 0,
	    "hard links in newc cpio: both names staged and checked (%s)", shown(cause));
	backup_result_free(&res);
	free(cause);
	rm_staged();
	free(archive);
	free(dir);
}

/* Whether the staging folder holds a regular file with data. */
static int
staged_has_data(void)
{
	char *path = join(parent, "staged"), *p;
	struct dirent *de;
	struct stat st;
	int found = 0;
	DIR *d;

	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			p = join(path, de->d_name);
			if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
				found = 1;
			free(p);
		}
		closedir(d);
	}
	free(path);
	return found;
}

struct watch {
	int calls;
	int stop_at;
	int monotonic;
	int named;
	int data_seen;
	uint64_t last_done;
	uint64_t total;
	uint64_t max_gap;
};

static int
watch_update(void *arg, const struct progress_state *st)
{
	struct watch *w = arg;

	w->calls++;
	if (st->bytes_done < w->last_done)
		w->monotonic = 0;
	if (st->bytes_done - w->last_done > w->max_gap)
		w->max_gap = st->bytes_done - w->last_done;
	w->last_done = st->bytes_done;
	w->total = st->bytes_total;
	w->named += st->current != NULL;
	w->data_seen |= staged_has_data();
	return w->stop_at != 0 && w->calls >= w->stop_at;
}

static void
test_progress_and_space(void)
{
	struct backup_options opt;
	struct backup_result res;
	struct progress pr;
	struct watch w;
	char *archive, *cause, *before, *after;
	int r;

	archive = join(root, "backup.tar.gz");
	memset(&opt, 0, sizeof opt);
	opt.source = archive;
	memset(&w, 0, sizeof w);
	w.monotonic = 1;
	pr.update = watch_update;
	pr.arg = &w;
	r = backup_stage(&opt, parent_fd, "staged", &pr, &res, &cause);
	ok(r == 0 && w.calls >= 7 && w.named >= 6, "progress: reported at each entry (%d calls)",
	    w.calls);
	ok(w.monotonic && w.last_done == (uint64_t)size_of(archive) && w.total == w.last_done,
	    "progress: bytes read grow to the archive's size, which is the total");
	ok(w.max_gap <= 1024 * 1024 + 128 * 1024, "progress: at least every MiB (largest gap %llu)",
	    (unsigned long long)w.max_gap);
	backup_result_free(&res);
	rm_staged();

	memset(&w, 0, sizeof w);
	w.stop_at = 4;
	before = listing(parent);
	r = backup_stage(&opt, parent_fd, "staged", &pr, &res, &cause);
	after = listing(parent);
	ok(r == -1 && contains(cause, "stopped by the operator") && strcmp(before, after) == 0,
	    "progress: a non-zero return stops, and the staging folder is removed (%s)",
	    shown(cause));
	free(cause);
	free(after);

	memset(&w, 0, sizeof w);
	opt.free_space = 5000;
	r = backup_stage(&opt, parent_fd, "staged", &pr, &res, &cause);
	after = listing(parent);
	ok(r == -1 && contains(cause, "does not fit") && contains(cause, "5000 are free"),
	    "free space: refused (%s)", shown(cause));
	ok(!w.data_seen && strcmp(before, after) == 0,
	    "free space: refused before any data was written; the staging folder is removed");
	free(cause);
	free(after);

	opt.free_space = BIG_SIZE + 10000 + 12;
	r = backup_stage(&opt, parent_fd, "staged", NULL, &res, &cause);
	ok(r == 0, "free space: exactly enough is enough (%s)", shown(r == 0 ? NULL : cause));
	backup_result_free(&res);
	rm_staged();
	free(before);
	free(archive);
}

static void
test_validate(void)
{
	struct backup_options opt;
	struct backup_result res;
	char *cause = NULL, *before, *after, *archive;
	int r;

	memset(&opt, 0, sizeof opt);
	opt.source = archive = join(root, "backup.7z");
	before = listing(parent);
	r = backup_validate(&opt, NULL, &res, &cause);
	after = listing(parent);
	ok(r == 0 && res.files == 4 && res.manifest_found &&
		(long long)res.bytes_read == size_of(archive),
	    "validate: a 7-Zip backup is sound, read once (%s)", shown(cause));
	ok(strcmp(before, after) == 0, "validate: nothing written");
	backup_result_free(&res);
	free(after);
	free(archive);

	opt.source = archive = hostile("symlink-out");
	cause = NULL;
	r = backup_validate(&opt, NULL, &res, &cause);
	after = listing(parent);
	ok(r == -1 && contains(cause, "symbolic link") && strcmp(before, after) == 0,
	    "validate: the same refusals (%s)", shown(cause));
	free(cause);
	free(after);
	free(archive);

	opt.source = tree;
	r = backup_validate(&opt, NULL, &res, &cause);
	after = listing(parent);
	ok(r == 0 && res.files == 4 && res.manifest_found && strcmp(before, after) == 0,
	    "validate: a folder source, nothing written (%s)", shown(r == 0 ? NULL : cause));
	backup_result_free(&res);
	free(after);

	opt.source = archive = archive_with_manifest("vm", "sed -i '/empty.dat/d' MANIFEST.sha256");
	cause = NULL;
	r = backup_validate(&opt, NULL, &res, &cause);
	ok(r == -1 && contains(cause, "\"empty.dat\" is not listed"),
	    "validate: manifest checked (%s)", shown(cause));
	free(cause);
	free(archive);
	free(before);
}

static void
test_odd_sources(void)
{
	struct backup_result res;
	char *archive, *cause, *p;
	int r;

	archive = join(root, "empty.tar");
	sh("bsdtar -cf '%s' -T /dev/null", archive);
	r = stage(archive, &res, &cause);
	ok(r == -1 && contains(cause, "holds no files"), "an empty archive is refused (%s)",
	    shown(cause));
	free(cause);
	free(archive);

	archive = join(root, "garbage.bin");
	write_random(archive, 100000, 7);
	r = stage(archive, &res, &cause);
	ok(r == -1 && contains(cause, "cannot be read") && !staged_exists(""),
	    "garbage is refused (%s)", shown(cause));
	free(cause);
	free(archive);

	archive = join(root, "truncated.tar.gz");
	sh("head -c $(( $(stat -c %%s '%s/backup.tar.gz') / 2 )) '%s/backup.tar.gz' > '%s'", root,
	    root, archive);
	r = stage(archive, &res, &cause);
	ok(r == -1 && contains(cause, "Kmsmdb.edb") && !staged_exists(""),
	    "a truncated archive is refused, naming the entry (%s)", shown(cause));
	free(cause);
	free(archive);

	p = join(parent, "staged");
	sh("mkdir '%s' && echo keep > '%s/precious'", p, p);
	r = stage(tree, &res, &cause);
	ok(r == -1 && contains(cause, "Cannot create the staging folder") &&
		contains(cause, "Nothing was changed") && staged_exists("/precious"),
	    "an existing staging folder is refused and left alone (%s)", shown(cause));
	free(cause);
	rm_rf(p);
	free(p);
}

/* In a fresh copy of this program: stage argv[2] with KMSRECOVER_FAULT as set. */
static int
child_main(int argc, char **argv)
{
	struct backup_result res;
	char *cause = NULL;
	int r;

	if (argc < 5 || (parent_fd = open(argv[3], O_RDONLY | O_DIRECTORY)) < 0)
		return 2;
	r = stage(argv[2], &res, &cause);
	if (cause != NULL)
		write_file(argv[4], cause, strlen(cause));
	free(cause);
	if (r == 0)
		backup_result_free(&res);
	close(parent_fd);
	return r == 0 ? 0 : 1;
}

static void
expect_fault(const char *fault, const char *archive, const char *want)
{
	char *out = join(root, "child.out"), *text = NULL, buf[4096];
	const char *argv[6];
	int status = -1;
	pid_t pid;
	FILE *f;

	unlink(out);
	argv[0] = self;
	argv[1] = "--child";
	argv[2] = archive;
	argv[3] = parent;
	argv[4] = out;
	argv[5] = NULL;
	if ((pid = fork()) == 0) {
		setenv("KMSRECOVER_FAULT", fault, 1);
		execv(self, (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	if ((f = fopen(out, "r")) != NULL) {
		buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
		text = buf;
		fclose(f);
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 1 && contains(text, want) &&
		!staged_exists(""),
	    "fault %s: refused, the staging folder removed (%s)", fault, shown(text));
	free(out);
}

static void
test_faults(void)
{
#ifdef ENABLE_FAULT_INJECTION
	char *tgz = join(root, "backup.tar.gz"), *seven = join(root, "backup.7z");

	expect_fault("mkdir:1", tgz, "Cannot create the staging folder");
	expect_fault("read:1", tgz, "Cannot read the backup");
	expect_fault("read:5", tgz, "Cannot read the backup");
	expect_fault("write:1", tgz, "cannot be written to the staging folder");
	expect_fault("write:1", seven, "temporary copy");
	expect_fault("fsync:1", tgz, "Cannot write the staged files to disk");
	expect_fault("fsync:3", tgz, "Cannot write the staged files to disk");
	expect_fault("read:3", tree, "Cannot read the backup folder entry");
	free(tgz);
	free(seven);
#else
	ok(1, "# SKIP built without fault injection");
#endif
}

int
main(int argc, char **argv)
{
	int fds;

	self = argv[0];
	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		return child_main(argc, argv);
	if (sh("command -v bsdtar python3 openssl sha256sum diff >/dev/null") != 0)
		skip_all("bsdtar, python3, openssl, sha256sum or diff is missing");
	if (mkdtemp(root) == NULL)
		skip_all("mkdtemp failed");
	parent = join(root, "p");
	outside = join(root, "outside");
	pass_file = join(root, "pass");
	script = join(root, "hostile.py");
	sh("mkdir '%s' '%s'", parent, outside);
	write_file(pass_file, PASSPHRASE "\n", strlen(PASSPHRASE) + 1);
	write_file(script, hostile_py, sizeof hostile_py - 1);
	if (sh("python3 '%s' '%s' '%s'", script, root, outside) != 0)
		skip_all("python3 could not make the hostile archives");
	if ((parent_fd = open(parent, O_RDONLY | O_DIRECTORY)) < 0)
		skip_all("cannot open the parent folder");
	make_trees();
	fds = count_fds();

	test_escape();
	test_probe();
	test_formats();
	test_modes_kept();
	test_payload();
	test_directory();
	test_encrypted();
	test_encrypted_7z();
	test_encrypted_hmac();
	test_manifest();
	test_hostile();
	test_odd_but_sound();
	test_cpio_hardlinks();
	test_progress_and_space();
	test_validate();
	test_odd_sources();
	test_faults();
	ok(count_fds() == fds, "no file descriptor was left open (%d, %d)", fds, count_fds());

	close(parent_fd);
	rm_rf(root);
	return done_testing();
}
