/*
 * The benchmark's view into kmsrecover (make bench, tests/bench/run.sh):
 * one backend call, timed, with the frontend a recovery would give it.
 *
 *   driver OUT stage FRONTEND ARCHIVE PARENT NAME   backup_stage into PARENT/NAME
 *   driver OUT validate FRONTEND ARCHIVE [TIMES]    backup_validate (kmsrecover verify),
 *                                                   TIMES in a row (1) with one frontend
 *   driver OUT quarantine KMSDATA NAME              kmsdata_quarantine (step 3)
 *   driver OUT exec PROGRAM [ARG]...                any command, for comparison
 *
 * FRONTEND is none, batch or curses: the progress reports go where the
 * recovery sends them (the batch frontend's lines to /dev/null, the
 * wizard's gauge to the terminal, which run.sh gives under tmux), so the
 * cost of the gauge is the difference between the two. OUT gets one line:
 * "<seconds> <peak RSS in KiB> <files> <bytes read> <CPU seconds> <of which
 * in the kernel>": for exec the command's, from wait4; for a backend call
 * those of the timed call alone (the frontend's start and end left out).
 * The call's cause goes to stderr, and the exit status is 1 when it failed
 * (exec: the command's). Built by run.sh against the build tree's
 * libraries; not installed, not part of make check.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "frontends.h"
#include "kmsdata.h"

struct driver {
	struct frontend *fe;
	FILE *sink;
	struct fe_step step;
	struct fe_view view;
};

static int
driver_progress(void *arg, const struct progress_state *s)
{
	struct driver *d = arg;

	if (d->fe == NULL)
		return 0;
	return d->fe->ops->progress(d->fe, "Reading and checking the backup", s);
}

static double
driver_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The frontend, begun and on step P, as the engine has it while staging. */
static int
driver_frontend(struct driver *d, const char *name)
{
	static const struct batch_answers none = { NULL, NULL, 1 };
	struct fe_step_info info = { "P", 0, "Prerequisites", "The backup is read.", NULL, 0 };
	char *keys[1] = { NULL }, *cause = NULL;
	struct batch_answers answers = none;

	answers.keys = answers.values = keys;
	if (strcmp(name, "none") == 0)
		return 0;
	if (strcmp(name, "batch") == 0) {
		if ((d->sink = fopen("/dev/null", "w")) == NULL)
			return -1;
		d->fe = batch_frontend_new(&answers, d->sink);
	} else if (strcmp(name, "curses") == 0)
		d->fe = curses_frontend_new(&cause);
	if (d->fe == NULL) {
		fprintf(stderr, "driver: no frontend %s: %s\n", name, cause != NULL ? cause : "");
		free(cause);
		return -1;
	}
	d->step.id = "P";
	d->step.title = "Prerequisites";
	d->step.state = FE_STEP_RUNNING;
	d->view.task_title = "Recover the KM Server";
	d->view.service_name = "MSExchangeKMS";
	d->view.manager = "command";
	d->view.kmsdata = "Kmsdata";
	d->view.steps = &d->step;
	d->view.nsteps = 1;
	d->view.current = 0;
	d->view.state_text = "Nothing has been changed yet.";
	if (d->fe->ops->begin != NULL && d->fe->ops->begin(d->fe, &d->view, &cause) != 0) {
		fprintf(stderr, "driver: %s\n", cause != NULL ? cause : "cannot begin");
		free(cause);
		return -1;
	}
	if (d->fe->ops->step != NULL)
		d->fe->ops->step(d->fe, &info);
	return 0;
}

static void
driver_frontend_end(struct driver *d)
{
	if (d->fe != NULL) {
		if (d->fe->ops->end != NULL)
			d->fe->ops->end(d->fe);
		frontend_free(d->fe);
	}
	if (d->sink != NULL)
		fclose(d->sink);
}

static int
driver_backup(struct driver *d, int argc, char **argv, int stage, struct backup_result *res,
    char **cause)
{
	struct backup_options bo = { 0 };
	struct progress progress = { driver_progress, d };
	long times = 1;
	int parent_fd, r;

	if (stage ? argc != 6 : argc != 4 && argc != 5)
		return -2;
	if (argc == 5 && (times = strtol(argv[4], NULL, 10)) < 1)
		return -2;
	bo.source = argv[3];
	if (!stage) {
		for (r = 0; r == 0 && times-- > 0;) {
			backup_result_free(res);
			r = backup_validate(&bo, &progress, res, cause);
		}
		return r;
	}
	if ((parent_fd = open(argv[4], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		perror(argv[4]);
		return -1;
	}
	r = backup_stage(&bo, parent_fd, argv[5], &progress, res, cause);
	close(parent_fd);
	return r;
}

static int
driver_quarantine(int argc, char **argv, char **cause)
{
	struct kmsdata k;
	int r;

	if (argc != 4)
		return -2;
	if (kmsdata_open(&k, argv[2], cause) != 0)
		return -1;
	r = kmsdata_quarantine(&k, argv[3], cause);
	kmsdata_close(&k);
	return r;
}

static double
driver_seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static double
driver_cpu(const struct rusage *ru)
{
	return driver_seconds(&ru->ru_utime) + driver_seconds(&ru->ru_stime);
}

/* Runs argv, as time(1) would; its wall time and peak RSS. */
static int
driver_exec(char **argv, double *elapsed, struct rusage *ru)
{
	double start = driver_now();
	int status;
	pid_t pid;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, ru) != pid)
		return -1;
	*elapsed = driver_now() - start;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* OUT's line; before: the usage before the timed call, or NULL (exec). */
static int
driver_write(const char *path, double elapsed, const struct rusage *ru, const struct rusage *before,
    const struct backup_result *res)
{
	double cpu = driver_cpu(ru), sys = driver_seconds(&ru->ru_stime);
	FILE *out;

	if (before != NULL) {
		cpu -= driver_cpu(before);
		sys -= driver_seconds(&before->ru_stime);
	}
	if ((out = fopen(path, "w")) == NULL) {
		perror(path);
		return -1;
	}
	fprintf(out, "%.4f %ld %llu %llu %.3f %.3f\n", elapsed, ru->ru_maxrss,
	    (unsigned long long)res->files, (unsigned long long)res->bytes_read, cpu, sys);
	return fclose(out);
}

int
main(int argc, char **argv)
{
	struct driver d = { 0 };
	struct backup_result res = { 0 };
	struct rusage ru, before;
	char *cause = NULL;
	double start, elapsed = 0;
	int r = -2;

	setlocale(LC_ALL, "");
	if (argc < 3)
		goto usage;
	argc--;
	argv++;
	if (strcmp(argv[1], "exec") == 0 && argc > 2) {
		if ((r = driver_exec(argv + 2, &elapsed, &ru)) < 0) {
			perror("driver");
			return 1;
		}
		return driver_write(argv[0], elapsed, &ru, NULL, &res) != 0 ? 1 : r;
	}
	if (strcmp(argv[1], "quarantine") == 0) {
		getrusage(RUSAGE_SELF, &before);
		start = driver_now();
		r = driver_quarantine(argc, argv, &cause);
		elapsed = driver_now() - start;
		getrusage(RUSAGE_SELF, &ru);
	} else if (argc >= 3 &&
	    (strcmp(argv[1], "stage") == 0 || strcmp(argv[1], "validate") == 0)) {
		if (driver_frontend(&d, argv[2]) != 0)
			return 1;
		getrusage(RUSAGE_SELF, &before);
		start = driver_now();
		r = driver_backup(&d, argc, argv, strcmp(argv[1], "stage") == 0, &res, &cause);
		elapsed = driver_now() - start;
		getrusage(RUSAGE_SELF, &ru);
		driver_frontend_end(&d);
	}
	if (r == -2)
		goto usage;
	if (r != 0) {
		fprintf(stderr, "driver: %s\n", cause != NULL ? cause : "failed");
		free(cause);
		return 1;
	}
	r = driver_write(argv[0], elapsed, &ru, &before, &res);
	backup_result_free(&res);
	return r != 0;

usage:
	fprintf(stderr,
	    "usage: driver OUT stage none|batch|curses ARCHIVE PARENT NAME\n"
	    "       driver OUT validate none|batch|curses ARCHIVE [TIMES]\n"
	    "       driver OUT quarantine KMSDATA NAME\n"
	    "       driver OUT exec PROGRAM [ARG]...\n");
	return 2;
}
