/*
 * profile.c: the built-in defaults, a file with every key, every kind of
 * error naming the file, the line and the key, and the command-line
 * splitting and %d substitution the service and verifier commands use.
 */
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile.h"
#include "tap.h"
#include "xmalloc.h"

static char tmpdir[] = "/tmp/kmsrecover-test-profile-XXXXXX";

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static char *
write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		diag("cannot write %s", path);
		exit(1);
	}
	return path;
}

/* Loads text as a profile; returns the cause (or NULL on success). */
static char *
load_error(const char *text, char **pathp)
{
	struct profile *p = profile_new();
	char *path = write_file("p.conf", text), *cause = NULL;

	if (profile_load(p, path, &cause) == 0)
		cause = NULL;
	profile_free(p);
	if (pathp != NULL)
		*pathp = path;
	else
		free(path);
	return cause;
}

/* argv starts with a, b, c (those not NULL). */
static int
argv_starts(char **argv, const char *a, const char *b, const char *c)
{
	const char *want[] = { a, b, c, NULL };
	int i;

	for (i = 0; want[i] != NULL; i++) {
		if (argv == NULL || argv[i] == NULL || strcmp(argv[i], want[i]) != 0)
			return 0;
	}
	return 1;
}

/* argv is exactly a, b, c (those not NULL). */
static int
argv_is(char **argv, const char *a, const char *b, const char *c)
{
	int n = a == NULL ? 0 : b == NULL ? 1 : c == NULL ? 2 : 3;

	return argv_starts(argv, a, b, c) && argv[n] == NULL;
}

static void
test_defaults(void)
{
	struct profile *p = profile_new();

	ok(p->path == NULL, "defaults: no path");
	ok(p->manager == SERVICE_MANAGER_SYSTEMD, "defaults: manager systemd");
	ok(strcmp(p->service_name, "MSExchangeKMS") == 0, "defaults: name MSExchangeKMS");
	ok(p->start_argv == NULL && p->stop_argv == NULL && p->status_argv == NULL,
	    "defaults: no commands of its own");
	ok(p->timeout == 60, "defaults: timeout 60");
	ok(strcmp(p->kmsdata_path, "/var/lib/exchsrvr/kmsdata") == 0, "defaults: kmsdata path");
	ok(p->owner == NULL, "defaults: no owner");
	ok(p->handoff == HANDOFF_CREDENTIAL && p->handoff_path == NULL,
	    "defaults: handoff credential (systemd does not pass stdin)");
	ok(p->verify_argv == NULL, "defaults: no verifier");
	ok(strcmp(p->startup_disk_name, "KMSPWD.INI") == 0, "defaults: startup disk KMSPWD.INI");
	ok(p->secret_case == SECRET_CASE_UPPER, "defaults: case upper");
	ok(p->iterations == 10000, "defaults: iterations 10000");
	ok(strcmp(p->state_dir, LOCALSTATEDIR "/lib/kmsrecover") == 0, "defaults: state-dir");
	ok(p->pause_between_steps == 0, "defaults: no pause between steps");
	ok(strcmp(profile_manager_name(SERVICE_MANAGER_SYSV), "sysv") == 0, "manager name sysv");
	profile_free(p);
}

static const char full_profile[] =
    "\xef\xbb\xbf; a profile with every key\n"
    "# hash comments too\n"
    "\n"
    "[service]\n"
    "manager = command\n"
    "  name=KMS2   \n"
    "start = /opt/kms/bin/kms \"start now\" --data /srv/kms ; trailing comment\n"
    "stop = /opt/kms/bin/kms stop # another\n"
    "status = /opt/kms/bin/kms \"a ; b\" status\n"
    "timeout = 120\n"
    "[kmsdata]\n"
    "path = /srv/kms/data\n"
    "owner = 0:0\n"
    "[Secret]\n"
    "handoff = file:/run/kms/alpha\n"
    "verify = kmsim verify --data %d\n"
    "startup-disk = PWD.INI\n"
    "case = exact\n"
    "[backup]\n"
    "iterations = 200000\n"
    "[recovery]\n"
    "state-dir = /srv/kmsrecover\n"
    "pause-between-steps = yes\n";

static void
test_full(void)
{
	struct profile *p = profile_new();
	char *path = write_file("full.conf", full_profile), *cause = NULL;
	int r = profile_load(p, path, &cause);

	ok(r == 0, "full profile loads%s%s", cause ? ": " : "", cause ? cause : "");
	ok(p->path != NULL && strcmp(p->path, path) == 0, "full: path kept");
	ok(p->manager == SERVICE_MANAGER_COMMAND, "full: manager command");
	ok(strcmp(p->service_name, "KMS2") == 0, "full: name trimmed");
	ok(argv_starts(p->start_argv, "/opt/kms/bin/kms", "start now", "--data") &&
		strcmp(p->start_argv[3], "/srv/kms") == 0 && p->start_argv[4] == NULL,
	    "full: start split, quotes group, comment cut");
	ok(argv_is(p->stop_argv, "/opt/kms/bin/kms", "stop", NULL), "full: # comment cut");
	ok(argv_is(p->status_argv, "/opt/kms/bin/kms", "a ; b", "status"),
	    "full: ; inside quotes is not a comment");
	ok(p->timeout == 120, "full: timeout");
	ok(strcmp(p->kmsdata_path, "/srv/kms/data") == 0, "full: kmsdata path");
	ok(p->owner != NULL && strcmp(p->owner, "0:0") == 0 && p->owner_uid == 0 &&
		p->owner_gid == 0,
	    "full: numeric owner");
	ok(p->handoff == HANDOFF_FILE && strcmp(p->handoff_path, "/run/kms/alpha") == 0,
	    "full: handoff file:");
	ok(argv_starts(p->verify_argv, "kmsim", "verify", "--data") &&
		strcmp(p->verify_argv[3], "%d") == 0 && p->verify_argv[4] == NULL,
	    "full: verify (a PATH name is fine)");
	ok(strcmp(p->startup_disk_name, "PWD.INI") == 0, "full: startup-disk");
	ok(p->secret_case == SECRET_CASE_EXACT, "full: case exact");
	ok(p->iterations == 200000, "full: iterations");
	ok(strcmp(p->state_dir, "/srv/kmsrecover") == 0, "full: state-dir");
	ok(p->pause_between_steps == 1, "full: pause-between-steps = yes");
	free(cause);
	free(path);
	profile_free(p);

	p = profile_new();
	path = write_file("cmd.conf",
	    "[service]\nmanager = command\nstart = /bin/true\n"
	    "stop = /bin/true\nstatus = /bin/true\n");
	ok(profile_load(p, path, &cause) == 0 && p->handoff == HANDOFF_STDIN,
	    "manager=command without handoff: the password on the start command's stdin");
	free(path);
	profile_free(p);

	p = profile_new();
	path = write_file("owner.conf",
	    "[kmsdata]\nowner = root:root\n[secret]\nhandoff = credential\n");
	ok(profile_load(p, path, &cause) == 0 && p->owner_uid == 0 && p->owner_gid == 0 &&
		p->handoff == HANDOFF_CREDENTIAL,
	    "owner by name, handoff credential");
	ok(p->manager == SERVICE_MANAGER_SYSTEMD && p->timeout == 60,
	    "keys not in the file keep their defaults");
	free(path);
	profile_free(p);
}

struct error_case {
	const char *text;
	const char *where; /* ":LINE:" */
	const char *key;   /* must appear */
	const char *why;   /* must appear */
};

static const struct error_case error_cases[] = {
	{ "[service]\ntimeout = abc\n", ":2:", "[service] timeout",
	    "expected a whole number of seconds from 1 to 3600, got \"abc\"" },
	{ "[service]\n\ntimeout = 0\n", ":3:", "timeout", "got \"0\"" },
	{ "[service]\ntimeout = 3601\n", ":2:", "timeout", "got \"3601\"" },
	{ "[service]\ntimeout = 60s\n", ":2:", "timeout", "got \"60s\"" },
	{ "[service]\ntimeout = -5\n", ":2:", "timeout", "got \"-5\"" },
	{ "[service]\nmanager = upstart\n", ":2:", "[service] manager", "\"upstart\"" },
	{ "[service]\nmanager = command\nstart = /bin/true\nstatus = /bin/true\n",
	    ":2:", "[service] manager", "stop is missing" },
	{ "[service]\nname = a/b\n", ":2:", "[service] name", "\"a/b\"" },
	{ "[service]\nstart = /bin/echo \"open\n", ":2:", "[service] start", "not closed" },
	{ "[service]\nstart = bin/start.sh\n", ":2:", "[service] start", "\"bin/start.sh\"" },
	{ "[service]\n\nstop = \"\" --now\n", ":3:", "[service] stop", "name is empty" },
	{ "[secret]\nverify = \"\"\n", ":2:", "[secret] verify", "name is empty" },
	{ "[service]\nbogus = 1\n", ":2:", "[service] bogus", "unknown key" },
	{ "[service]\ntimeout = 5\ntimeout = 6\n", ":3:", "[service] timeout", "line 2" },
	{ "[service]\nname =\n", ":2:", "[service] name", "a value is needed" },
	{ "[services]\n", ":1:", "[services]", "unknown section" },
	{ "[service\n", ":1:", "[service", "section" },
	{ "timeout = 5\n", ":1:", "timeout", "before any [section]" },
	{ "[service]\njust words\n", ":2:", "just words", "key = value" },
	{ "[kmsdata]\npath = kmsdata\n", ":2:", "[kmsdata] path", "absolute" },
	{ "[kmsdata]\nowner = nosuchuser-kmsrecover:root\n", ":2:", "[kmsdata] owner",
	    "nosuchuser-kmsrecover" },
	{ "[kmsdata]\nowner = root:nosuchgroup-kmsrecover\n", ":2:", "[kmsdata] owner",
	    "nosuchgroup-kmsrecover" },
	{ "[kmsdata]\nowner = root\n", ":2:", "[kmsdata] owner", "user:group" },
	{ "[secret]\nhandoff = pipe\n", ":2:", "[secret] handoff", "\"pipe\"" },
	{ "[secret]\nhandoff = file:alpha.txt\n", ":2:", "[secret] handoff", "file:alpha.txt" },
	{ "[secret]\ncase = lower\n", ":2:", "[secret] case", "\"lower\"" },
	{ "[secret]\nstartup-disk = a/KMSPWD.INI\n", ":2:", "[secret] startup-disk", "file name" },
	{ "[secret]\nverify = \"\"\"\n", ":2:", "[secret] verify", "not closed" },
	{ "[backup]\niterations = many\n", ":2:", "[backup] iterations", "\"many\"" },
	{ "[recovery]\nstate-dir = var/lib\n", ":2:", "[recovery] state-dir", "absolute" },
	{ "[recovery]\npause-between-steps = true\n", ":2:", "[recovery] pause-between-steps",
	    "expected yes or no" },
};

static void
test_errors(void)
{
	const struct error_case *e;
	char *cause, *path, *where;
	size_t i;

	for (i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		e = &error_cases[i];
		cause = load_error(e->text, &path);
		where = xasprintf("%s%s", path, e->where);
		ok(cause != NULL && strncmp(cause, where, strlen(where)) == 0 &&
			strstr(cause, e->key) != NULL && strstr(cause, e->why) != NULL,
		    "error %zu names %s, %s and \"%s\": %s", i, e->where, e->key, e->why,
		    cause ? cause : "(loaded)");
		free(where);
		free(path);
		free(cause);
	}
}

static void
test_missing(void)
{
	struct profile *p = profile_new();
	char *path = xasprintf("%s/none.conf", tmpdir), *cause = NULL;
	int r;

	r = profile_load(p, path, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, path) != NULL,
	    "a missing profile is an error naming it: %s", cause ? cause : "");
	free(cause);
	cause = NULL;
	r = profile_load(p, tmpdir, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, tmpdir) != NULL,
	    "a folder as profile is an error naming it: %s", cause ? cause : "");
	free(cause);
	free(path);
	profile_free(p);
}

/* Comment lines filling exactly size bytes: a valid profile of that size. */
static char *
padded_profile(size_t size)
{
	char *text = xmalloc(size + 1);
	size_t i;

	memset(text, ';', size);
	for (i = 63; i < size; i += 64)
		text[i] = '\n';
	text[size - 1] = '\n';
	text[size] = '\0';
	return text;
}

static void
test_size(void)
{
	struct profile *p = profile_new();
	char *text, *path, *cause = NULL;
	int r;

	text = padded_profile(256 * 1024);
	path = write_file("big.conf", text);
	r = profile_load(p, path, &cause);
	ok(r == 0, "a profile of exactly 256 KiB loads%s%s", cause ? ": " : "", cause ? cause : "");
	free(cause);
	cause = NULL;
	free(path);
	free(text);

	text = padded_profile(256 * 1024 + 1);
	path = write_file("huge.conf", text);
	r = profile_load(p, path, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, path) != NULL &&
		strstr(cause, "larger than 256 KiB") != NULL,
	    "a profile one byte past 256 KiB is refused, naming it: %s",
	    cause ? cause : "(loaded)");
	free(cause);
	free(path);
	free(text);
	profile_free(p);
}

static void
test_split(void)
{
	char **v = NULL, *cause = NULL;
	int r;

	ok(profile_split_argv("  /bin/prog  a\tb  ", &v, &cause) == 0 &&
		argv_is(v, "/bin/prog", "a", "b"),
	    "split on blanks and tabs");
	xfree_argv(v);
	ok(profile_split_argv("prog \"two words\" x\"y z\"w", &v, &cause) == 0 &&
		argv_is(v, "prog", "two words", "xy zw"),
	    "quotes group, also inside a word");
	xfree_argv(v);
	ok(profile_split_argv("p \"say \\\"hi\\\" \\\\ \\n\"", &v, &cause) == 0 &&
		argv_is(v, "p", "say \"hi\" \\ \\n", NULL),
	    "backslash escapes \" and \\ in quotes only");
	xfree_argv(v);
	ok(profile_split_argv("p \"\" x", &v, &cause) == 0 && argv_is(v, "p", "", "x"),
	    "empty quotes give an empty argument");
	xfree_argv(v);
	r = profile_split_argv("p \"open", &v, &cause);
	ok(r == -1 && v == NULL && cause != NULL && strstr(cause, "not closed") != NULL,
	    "unterminated quote refused: %s", cause ? cause : "");
	free(cause);
	cause = NULL;
	r = profile_split_argv(" \t ", &v, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "empty") != NULL, "empty command refused: %s",
	    cause ? cause : "");
	free(cause);
}

static void
test_substitute(void)
{
	char *in[] = { "/bin/verify", "--data=%d", "%d/%d", "plain", NULL };
	char **out = profile_substitute_argv(in, "%d", "/srv/staged");

	ok(out != NULL && strcmp(out[0], "/bin/verify") == 0 &&
		strcmp(out[1], "--data=/srv/staged") == 0 &&
		strcmp(out[2], "/srv/staged//srv/staged") == 0 && strcmp(out[3], "plain") == 0 &&
		out[4] == NULL,
	    "substitute replaces every %%d in every argument");
	ok(out != NULL && out[3] != in[3], "substitute copies");
	xfree_argv(out);
	ok(profile_substitute_argv(NULL, "%d", "x") == NULL, "substitute of NULL is NULL");
}

/* doc/kmsrecover.conf.example loads and gives the defaults. */
static void
test_example(void)
{
	const char *srcdir = getenv("top_srcdir");
	struct profile *p = profile_new();
	char *path, *cause = NULL;
	int r;

	if (srcdir == NULL) {
		ok(1, "# SKIP top_srcdir is not set (run through make check)");
		profile_free(p);
		return;
	}
	path = xasprintf("%s/doc/kmsrecover.conf.example", srcdir);
	r = profile_load(p, path, &cause);
	ok(r == 0 && p->manager == SERVICE_MANAGER_SYSTEMD && p->timeout == 60,
	    "the example profile loads: %s", cause ? cause : "yes");
	free(cause);
	free(path);
	profile_free(p);
}

static void
test_service_argv(void)
{
	struct profile *p = profile_new();
	char **v;

	v = profile_service_argv(p, PROFILE_START);
	ok(argv_is(v, "systemctl", "start", "MSExchangeKMS"),
	    "systemd start: systemctl start NAME");
	xfree_argv(v);
	v = profile_service_argv(p, PROFILE_STATUS);
	ok(argv_starts(v, "systemctl", "is-active", "--quiet") && v != NULL &&
		strcmp(v[3], "MSExchangeKMS") == 0 && v[4] == NULL,
	    "systemd status: systemctl is-active --quiet NAME");
	xfree_argv(v);
	p->manager = SERVICE_MANAGER_SYSV;
	free(p->service_name);
	p->service_name = xstrdup("kmsrecover-test-no-such-script");
	v = profile_service_argv(p, PROFILE_STOP);
	ok(argv_is(v, "service", "kmsrecover-test-no-such-script", "stop"),
	    "sysv without an init.d script: service NAME stop");
	xfree_argv(v);
	p->status_argv = xdup_argv((char *[]){ "/opt/kms/status", NULL });
	v = profile_service_argv(p, PROFILE_STATUS);
	ok(argv_is(v, "/opt/kms/status", NULL, NULL), "the profile's own command overrides");
	xfree_argv(v);
	p->manager = SERVICE_MANAGER_COMMAND;
	ok(profile_service_argv(p, PROFILE_START) == NULL, "manager=command without start: NULL");
	profile_free(p);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		skip_all("mkdtemp failed");
	test_defaults();
	test_full();
	test_errors();
	test_missing();
	test_size();
	test_split();
	test_substitute();
	test_service_argv();
	test_example();
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
