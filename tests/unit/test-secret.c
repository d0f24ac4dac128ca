/*
 * secret.c: the process hardening, normalising the alpha string (and never
 * quoting it in an error), reading it from a file or a pipe, the startup
 * disk in its real-world shapes, the verifier, and the hand-off files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "handoff.h"
#include "profile.h"
#include "secret.h"
#include "startup-disk.h"
#include "tap.h"
#include "xmalloc.h"

static char tmpdir[] = "/tmp/kmsrecover-test-secret-XXXXXX";

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* tmpdir/name (folders made as needed) holding len bytes of text. */
static char *
put(const char *name, const char *text, size_t len, mode_t mode)
{
	char *path = xasprintf("%s/%s", tmpdir, name), *slash;
	int fd;

	for (slash = strchr(path + strlen(tmpdir) + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd == -1 || write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
		diag("cannot write %s: %s", path, strerror(errno));
		exit(1);
	}
	return path;
}

static char *
put_s(const char *name, const char *text)
{
	return put(name, text, strlen(text), 0644);
}

static char *
slurp(const char *path)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd == -1)
		return NULL;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n < 0 ? NULL : xstrndup(buf, (size_t)n);
}

static void
test_init(void)
{
	struct rlimit rl;
	char *warning = NULL;
	int r = secret_init_process(&warning);

	if (warning != NULL)
		diag("warning: %s", warning);
	ok(r == 0 || warning != NULL, "secret_init_process: 0, or a warning");
	ok(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0, "the process is not dumpable");
	ok(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 && rl.rlim_max == 0,
	    "RLIMIT_CORE is 0");
	ok(CRYPTO_secure_malloc_initialized() == 1 || warning != NULL, "the secure heap is set up");
	free(warning);
	warning = NULL;
	ok(secret_init_process(&warning) == 0 || warning != NULL, "a second call is harmless");
	free(warning);
}

static void
test_new(void)
{
	struct secret *s = secret_new("abc\0def", 7);

	ok(s->len == 7 && memcmp(s->data, "abc\0def", 8) == 0,
	    "secret_new copies len bytes, NUL after");
	ok(!CRYPTO_secure_malloc_initialized() || CRYPTO_secure_allocated(s->data),
	    "its bytes are in the secure heap");
	secret_free(s);
	secret_free(NULL);
}

/* Normalises text; the result or NULL, *cause on failure. */
static char *
normalize(const char *text, enum secret_case c, char **cause)
{
	struct secret *s = secret_new(text, strlen(text));
	char *out = NULL;

	*cause = NULL;
	if (secret_normalize_alpha(s, c, cause) == 0)
		out = xstrndup(s->data, s->len);
	secret_free(s);
	return out;
}

static void
test_normalize(void)
{
	const char *bad[] = { "ABCDEFGHIJKLM", "ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLM1",
		"ABCDEFG HIJKLMN", "" };
	char *out, *cause;
	size_t i;

	out = normalize("  abcdefghijklmn \r\n", SECRET_CASE_UPPER, &cause);
	ok(out != NULL && strcmp(out, "ABCDEFGHIJKLMN") == 0, "lower case folded, blanks trimmed");
	free(out);
	out = normalize("\tQwErTyUiOpAsDfG", SECRET_CASE_UPPER, &cause);
	ok(out != NULL && strcmp(out, "QWERTYUIOPASDFG") == 0, "15 letters accepted");
	free(out);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		out = normalize(bad[i], SECRET_CASE_UPPER, &cause);
		ok(out == NULL && cause != NULL &&
			strstr(cause, "must be 14 or 15 letters A to Z") != NULL &&
			(bad[i][0] == '\0' || strstr(cause, bad[i]) == NULL),
		    "refused \"%s\": %s", bad[i], cause ? cause : "");
		free(cause);
	}
	out = normalize("abcdefghijklm", SECRET_CASE_UPPER, &cause);
	ok(cause != NULL && strstr(cause, "has 13 characters") != NULL &&
		strcasestr(cause, "abcdefghijklm") == NULL,
	    "the count is given, never the secret");
	free(cause);
	out = normalize("ÄBCDEFGHIJKLMN", SECRET_CASE_UPPER, &cause);
	ok(out == NULL && cause != NULL && strstr(cause, "other than letters") != NULL,
	    "a non-ASCII letter counts as one character and is refused");
	free(cause);

	out = normalize("  pass Word 1\r\n", SECRET_CASE_EXACT, &cause);
	ok(out != NULL && strcmp(out, "pass Word 1") == 0, "exact: kept as typed, ends trimmed");
	free(out);
	out = normalize(" \t\n", SECRET_CASE_EXACT, &cause);
	ok(out == NULL && cause != NULL && strstr(cause, "empty") != NULL, "exact: empty refused");
	free(cause);
	out = normalize("zqx\001word", SECRET_CASE_EXACT, &cause);
	ok(out == NULL && cause != NULL && strstr(cause, "control") != NULL &&
		strstr(cause, "zqx") == NULL,
	    "exact: control character refused");
	free(cause);
}

static void
test_read_file(void)
{
	struct secret *s = NULL;
	char *path, *cause = NULL, rest[16], *big;
	int fds[2], saved, r;
	ssize_t n;

	path = put_s("alpha.txt", "FIRSTLINEALPHA\nsecond line\n");
	r = secret_read_file(path, &s, &cause);
	ok(r == 0 && s != NULL && strcmp(s->data, "FIRSTLINEALPHA") == 0 && s->len == 14,
	    "read_file: the first line, without its newline");
	secret_free(s);
	free(path);
	path = put_s("nonl.txt", "NONEWLINE");
	r = secret_read_file(path, &s, &cause);
	ok(r == 0 && strcmp(s->data, "NONEWLINE") == 0, "read_file: a last line without newline");
	secret_free(s);
	free(path);

	path = xasprintf("%s/missing.txt", tmpdir);
	r = secret_read_file(path, &s, &cause);
	ok(r == -1 && s == NULL && cause != NULL && strstr(cause, path) != NULL,
	    "read_file: a missing file is named: %s", cause ? cause : "");
	free(cause);
	free(path);

	big = xmalloc(3000);
	memset(big, 'A', 3000);
	path = put("long.txt", big, 3000, 0600);
	r = secret_read_file(path, &s, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, path) != NULL &&
		strstr(cause, "longer") != NULL,
	    "read_file: a line past 1024 bytes is refused: %s", cause ? cause : "");
	free(cause);
	free(path);
	free(big);

	if (pipe(fds) != 0 || write(fds[1], "PIPEDALPHASTRING\nrest", 21) != 21)
		exit(1);
	close(fds[1]);
	saved = dup(0);
	dup2(fds[0], 0);
	close(fds[0]);
	r = secret_read_file("-", &s, &cause);
	ok(r == 0 && strcmp(s->data, "PIPEDALPHASTRING") == 0, "read_file -: from a pipe on stdin");
	n = read(0, rest, sizeof rest);
	ok(n == 4 && memcmp(rest, "rest", 4) == 0, "... reading nothing past the first line");
	secret_free(s);
	dup2(saved, 0);
	close(saved);
}

/* secret_from_startup_disk(path, "KMSPWD.INI"): the password or NULL. */
static char *
disk(const char *path, char **found, char **cause)
{
	struct secret *s = NULL;
	char *out = NULL;

	*found = NULL;
	*cause = NULL;
	if (secret_from_startup_disk(path, "KMSPWD.INI", &s, found, cause) == 0)
		out = xstrdup(s->data);
	secret_free(s);
	return out;
}

static void
test_startup_disk(void)
{
	char *path, *dir, *pw, *found, *cause;

	path = put_s("disk1/KMSPWD.INI", "[config]\npwd=ABCDEFGHIJKLMN\n");
	pw = disk(path, &found, &cause);
	ok(pw != NULL && strcmp(pw, "ABCDEFGHIJKLMN") == 0 && found != NULL &&
		strcmp(found, path) == 0,
	    "startup disk: the file itself");
	free(pw);
	free(found);
	free(path);

	path = put_s("disk2/kmspwd.ini", "[config]\npwd = ZYXWVUTSRQPONML\n");
	dir = xasprintf("%s/disk2", tmpdir);
	pw = disk(dir, &found, &cause);
	ok(pw != NULL && strcmp(pw, "ZYXWVUTSRQPONML") == 0 && found != NULL &&
		strcmp(found, path) == 0,
	    "startup disk: a folder with a lower-case kmspwd.ini");
	free(pw);
	free(found);
	free(path);
	free(dir);

	path = put_s("disk3/KMSPWD.INI",
	    "\xef\xbb\xbf[Other]\r\npwd=NOTTHISONE\r\n\r\n[ Config ]\r\n; comment\r\n"
	    "Name=x\r\n  PWD  =  QWERTYUIOPASDF  \r\n");
	pw = disk(path, &found, &cause);
	ok(pw != NULL && strcmp(pw, "QWERTYUIOPASDF") == 0,
	    "startup disk: BOM, CRLF, comments, other sections and keys, blanks");
	free(pw);
	free(found);
	free(path);
}

static void
test_startup_disk_errors(void)
{
	char *path, *dir, *pw, *found, *cause, *big;

	path = put_s("disk4/KMSPWD.INI", "[config]\nother=1\n");
	pw = disk(path, &found, &cause);
	ok(pw == NULL && found == NULL && cause != NULL && strstr(cause, path) != NULL &&
		strstr(cause, "no pwd= line") != NULL,
	    "no pwd line: %s", cause ? cause : "");
	free(cause);
	free(path);

	path = put_s("disk5/KMSPWD.INI", "[settings]\npwd=ABCDEFGHIJKLMN\n");
	pw = disk(path, &found, &cause);
	ok(pw == NULL && cause != NULL && strstr(cause, path) != NULL &&
		strstr(cause, "no [config] section") != NULL,
	    "no [config]: %s", cause ? cause : "");
	free(cause);
	free(path);

	path = put_s("disk6/KMSPWD.INI", "[config]\npwd=\n");
	pw = disk(path, &found, &cause);
	ok(pw == NULL && cause != NULL && strstr(cause, ":2:") != NULL,
	    "an empty pwd= names the line: %s", cause ? cause : "");
	free(cause);
	free(path);

	big = xmalloc(70 * 1024);
	memset(big, '\n', 70 * 1024);
	path = put("disk7/KMSPWD.INI", big, 70 * 1024, 0644);
	pw = disk(path, &found, &cause);
	ok(pw == NULL && cause != NULL && strstr(cause, "larger than 64 KiB") != NULL,
	    "a file past 64 KiB is refused: %s", cause ? cause : "");
	free(cause);
	free(path);
	free(big);

	dir = xasprintf("%s/disk8", tmpdir);
	mkdir(dir, 0700);
	pw = disk(dir, &found, &cause);
	ok(pw == NULL && cause != NULL && strstr(cause, dir) != NULL &&
		strstr(cause, "KMSPWD.INI") != NULL,
	    "a folder without the file: %s", cause ? cause : "");
	free(cause);
	free(dir);
}

/* Reading the startup disk blocked: the test fails at once rather than hangs. */
static void
blocked(int sig)
{
	static const char msg[] = "Bail out! reading a hostile startup disk blocked\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof msg - 1) < 0)
		_exit(2);
	_exit(1);
}

static void
hostile_setup_failed(const char *what, const char *path)
{
	diag("%s %s: %s", what, path, strerror(errno));
	exit(1);
}

/* path (a startup disk file or folder) is refused at once as "not a file", naming bad. */
static void
refused(const char *path, const char *bad, const char *what)
{
	char *pw, *found, *cause;

	alarm(10);
	pw = disk(path, &found, &cause);
	alarm(0);
	ok(pw == NULL && found == NULL && cause != NULL && strstr(cause, bad) != NULL &&
		strstr(cause, "not a file") != NULL,
	    "%s is refused without blocking: %s", what, cause ? cause : "(read)");
	free(pw);
	free(found);
	free(cause);
}

/* A FIFO (no writer: an open without O_NONBLOCK would wait forever), a device, a link out. */
static void
test_startup_disk_hostile(void)
{
	char *fifo, *dir, *outside, *link, *target;

	signal(SIGALRM, blocked);
	dir = xasprintf("%s/disk9", tmpdir);
	fifo = xasprintf("%s/KMSPWD.INI", dir);
	mkdir(dir, 0700);
	if (mkfifo(fifo, 0600) != 0)
		hostile_setup_failed("mkfifo", fifo);
	refused(fifo, fifo, "a FIFO named as the startup disk");
	refused(dir, fifo, "a FIFO in the startup disk folder");
	refused("/dev/null", "/dev/null", "a device named as the startup disk");
	free(dir);
	free(fifo);

	outside = put_s("elsewhere/KMSPWD.INI", "[config]\npwd=OUTSIDETHEDISK\n");
	dir = xasprintf("%s/disk10", tmpdir);
	link = xasprintf("%s/KMSPWD.INI", dir);
	target = xasprintf("%s/../elsewhere/KMSPWD.INI", dir);
	mkdir(dir, 0700);
	if (symlink(target, link) != 0)
		hostile_setup_failed("symlink", link);
	refused(link, link, "a symbolic link named as the startup disk");
	refused(dir, link, "a symbolic link out of the startup disk folder");
	free(dir);
	free(link);
	free(target);
	free(outside);

	/* Found by the search on removable media, the same. */
	dir = xasprintf("%s/media2", tmpdir);
	mkdir(dir, 0700);
	fifo = xasprintf("%s/usb/KMSPWD.INI", dir);
	free(put_s("media2/usb/readme.txt", "not the password"));
	if (mkfifo(fifo, 0600) != 0)
		hostile_setup_failed("mkfifo", fifo);
	setenv("KMSRECOVER_MEDIA_ROOTS", dir, 1);
	refused(NULL, fifo, "a FIFO found on removable media");
	unsetenv("KMSRECOVER_MEDIA_ROOTS");
	free(dir);
	free(fifo);
}

static void
test_media_search(void)
{
	char *path, *roots, *pw, *found, *cause;

	path = put_s("media/root/usbstick/KmsPwd.Ini", "[config]\npwd=MEDIAALPHASTRIN\n");
	free(put_s("media/root/other/readme.txt", "nothing"));
	free(put_s("deep/a/b/c/KMSPWD.INI", "[config]\npwd=TOODEEPTOFINDX\n"));
	roots = xasprintf("%s/nonexistent:%s/deep:%s/media", tmpdir, tmpdir, tmpdir);
	setenv("KMSRECOVER_MEDIA_ROOTS", roots, 1);
	pw = disk(NULL, &found, &cause);
	ok(pw != NULL && strcmp(pw, "MEDIAALPHASTRIN") == 0 && found != NULL &&
		strcmp(found, path) == 0,
	    "search: found two levels under a root: %s", found ? found : cause);
	free(pw);
	free(found);
	free(roots);

	roots = xasprintf("%s/deep", tmpdir);
	setenv("KMSRECOVER_MEDIA_ROOTS", roots, 1);
	pw = disk(NULL, &found, &cause);
	ok(pw == NULL && cause != NULL && strstr(cause, "KMSPWD.INI") != NULL &&
		strstr(cause, roots) != NULL,
	    "search: not deeper than two levels: %s", cause ? cause : "");
	free(cause);
	free(roots);
	free(path);
	unsetenv("KMSRECOVER_MEDIA_ROOTS");
}

/* A stand-in verifier: the password on stdin, the tree as $1. */
static const char verifier[] =
    "#!/bin/sh\n"
    "read pw\n"
    "[ -f \"$1/Kmsmdb.edb\" ] || { echo \"no database in $1\"; exit 2; }\n"
    "[ \"$pw\" = ABCDEFGHIJKLMN ] && exit 0\n"
    "echo 'The supplied password is not valid'; exit 1\n";

static void
test_verify(void)
{
	struct profile *p = profile_new();
	struct secret *good = secret_new("ABCDEFGHIJKLMN", 14),
		      *bad = secret_new("WRONGWRONGWRON", 14);
	char *script, *tree, *out, *cause = NULL;
	int r;

	script = put("verify.sh", verifier, strlen(verifier), 0755);
	free(put_s("tree/Kmsmdb.edb", "db"));
	tree = xasprintf("%s/tree", tmpdir);
	p->verify_argv = xdup_argv((char *[]){ script, "%d", NULL });
	p->timeout = 5;

	r = secret_verify(p, good, tree, &out, &cause);
	ok(r == 1 && out == NULL, "verify: the right password unlocks the tree at %%d");
	r = secret_verify(p, bad, tree, &out, &cause);
	ok(r == 0 && out != NULL && strstr(out, "not valid") != NULL,
	    "verify: a wrong one is refused with the verifier's words");
	free(out);
	r = secret_verify(p, good, tmpdir, &out, &cause);
	ok(r == 0 && out != NULL && strstr(out, "no database") != NULL,
	    "verify: %%d is substituted (another tree, no database)");
	free(out);

	xfree_argv(p->verify_argv);
	p->verify_argv = NULL;
	cause = NULL;
	r = secret_verify(p, good, tree, &out, &cause);
	ok(r == -1 && cause != NULL, "verify: no verifier in the profile: -1");
	free(cause);
	cause = NULL;
	p->verify_argv = xdup_argv((char *[]){ "/nonexistent/verifier", "%d", NULL });
	r = secret_verify(p, good, tree, &out, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "/nonexistent/verifier") != NULL,
	    "verify: a verifier that cannot run: -1: %s", cause ? cause : "");
	free(cause);
	cause = NULL;
	xfree_argv(p->verify_argv);
	p->verify_argv = xdup_argv((char *[]){ "sleep", "30", NULL });
	p->timeout = 1;
	r = secret_verify(p, good, tree, &out, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "timed out") != NULL,
	    "verify: a verifier that hangs: -1: %s", cause ? cause : "");
	free(cause);

	free(script);
	free(tree);
	secret_free(good);
	secret_free(bad);
	profile_free(p);
}

static int handoff_writes; /* file hand-offs so far: each is one fault_fail("write") */

static int
handoff(const struct profile *p, const struct secret *s, char **path, char **cause)
{
	if (p->handoff != HANDOFF_STDIN)
		handoff_writes++;
	return secret_handoff_write(p, s, path, cause);
}

static void
test_handoff(void)
{
	struct profile *p = profile_new();
	struct secret *s = secret_new("HANDOFFALPHAXY", 14);
	struct stat st;
	char *path = NULL, *cause = NULL, *text, *store, *target, *link;
	int r;

	p->handoff = HANDOFF_STDIN;
	r = handoff(p, s, &path, &cause);
	ok(r == 0 && path == NULL, "handoff stdin: no file");

	p->handoff = HANDOFF_FILE;
	p->handoff_path = xasprintf("%s/handoff.alpha", tmpdir);
	r = handoff(p, s, &path, &cause);
	text = path ? slurp(path) : NULL;
	ok(r == 0 && path != NULL && strcmp(path, p->handoff_path) == 0 && stat(path, &st) == 0 &&
		(st.st_mode & 07777) == 0600 && text != NULL &&
		strcmp(text, "HANDOFFALPHAXY\n") == 0,
	    "handoff file: 0600, the password and a newline");
	free(text);
	secret_handoff_remove(path);
	ok(path != NULL && access(path, F_OK) == -1 && errno == ENOENT, "handoff file: removed");
	free(path);

	target = put_s("target.txt", "untouched");
	if (symlink(target, p->handoff_path) != 0)
		exit(1);
	r = handoff(p, s, &path, &cause);
	text = slurp(target);
	ok(r == 0 && lstat(p->handoff_path, &st) == 0 && S_ISREG(st.st_mode) &&
		strcmp(text, "untouched") == 0,
	    "handoff file: a symlink in the way is replaced, not followed");
	free(text);
	secret_handoff_remove(path);
	free(path);
	free(target);

	store = xasprintf("%s/credstore", tmpdir);
	setenv("KMSRECOVER_CREDSTORE", store, 1);
	p->handoff = HANDOFF_CREDENTIAL;
	link = xasprintf("%s/MSExchangeKMS.alpha", store);
	r = handoff(p, s, &path, &cause);
	ok(r == 0 && path != NULL && strcmp(path, link) == 0 && stat(store, &st) == 0 &&
		(st.st_mode & 07777) == 0700,
	    "credential: the store is made 0700");
	ok(path != NULL && stat(path, &st) == 0 && (st.st_mode & 07777) == 0400,
	    "credential: <name>.alpha is 0400");
	free(path);
	r = handoff(p, s, &path, &cause);
	text = path ? slurp(path) : NULL;
	ok(r == 0 && text != NULL && strcmp(text, "HANDOFFALPHAXY\n") == 0,
	    "credential: a stale file is replaced");
	free(text);
	secret_handoff_remove(path);
	ok(access(link, F_OK) == -1, "credential: removed");
	free(path);

#ifdef ENABLE_FAULT_INJECTION
	{
		char spec[32];

		snprintf(spec, sizeof spec, "write:%d", handoff_writes + 1);
		setenv("KMSRECOVER_FAULT", spec, 1);
	}
	cause = NULL;
	r = handoff(p, s, &path, &cause);
	ok(r == -1 && path == NULL && cause != NULL && strstr(cause, link) != NULL &&
		access(link, F_OK) == -1,
	    "a failed write leaves no file behind: %s", cause ? cause : "");
	free(cause);
	unsetenv("KMSRECOVER_FAULT");
#endif
	free(link);
	free(store);
	unsetenv("KMSRECOVER_CREDSTORE");
	secret_free(s);
	profile_free(p);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		skip_all("mkdtemp failed");
	test_init();
	test_new();
	test_normalize();
	test_read_file();
	test_startup_disk();
	test_startup_disk_errors();
	test_startup_disk_hostile();
	test_media_search();
	test_verify();
	test_handoff();
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
