/*
 * service.c against small script services written here (manager=command):
 * status, stop and start with their waits and timeouts, the password
 * handed over on stdin and in a file, a service that will not stop, one
 * that dies right after starting, a status command that hangs; the
 * systemd and sysv default commands through stand-ins put first in PATH;
 * service_holders finding processes with files under a folder; and, when
 * the sandbox's kmsim is built, a real start and stop of it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "profile.h"
#include "secret.h"
#include "service.h"
#include "spawn.h"
#include "tap.h"
#include "xmalloc.h"

static char tmpdir[] = "/tmp/kmsrecover-test-service-XXXXXX";

#define ALPHA "ABCDEFGHIJKLMN"

/* The script services: "up" marks running; sleep stands in for the daemon. */
static const char good_start[] =
    "sleep 300 &\necho $! >\"$D/pid\"\ntouch \"$D/up\"\necho started\n";
static const char good_stop[] = "kill $(cat \"$D/pid\") || exit 1\nrm -f \"$D/up\" \"$D/pid\"\n";
static const char up_status[] = "[ -f \"$D/up\" ] && exit 0\nexit 3\n";
static const char stdin_start[] =
    "read pw\n"
    "if [ \"$pw\" = " ALPHA " ]; then echo match >\"$D/record\"; touch \"$D/up\"; exit 0; fi\n"
    "echo mismatch >\"$D/record\"\necho 'The supplied password is not valid' >&2\nexit 1\n";
static const char file_start[] =
    "if [ \"$(cat \"$D/alpha\")\" = " ALPHA " ]; then echo present >\"$D/record\"; fi\n"
    "ls -l \"$D/alpha\" | cut -c1-10 >>\"$D/record\"\ntouch \"$D/up\"\n";
static const char dies_start[] = "(touch \"$D/up\"; sleep 0.4; rm -f \"$D/up\") &\n";

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
path_in(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0 || chmod(path, mode) != 0) {
		diag("cannot write %s: %s", path, strerror(errno));
		exit(1);
	}
}

static char *
read_file(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return xstrdup("");
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	return xstrndup(buf, n);
}

/* dir/name.sh: a /bin/sh script with $D set to its folder. */
static char **
script(const char *dir, const char *name, const char *body)
{
	char *path = xasprintf("%s/%s.sh", dir, name), *text;
	char **argv = xcalloc(2, sizeof *argv);

	text = xasprintf("#!/bin/sh\nD='%s'\n%s", dir, body);
	write_file(path, text, 0755);
	free(text);
	argv[0] = path;
	return argv;
}

/* A service in tmpdir/name run by the three scripts. */
static struct profile *
service(const char *name, const char *start, const char *stop, const char *status, int timeout)
{
	struct profile *p = profile_new();
	char *dir = path_in(tmpdir, name);

	if (mkdir(dir, 0700) != 0)
		exit(1);
	p->manager = SERVICE_MANAGER_COMMAND;
	p->handoff = HANDOFF_STDIN; /* what profile_load gives manager=command */
	p->start_argv = script(dir, "start", start);
	p->stop_argv = script(dir, "stop", stop);
	p->status_argv = script(dir, "status", status);
	p->timeout = timeout;
	free(dir);
	return p;
}

static void
test_good(void)
{
	struct profile *p = service("good", good_start, good_stop, up_status, 5);
	enum service_state st;
	char *out = NULL, *cause = NULL;
	double t0;
	int r;

	ok(strcmp(service_state_name(SERVICE_RUNNING), "running") == 0 &&
		strcmp(service_state_name(SERVICE_STOPPED), "stopped") == 0 &&
		strcmp(service_state_name(SERVICE_UNKNOWN), "unknown") == 0,
	    "state names");
	r = service_status(p, &st, &out, &cause);
	ok(r == 0 && st == SERVICE_STOPPED, "status: stopped (exit 3)");
	free(out);
	t0 = now_s();
	r = service_start(p, NULL, &out, &cause);
	ok(r == 0 && out == NULL,
	    "start: running (the daemon left on the pipe does not hold it up)");
	ok(now_s() - t0 < 3, "... in %.2f s (the settle second included)", now_s() - t0);
	r = service_status(p, &st, &out, &cause);
	ok(r == 0 && st == SERVICE_RUNNING, "status: running (exit 0)");
	free(out);
	r = service_stop(p, &out, &cause);
	ok(r == 0 && out == NULL, "stop: stopped");
	r = service_status(p, &st, NULL, &cause);
	ok(r == 0 && st == SERVICE_STOPPED, "status: stopped again");
	r = service_stop(p, &out, &cause);
	ok(r == 0, "stop of a stopped service: success although the stop command failed");
	profile_free(p);
}

static void
test_stdin_handoff(void)
{
	struct profile *p = service("stdin", stdin_start, "rm -f \"$D/up\"\n", up_status, 5);
	struct secret *good = secret_new(ALPHA, strlen(ALPHA)), *bad = secret_new("WRONG", 5);
	char *out = NULL, *cause = NULL, *record = path_in(tmpdir, "stdin/record"), *text;
	int r;

	r = service_start(p, good, &out, &cause);
	text = read_file(record);
	ok(r == 0 && strcmp(text, "match\n") == 0, "stdin hand-off: the service read the password");
	free(text);
	service_stop(p, &out, &cause);
	r = service_start(p, bad, &out, &cause);
	text = read_file(record);
	ok(r == -1 && strcmp(text, "mismatch\n") == 0 && cause != NULL &&
		strstr(cause, "start command") != NULL && strstr(cause, "exit status 1") != NULL,
	    "a refused password: -1: %s", cause ? cause : "");
	ok(out != NULL && strstr(out, "The supplied password is not valid") != NULL,
	    "... with the service's own words");
	ok(cause != NULL && strstr(cause, "WRONG") == NULL, "... and without the password");
	free(text);
	free(out);
	free(cause);
	free(record);
	secret_free(good);
	secret_free(bad);
	profile_free(p);
}

static void
test_file_handoff(void)
{
	struct profile *p = service("file", file_start, "rm -f \"$D/up\"\n", up_status, 5);
	struct secret *alpha = secret_new(ALPHA, strlen(ALPHA));
	char *out = NULL, *cause = NULL, *record = path_in(tmpdir, "file/record"), *text;
	int r;

	p->handoff = HANDOFF_FILE;
	p->handoff_path = path_in(tmpdir, "file/alpha");
	r = service_start(p, alpha, &out, &cause);
	text = read_file(record);
	ok(r == 0 && strcmp(text, "present\n-rw-------\n") == 0,
	    "file hand-off: the 0600 file is there during the start");
	ok(access(p->handoff_path, F_OK) == -1, "... and gone after it");
	free(text);
	service_stop(p, &out, &cause);

	/* A start that fails removes it too. */
	xfree_argv(p->start_argv);
	p->start_argv = script(tmpdir, "file/start-fails", "echo no; exit 1\n");
	r = service_start(p, alpha, &out, &cause);
	ok(r == -1 && access(p->handoff_path, F_OK) == -1, "... also when the start fails");
	free(out);
	free(cause);
	free(record);
	secret_free(alpha);
	profile_free(p);
}

static void
test_failures(void)
{
	struct profile *p;
	enum service_state st;
	char *out = NULL, *cause = NULL;
	double t0, dt;
	int r;

	p = service("hangs", good_start, good_stop, "sleep 30\n", 1);
	t0 = now_s();
	r = service_status(p, &st, &out, &cause);
	dt = now_s() - t0;
	ok(r == -1 && cause != NULL && strstr(cause, "did not answer within 1 s") != NULL,
	    "a status command that hangs: %s", cause ? cause : "");
	ok(dt < 3, "... is killed by the timeout (%.2f s)", dt);
	free(cause);
	cause = NULL;
	r = service_stop(p, &out, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "did not answer") != NULL,
	    "stop reports the hanging status");
	free(cause);
	free(out);
	service_start(p, NULL, &out, &cause); /* leaves its sleep behind; stopped below */
	free(out);
	free(cause);
	xfree_argv(p->status_argv);
	p->status_argv = script(tmpdir, "hangs/status2", up_status);
	service_stop(p, &out, &cause);
	profile_free(p);
}

static void
test_stubborn(void)
{
	struct profile *p;
	char *out = NULL, *cause = NULL;
	double t0, dt;
	int r;

	p = service("stubborn", "touch \"$D/up\"\n", "echo 'stopping, sort of'\n", up_status, 1);
	service_start(p, NULL, &out, &cause);
	cause = NULL;
	t0 = now_s();
	r = service_stop(p, &out, &cause);
	dt = now_s() - t0;
	ok(r == -1 && cause != NULL && strstr(cause, "still running 1 s after") != NULL,
	    "a service that will not stop: %s", cause ? cause : "");
	ok(out != NULL && strcmp(out, "stopping, sort of\n") == 0 && dt < 3,
	    "... with the stop command's output, after the timeout (%.2f s)", dt);
	free(out);
	free(cause);
	cause = NULL;
	xfree_argv(p->stop_argv);
	p->stop_argv = script(tmpdir, "stubborn/stop2", "echo 'access denied' >&2; exit 4\n");
	t0 = now_s();
	r = service_stop(p, &out, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "exit status 4") != NULL &&
		strstr(cause, "running") != NULL && out != NULL &&
		strstr(out, "access denied") != NULL && now_s() - t0 < 1,
	    "a stop command that fails, service running: at once: %s", cause ? cause : "");
	free(out);
	free(cause);
	profile_free(p);
}

static void
test_bad_starts(void)
{
	struct profile *p;
	char *out = NULL, *cause = NULL;
	int r;

	p = service("dies", dies_start, "rm -f \"$D/up\"\n", up_status, 5);
	cause = NULL;
	r = service_start(p, NULL, &out, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "stopped right after starting") != NULL,
	    "a service that dies right after starting: %s", cause ? cause : "");
	free(out);
	free(cause);
	profile_free(p);

	p = service("never", "echo 'started, or so I say'\n", "true\n", up_status, 1);
	cause = NULL;
	r = service_start(p, NULL, &out, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "not running 1 s after") != NULL &&
		out != NULL && strstr(out, "or so I say") != NULL,
	    "a service not running by the timeout: %s", cause ? cause : "");
	free(out);
	free(cause);
	profile_free(p);
}

static void
test_profile_problems(void)
{
	struct profile *p = profile_new();
	struct secret *alpha = secret_new(ALPHA, strlen(ALPHA));
	enum service_state st;
	char *out = NULL, *cause = NULL;
	int r;

	p->handoff = HANDOFF_STDIN;
	r = service_start(p, alpha, &out, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "handoff = credential") != NULL,
	    "systemd with the stdin hand-off is refused before anything runs");
	free(cause);
	cause = NULL;
	p->manager = SERVICE_MANAGER_COMMAND;
	r = service_status(p, &st, &out, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "no status command") != NULL,
	    "manager=command without commands: %s", cause ? cause : "");
	free(cause);
	secret_free(alpha);
	profile_free(p);
}

/* systemctl and service stand-ins first in PATH, recording their argv. */
static void
test_default_commands(void)
{
	struct profile *p = profile_new();
	char *bin = path_in(tmpdir, "bin"), *log = path_in(tmpdir, "bin/log"), *path, *body, *text;
	char *cause = NULL, *out = NULL, *tool;
	enum service_state st;
	int r;

	mkdir(bin, 0700);
	body = xasprintf("#!/bin/sh\necho \"$(basename $0) $*\" >>'%s'\n"
			 "case \"$*\" in *is-active*|*status*) exit 3;; esac\nexit 0\n",
	    log);
	tool = path_in(bin, "systemctl");
	write_file(tool, body, 0755);
	free(tool);
	tool = path_in(bin, "service");
	write_file(tool, body, 0755);
	free(tool);
	free(body);
	path = xasprintf("%s:%s", bin, getenv("PATH"));
	setenv("PATH", path, 1);
	free(path);

	free(p->service_name);
	p->service_name = xstrdup("KMSRecoverTestNoSuchUnit");
	r = service_status(p, &st, NULL, &cause);
	r |= service_stop(p, &out, &cause);
	p->manager = SERVICE_MANAGER_SYSV;
	r |= service_status(p, &st, NULL, &cause);
	r |= service_stop(p, &out, &cause);
	text = read_file(log);
	if (!ok(r == 0 &&
		    strcmp(text,
			"systemctl is-active --quiet KMSRecoverTestNoSuchUnit\n"
			"systemctl stop KMSRecoverTestNoSuchUnit\n"
			"systemctl is-active --quiet KMSRecoverTestNoSuchUnit\n"
			"service KMSRecoverTestNoSuchUnit status\n"
			"service KMSRecoverTestNoSuchUnit stop\n"
			"service KMSRecoverTestNoSuchUnit status\n") == 0,
		"the systemd and sysv default commands"))
		diag("r %d, log: %s", r, text);
	free(text);
	free(bin);
	free(log);
	profile_free(p);
}

/* A child that holds something under dir (how: 0 an open file, 1 its cwd, 2 a mapping). */
static pid_t
holder(const char *dir, int how)
{
	char *file = path_in(dir, "Kmsmdb.edb"), c = 0;
	int ready[2], fd;
	pid_t pid;

	if (pipe(ready) != 0 || (pid = fork()) == -1)
		exit(1);
	if (pid == 0) {
		fd = open(file, O_RDONLY);
		if (how == 1 && chdir(dir) != 0)
			_exit(1);
		if (how == 2 && mmap(NULL, 2, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
			_exit(1);
		if (how != 0)
			close(fd);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1)
		exit(1);
	close(ready[0]);
	free(file);
	return pid;
}

static void
stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void
test_holders(void)
{
	char *dir = path_in(tmpdir, "kmsdata"), *file = path_in(dir, "Kmsmdb.edb"), *first = NULL;
	char *cause = NULL, *slash = xasprintf("%s/", dir), *want;
	pid_t a, b, c;
	int fd, n;

	mkdir(dir, 0700);
	write_file(file, "db", 0600);
	fd = open(file, O_RDONLY);
	n = service_holders(dir, &first, &cause);
	ok(n == 0 && first == NULL, "holders: our own open file does not count");
	a = holder(dir, 0);
	n = service_holders(slash, &first, &cause);
	want = xasprintf("%ld (test-service)", (long)a);
	ok(n == 1 && first != NULL && strcmp(first, want) == 0,
	    "holders: a child with a file open: %s", first ? first : "none");
	free(first);
	free(want);
	b = holder(dir, 1);
	c = holder(dir, 2);
	n = service_holders(dir, &first, &cause);
	ok(n == 3, "holders: an open file, a working directory and a mapping (%d)", n);
	free(first);
	stop_child(a);
	stop_child(b);
	stop_child(c);
	n = service_holders(dir, &first, &cause);
	ok(n == 0 && first == NULL, "holders: none once they are gone");
	close(fd);
	free(slash);
	free(file);
	free(dir);
}

/* Runs kmsim; its output (the alpha string for init) or NULL. */
static char *
kmsim(char **argv, const char *input)
{
	struct spawn_result res;
	char *cause = NULL, *out = NULL;

	if (spawn_run(argv, input, input ? strlen(input) : 0, 30, &res, &cause) == 0 &&
	    res.exited && res.status == 0)
		out = xstrdup(res.output);
	spawn_result_free(&res);
	free(cause);
	return out;
}

static void
test_kmsim(void)
{
	const char *prog = getenv("KMSIM");
	struct profile *p = profile_new();
	struct secret *alpha, *wrong = secret_new("ZZZZZZZZZZZZZZ", 14);
	char *data = path_in(tmpdir, "kmsim-data"), *run = path_in(tmpdir, "kmsim-run");
	char *out = NULL, *cause = NULL, *pw;
	enum service_state st;
	int r;

	p->handoff = HANDOFF_STDIN;
	if (prog == NULL || access(prog, X_OK) != 0) {
		ok(1, "# SKIP kmsim is not built");
		goto out;
	}
	if ((pw = kmsim((char *[]){ (char *)prog, "init", "--data", data, "--records", "5", NULL },
		 NULL)) == NULL ||
	    strlen(pw) < 15) {
		ok(0, "kmsim init");
		free(pw);
		goto out;
	}
	alpha = secret_new(pw, 14);
	free(pw);
	p->manager = SERVICE_MANAGER_COMMAND;
	p->start_argv = xdup_argv(
	    (char *[]){ (char *)prog, "start", "--data", data, "--run", run, NULL });
	p->stop_argv = xdup_argv((char *[]){ (char *)prog, "stop", "--run", run, NULL });
	p->status_argv = xdup_argv((char *[]){ (char *)prog, "status", "--run", run, NULL });
	p->timeout = 10;
	r = service_start(p, wrong, &out, &cause);
	ok(r == -1 && out != NULL, "kmsim: a wrong alpha string is refused: %s",
	    cause ? cause : "");
	free(out);
	free(cause);
	cause = NULL;
	r = service_start(p, alpha, &out, &cause);
	ok(r == 0, "kmsim: started with its alpha string on stdin%s%s", cause ? ": " : "",
	    cause ? cause : "");
	r = service_status(p, &st, NULL, &cause);
	ok(r == 0 && st == SERVICE_RUNNING, "kmsim: running");
	r = service_stop(p, &out, &cause);
	ok(r == 0 && service_status(p, &st, NULL, &cause) == 0 && st == SERVICE_STOPPED,
	    "kmsim: stopped");
	secret_free(alpha);
out:
	secret_free(wrong);
	free(data);
	free(run);
	profile_free(p);
}

int
main(void)
{
	char *warning = NULL;

	if (access("/proc/self/fd", R_OK) != 0 || mkdtemp(tmpdir) == NULL)
		skip_all("no /proc, or no temporary folder");
	if (secret_init_process(&warning) != 0)
		diag("%s", warning);
	free(warning);
	test_good();
	test_stdin_handoff();
	test_file_handoff();
	test_failures();
	test_stubborn();
	test_bad_starts();
	test_profile_problems();
	test_default_commands();
	test_holders();
	test_kmsim();
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return done_testing();
}
