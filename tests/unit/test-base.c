/*
 * The helpers written once for every layer (src/base/fs.c, utf8.c, and the
 * labels of src/frontend/frontend.c): whole writes and reads through a
 * pipe cut short, the fault injection's counts, a tree removed without
 * following a symbolic link, a folder flushed by a file's path, the clock;
 * the one UTF-8 decoder (and so the same answer where names are escaped,
 * widths measured and hotkeys read); labels and hotkeys; and the one hex
 * reader, so that a FILE.hmac in upper case reads as in lower case.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup.h"
#include "digest.h"
#include "frontend.h"
#include "fs.h"
#include "tap.h"
#include "utf8.h"
#include "width.h"
#include "xmalloc.h"

static char root[] = "/tmp/kmsrecover-test-base.XXXXXX";

static char *
at(const char *name)
{
	return xasprintf("%s/%s", root, name);
}

static int
exists(const char *name)
{
	struct stat st;
	char *p = at(name);
	int r = lstat(p, &st) == 0;

	free(p);
	return r;
}

/* A pipe read in small pieces: the writer's writes are cut short, the reader's reads too. */
static void
test_write_read_pipe(void)
{
	static char big[256 * 1024], back[sizeof big];
	int fds[2];
	pid_t pid;
	size_t i;
	ssize_t n;

	for (i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 7 + 3);
	if (pipe(fds) != 0) {
		ok(0, "fs: a pipe");
		return;
	}
	if ((pid = fork()) == 0) {
		close(fds[0]);
		_exit(fs_write_all(fds[1], big, sizeof big) == 0 ? 0 : 1);
	}
	close(fds[1]);
	n = fs_read_full(fds[0], back, sizeof back);
	ok(n == (ssize_t)sizeof big && memcmp(big, back, sizeof big) == 0,
	    "fs: 256 KiB through a pipe: written whole, read whole (%zd bytes)", n);
	ok(fs_read_full(fds[0], back, 16) == 0, "fs: at the end a read gives 0 bytes");
	close(fds[0]);
	waitpid(pid, NULL, 0);
}

static void
test_write_read_faults(void)
{
	char *path = at("faulty");
	char buf[8];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

#ifdef ENABLE_FAULT_INJECTION
	setenv("KMSRECOVER_FAULT", "write:1", 1);
	ok(fs_write_all(fd, "abc", 3) == -1, "fs: KMSRECOVER_FAULT=write:1 fails the first write");
	unsetenv("KMSRECOVER_FAULT");
	ok(fs_write_all(fd, "abc", 3) == 0, "fs: without it the write goes through");
	lseek(fd, 0, SEEK_SET);
	setenv("KMSRECOVER_FAULT", "read:1", 1);
	ok(fs_read_full(fd, buf, 3) == -1, "fs: KMSRECOVER_FAULT=read:1 fails the first read");
	unsetenv("KMSRECOVER_FAULT");
	setenv("KMSRECOVER_FAULT", "fsync:1", 1);
	ok(fs_fsync(fd) == -1, "fs: KMSRECOVER_FAULT=fsync:1 fails the flush");
	unsetenv("KMSRECOVER_FAULT");
#else
	ok(fs_write_all(fd, "abc", 3) == 0, "fs: a write (fault injection is not built in)");
#endif
	ok(fs_fsync(fd) == 0, "fs: a flush");
	close(fd);
	ok(fs_sync_parent(path) == 0,
	    "fs: the folder holding a file is flushed by the file's path");
	ok(fs_sync_parent("relative-name") == 0, "fs: a bare name flushes the current folder");
	ok(fs_sync_parent("/etc") == 0, "fs: a name in / flushes /");
	free(path);
}

/* A tree with a read-only folder, and a link out that must not be followed. */
static void
test_remove_tree(void)
{
	char *outside = at("outside"), *keep = at("outside/keep"), *cmd;
	int fd;

	cmd = xasprintf("mkdir -p %1$s/tree/a/b %1$s/outside && echo x >%1$s/tree/a/b/f && "
			"echo y >%1$s/outside/keep && ln -s %1$s/outside %1$s/tree/a/link && "
			"chmod 0500 %1$s/tree/a/b",
	    root);
	ok(system(cmd) == 0, "fs: a tree to remove");
	free(cmd);
	fd = open(root, O_RDONLY | O_DIRECTORY);
	ok(fd >= 0 && exists("tree") == 1, "fs: the tree is there");
	ok(fs_remove_tree(fd, "tree") == 0, "fs: remove_tree removes it, a read-only folder too");
	ok(!exists("tree"), "fs: nothing of it is left");
	ok(access(keep, F_OK) == 0, "fs: the folder a link pointed to is untouched");
	ok(fs_remove_tree(fd, "no-such") == -1 && errno == ENOENT, "fs: a missing tree is ENOENT");
	close(fd);
	free(outside);
	free(keep);
}

static void
test_clock(void)
{
	int64_t a = fs_monotonic_ns(), b;

	usleep(2000);
	b = fs_monotonic_ns();
	ok(b - a >= 2000000 && b - a < 10LL * 1000000000, "fs: the clock moves on (%lld ns)",
	    (long long)(b - a));
}

static void
test_utf8(void)
{
	uint32_t cp = 0;
	char *e;

	ok(utf8_decode((const unsigned char *)"A", 1, &cp) == 1 && cp == 'A', "utf8: ASCII");
	ok(utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp) == 2 && cp == 0xe9,
	    "utf8: two bytes (e acute)");
	ok(utf8_decode((const unsigned char *)"\xe6\x97\xa5", 3, &cp) == 3 && cp == 0x65e5,
	    "utf8: three bytes (a CJK character)");
	ok(utf8_decode((const unsigned char *)"\xf0\x9f\x94\x91", 4, &cp) == 4 && cp == 0x1f511,
	    "utf8: four bytes (U+1F511)");
	ok(utf8_decode((const unsigned char *)"\xc0\xaf", 2, &cp) == 0,
	    "utf8: an overlong / is refused");
	ok(utf8_decode((const unsigned char *)"\xe0\x80\xaf", 3, &cp) == 0,
	    "utf8: an overlong three-byte form is refused");
	ok(utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp) == 0,
	    "utf8: a surrogate is refused");
	ok(utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp) == 0,
	    "utf8: past U+10FFFF is refused");
	ok(utf8_decode((const unsigned char *)"\xe6\x97", 2, &cp) == 0,
	    "utf8: a sequence cut short is refused");
	e = utf8_escape("a\xc0\xaf"
			"b\x1b[2J\\"
			"\xe2\x80\xae"
			".edb");
	ok(strcmp(e, "a\\xc0\\xafb\\x1b[2J\\\\\\xe2\\x80\\xae.edb") == 0,
	    "utf8: a name escaped: invalid bytes, ESC, backslash, a bidi override (%s)", e);
	free(e);
	/* The same bytes, measured for the screen: each invalid byte one column, like \xHH. */
	ok(width_decode_char("\xc0\xaf", 2, &cp) == 1 && cp == 0xfffd,
	    "utf8: the screens see the overlong form as one invalid byte, as the escaping does");
}

static void
test_labels(void)
{
	char *p;
	long hot;

	p = fe_label_parse("Save && &quit", &hot);
	ok(strcmp(p, "Save & quit") == 0 && hot == 7,
	    "label: \"&&\" is '&', the hotkey's offset (%ld)", hot);
	free(p);
	p = fe_label_parse("no hotkey&", &hot);
	ok(strcmp(p, "no hotkey&") == 0 && hot == -1,
	    "label: a trailing '&' marks nothing and stays");
	free(p);
	ok(fe_label_hotkey("&Yes") == 'Y', "label: the hotkey of &Yes");
	ok(fe_label_hotkey("На&зад") == 0x437, "label: a Cyrillic hotkey");
	ok(fe_label_hotkey("\xd0\x94\xd0\xb0 (&Y)") == 'Y',
	    "label: a Latin hotkey after Cyrillic text");
	ok(fe_label_hotkey("bad &\xc0\x81") == 0, "label: an overlong form is no hotkey");
	p = fe_label_plain("&Roll back");
	ok(strcmp(p, "Roll back") == 0, "label: the plain text");
	free(p);
	p = fe_label_words("\xe5\x85\xa5\xe5\x8a\x9b(&T)");
	ok(strcmp(p, "\xe5\x85\xa5\xe5\x8a\x9b") == 0,
	    "label: line mode leaves out a hotkey given after the text");
	free(p);
	p = fe_label_words("Read the &startup disk (KMSPWD.INI)");
	ok(strcmp(p, "Read the startup disk (KMSPWD.INI)") == 0,
	    "label: line mode keeps parentheses that are text");
	free(p);
	p = fe_label_words("Yes (&Y) please");
	ok(strcmp(p, "Yes (Y) please") == 0, "label: a hotkey group not at the end stays");
	free(p);
}

/* A path named for a file: itself, or the name inside it when it is a folder. */
static void
test_path_in(void)
{
	char *dir = xasprintf("%s/medium", root), *slash = xasprintf("%s/", dir), *p;

	mkdir(dir, 0700);
	p = fs_path_in(dir, "KMSPWD.INI");
	ok(strcmp(p, slash) > 0 && strstr(p, "/medium/KMSPWD.INI") != NULL,
	    "path: a folder holds the name");
	free(p);
	p = fs_path_in(slash, "KMSPWD.INI");
	ok(strstr(p, "/medium/KMSPWD.INI") != NULL && strstr(p, "//") == NULL,
	    "path: a folder given with a trailing slash, one slash");
	free(p);
	p = fs_path_in("/no/such/bk.tar.zst", "x");
	ok(strcmp(p, "/no/such/bk.tar.zst") == 0, "path: what is not a folder is itself");
	free(p);
	free(slash);
	free(dir);
}

static void
test_hex(void)
{
	unsigned char lower[BACKUP_HMAC_LEN], upper[BACKUP_HMAC_LEN], d[2];
	static const char hex[] =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char *text_lower, *text_upper, *u;
	int it_lower = 0, it_upper = 0;
	size_t i;

	ok(digest_unhex("aB", d, 1) == 0 && d[0] == 0xab, "hex: either case");
	ok(digest_unhex("a", d, 1) == -1, "hex: a digit cut short is refused");
	ok(digest_unhex("g0", d, 1) == -1, "hex: a non-digit is refused");
	u = xstrdup(hex);
	for (i = 0; u[i] != '\0'; i++)
		if (u[i] >= 'a' && u[i] <= 'f')
			u[i] = (char)(u[i] - 'a' + 'A');
	text_lower = xasprintf("kmsrecover-hmac-sha256 1 10000\n%s\n", hex);
	text_upper = xasprintf("kmsrecover-hmac-sha256 1 10000\n%s\n", u);
	ok(backup_hmac_parse(text_lower, &it_lower, lower) == 0, "hex: a FILE.hmac in lower case");
	ok(backup_hmac_parse(text_upper, &it_upper, upper) == 0 && it_upper == it_lower &&
		memcmp(lower, upper, sizeof lower) == 0,
	    "hex: the same FILE.hmac in upper case reads the same (as MANIFEST.sha256 does)");
	free(u);
	free(text_lower);
	free(text_upper);
}

int
main(void)
{
	char *cmd;

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(root) == NULL)
		skip_all("cannot make a temporary folder");
	/* First: KMSRECOVER_FAULT counts each operation's calls from the start. */
	test_write_read_faults();
	test_write_read_pipe();
	test_remove_tree();
	test_path_in();
	test_clock();
	test_utf8();
	test_labels();
	test_hex();
	cmd = xasprintf("chmod -R u+w %s; rm -rf %s", root, root);
	if (system(cmd) != 0)
		diag("could not remove %s", root);
	free(cmd);
	return done_testing();
}
