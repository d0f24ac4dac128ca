/*
 * spawn.c: exit codes, stdout and stderr captured together, input on
 * stdin, the timeout (SIGTERM, then SIGKILL), a program that cannot be
 * run, a child that leaves a grandchild holding the pipe, the 64 KiB tail.
 * The children here are small sh -c scripts: the tests may use a shell,
 * the program never does.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"
#include "tap.h"
#include "xmalloc.h"

static int spawn_calls; /* for KMSRECOVER_FAULT=spawn:N */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs sh -c script; 0 or -1 as spawn_run. */
static int
run_sh(const char *script, const char *input, int timeout, struct spawn_result *res, char **cause)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };

	spawn_calls++;
	*cause = NULL;
	return spawn_run(argv, input, input != NULL ? strlen(input) : 0, timeout, res, cause);
}

static void
test_exit_codes(void)
{
	struct spawn_result res;
	char *cause, *how;
	char *t[] = { "true", NULL };
	int r;

	spawn_calls++;
	r = spawn_run(t, NULL, 0, 10, &res, &cause);
	ok(r == 0 && res.exited && res.status == 0 && !res.signaled && !res.timed_out &&
		res.output_len == 0 && res.output[0] == '\0',
	    "true (found in PATH): exit 0, no output");
	spawn_result_free(&res);
	r = run_sh("exit 3", NULL, 10, &res, &cause);
	ok(r == 0 && res.exited && res.status == 3, "exit 3 is reported");
	how = spawn_describe(&res);
	ok(strcmp(how, "exit status 3") == 0, "described: %s", how);
	free(how);
	spawn_result_free(&res);
	r = run_sh("kill -9 $$", NULL, 10, &res, &cause);
	ok(r == 0 && res.signaled && res.status == 9 && !res.exited,
	    "killed by a signal is reported");
	how = spawn_describe(&res);
	ok(strncmp(how, "killed by signal 9", 18) == 0, "described: %s", how);
	free(how);
	spawn_result_free(&res);
}

static void
test_output(void)
{
	struct spawn_result res;
	char *cause;
	int r;

	r = run_sh("echo out; echo err >&2; echo out2", NULL, 10, &res, &cause);
	ok(r == 0 && strcmp(res.output, "out\nerr\nout2\n") == 0 && res.output_len == 13,
	    "stdout and stderr captured together, in order");
	spawn_result_free(&res);
	r = run_sh("seq 1 100000; echo END", NULL, 30, &res, &cause);
	ok(r == 0 && res.output_len == 64 * 1024 && strlen(res.output) == res.output_len &&
		strcmp(res.output + res.output_len - 11, "100000\nEND\n") == 0,
	    "only the last 64 KiB kept (%zu bytes)", res.output_len);
	spawn_result_free(&res);
	setenv("KMSRECOVER_TEST_ENV", "passed-on", 1);
	r = run_sh("echo \"$KMSRECOVER_TEST_ENV\"", NULL, 10, &res, &cause);
	ok(r == 0 && strcmp(res.output, "passed-on\n") == 0,
	    "the environment is passed on unchanged");
	spawn_result_free(&res);
}

static void
test_input(void)
{
	struct spawn_result res;
	char *cause, *big;
	struct sigaction sa;
	int r;

	r = run_sh("read x; echo \"got $x\"", "ALPHA\n", 10, &res, &cause);
	ok(r == 0 && res.exited && res.status == 0 && strcmp(res.output, "got ALPHA\n") == 0,
	    "input is received on stdin");
	spawn_result_free(&res);
	r = run_sh("cat; echo rc=$?", NULL, 10, &res, &cause);
	ok(r == 0 && strcmp(res.output, "rc=0\n") == 0,
	    "no input: stdin is /dev/null (EOF at once)");
	spawn_result_free(&res);
	r = run_sh("cat >/dev/null; echo done", "a\nb\n", 10, &res, &cause);
	ok(r == 0 && strcmp(res.output, "done\n") == 0, "stdin is closed after the input");
	spawn_result_free(&res);

	/* 1 MiB nobody reads: no SIGPIPE for us, no hang. */
	big = xmalloc(1024 * 1024 + 1);
	memset(big, 'x', 1024 * 1024);
	big[1024 * 1024] = '\0';
	r = run_sh("echo ignored", big, 10, &res, &cause);
	ok(r == 0 && res.exited && res.status == 0 && strcmp(res.output, "ignored\n") == 0,
	    "input the child never reads: no SIGPIPE, no hang");
	spawn_result_free(&res);
	r = run_sh("wc -c", big, 10, &res, &cause);
	ok(r == 0 && strtol(res.output, NULL, 10) == 1024 * 1024,
	    "1 MiB of input is delivered whole");
	spawn_result_free(&res);
	free(big);
	sigaction(SIGPIPE, NULL, &sa);
	ok(sa.sa_handler == SIG_DFL, "SIGPIPE's disposition is restored");
}

static void
test_timeout(void)
{
	struct spawn_result res;
	char *cause, *how;
	char *argv[] = { "sleep", "30", NULL };
	double t0 = now_s(), dt;
	int r;

	spawn_calls++;
	r = spawn_run(argv, NULL, 0, 1, &res, &cause);
	dt = now_s() - t0;
	ok(r == 0 && res.timed_out && res.signaled && res.status == SIGTERM,
	    "sleep 30 with timeout 1: timed out, killed by SIGTERM");
	ok(dt >= 0.9 && dt < 3, "... after about 1 s (%.2f s)", dt);
	how = spawn_describe(&res);
	ok(strcmp(how, "timed out after 1 s") == 0, "described: %s", how);
	free(how);
	spawn_result_free(&res);

	t0 = now_s();
	r = run_sh("trap '' TERM; echo stubborn; sleep 30", NULL, 1, &res, &cause);
	dt = now_s() - t0;
	ok(r == 0 && res.timed_out && res.signaled && res.status == SIGKILL &&
		strcmp(res.output, "stubborn\n") == 0,
	    "a child ignoring SIGTERM gets SIGKILL");
	ok(dt >= 2.9 && dt < 6, "... 2 s after the SIGTERM (%.2f s)", dt);
	spawn_result_free(&res);
}

static void
test_exec_failure(void)
{
	struct spawn_result res;
	char *cause = NULL;
	char *missing[] = { "/nonexistent/kmsrecover-prog", NULL };
	char *notinpath[] = { "kmsrecover-no-such-program", "x", NULL };
	int r;

	spawn_calls++;
	r = spawn_run(missing, NULL, 0, 10, &res, &cause);
	ok(r == -1 && cause != NULL &&
		strstr(cause, "could not run /nonexistent/kmsrecover-prog: ") != NULL &&
		strstr(cause, "No such file") != NULL,
	    "exec failure: %s", cause ? cause : "");
	ok(res.output == NULL, "no result to free after a failure");
	free(cause);
	cause = NULL;
	spawn_calls++;
	r = spawn_run(notinpath, NULL, 0, 10, &res, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "kmsrecover-no-such-program") != NULL,
	    "a name not in PATH: %s", cause ? cause : "");
	free(cause);
	r = run_sh("exit 127", NULL, 10, &res, &cause);
	ok(r == 0 && res.exited && res.status == 127,
	    "a program that exits 127 is not taken for an exec failure");
	spawn_result_free(&res);
}

static void
test_detached(void)
{
	struct spawn_result res;
	char *cause;
	double t0 = now_s(), dt;
	int r;

	r = run_sh("sleep 5 & echo hi", NULL, 30, &res, &cause);
	dt = now_s() - t0;
	ok(r == 0 && res.exited && res.status == 0 && strcmp(res.output, "hi\n") == 0,
	    "a child leaving a grandchild on the pipe: its output is kept");
	ok(dt < 2, "... and spawn_run returns when the child exits (%.2f s)", dt);
	spawn_result_free(&res);
}

static void
test_isolation(void)
{
	struct spawn_result res;
	char *cause;
	int r;

	/* Only fds 0, 1 and 2 lead to the two pipes: no other end leaked in. */
	r = run_sh("o=$(readlink /proc/$$/fd/1); i=$(readlink /proc/$$/fd/0); n=0; m=0; "
		   "for f in /proc/$$/fd/*; do t=$(readlink $f); "
		   "[ \"$t\" = \"$o\" ] && n=$((n+1)); [ \"$t\" = \"$i\" ] && m=$((m+1)); done; "
		   "echo $n $m",
	    "x\n", 10, &res, &cause);
	ok(r == 0 && strcmp(res.output, "2 1\n") == 0,
	    "no pipe end leaks into the child (close-on-exec)");
	spawn_result_free(&res);
	r = run_sh("read a b c d pgrp rest </proc/$$/stat; test \"$pgrp\" = \"$$\"", NULL, 10, &res,
	    &cause);
	ok(r == 0 && res.exited && res.status == 0, "the child leads its own process group");
	spawn_result_free(&res);
}

static void
test_fault(void)
{
#ifdef ENABLE_FAULT_INJECTION
	struct spawn_result res;
	char *cause = NULL, spec[32];
	int r;

	snprintf(spec, sizeof spec, "spawn:%d", spawn_calls + 1);
	setenv("KMSRECOVER_FAULT", spec, 1);
	r = run_sh("exit 0", NULL, 10, &res, &cause);
	ok(r == -1 && cause != NULL && strstr(cause, "could not run sh") != NULL,
	    "an injected spawn fault fails cleanly: %s", cause ? cause : "");
	free(cause);
	unsetenv("KMSRECOVER_FAULT");
#endif
}

int
main(void)
{
	if (access("/proc/self/fd", R_OK) != 0)
		skip_all("no /proc");
	diag("children are sh -c scripts; a failure shows what they printed");
	test_exit_codes();
	test_output();
	test_input();
	test_timeout();
	test_exec_failure();
	test_detached();
	test_isolation();
	test_fault();
	return done_testing();
}
