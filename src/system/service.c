/*
 * The KM Server service (service.h): status, stop and start through the
 * profile's manager, each followed by polling the status command until the
 * state changes or the profile's timeout runs out, and the hand-off of the
 * password to the start (DESIGN.md, "Contracts"). Commands are argvs run by
 * spawn_run(), never a shell.
 *
 * The commands come from profile_service_argv(): the profile's own, or the
 * manager's defaults.
 *
 * service_holders() is the check of step 2 that nothing still has Kmsdata
 * open once the service is down: it reads /proc as lsof would.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "handoff.h"
#include "i18n.h"
#include "secret.h"
#include "service.h"
#include "spawn.h"
#include "xmalloc.h"

/*
 * Between two status calls while waiting: 10 ms at first, doubling up to
 * 200 ms. A state change usually comes soon after the command, and the
 * service is down while we wait: a fixed 200 ms added up to 200 ms to each
 * wait, and as much again to the spread of the downtime.
 */
#define SERVICE_POLL_FIRST_MS 10
#define SERVICE_POLL_MS 200
#define SERVICE_SETTLE_MS 1000 /* running this long after a start counts as started */
#define SERVICE_STATUS_MAX 30  /* seconds one status call may take */

const char *
service_state_name(enum service_state s)
{
	switch (s) {
	case SERVICE_RUNNING:
		return _("running");
	case SERVICE_STOPPED:
		return _("stopped");
	case SERVICE_UNKNOWN:
		break;
	}
	return _("unknown");
}

static void
service_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The wait before the next poll, from the last one (0 before the first). */
static int
service_next_poll(int last)
{
	if (last <= 0)
		return SERVICE_POLL_FIRST_MS;
	return last * 2 < SERVICE_POLL_MS ? last * 2 : SERVICE_POLL_MS;
}

static char **
service_argv_or_cause(const struct profile *p, enum profile_command which, char **cause)
{
	static const char *keys[] = { "start", "stop", "status" };
	char **v;

	if ((v = profile_service_argv(p, which)) == NULL) {
		/* TRANSLATORS: %s is a profile key: start, stop or status. */
		*cause = xasprintf(_("the profile has manager = command but no %s command"),
		    keys[which]);
	}
	return v;
}

int
service_status(const struct profile *p, enum service_state *state, char **output, char **cause)
{
	struct spawn_result res;
	char **argv;
	int timeout = p->timeout < SERVICE_STATUS_MAX ? p->timeout : SERVICE_STATUS_MAX, ret = -1;

	if (output != NULL)
		*output = NULL;
	*state = SERVICE_UNKNOWN;
	if ((argv = service_argv_or_cause(p, PROFILE_STATUS, cause)) == NULL)
		return -1;
	if (spawn_run(argv, NULL, 0, timeout, &res, cause) == -1)
		goto out;
	if (res.timed_out) {
		/* TRANSLATORS: %1$s is the status program, %2$d seconds. */
		*cause = xasprintf(_("the status command %1$s did not answer within %2$d s"),
		    argv[0], timeout);
	} else {
		if (res.exited && res.status == 0)
			*state = SERVICE_RUNNING;
		else if (res.exited && res.status == 3)
			*state = SERVICE_STOPPED;
		if (output != NULL) {
			*output = res.output;
			res.output = NULL;
		}
		ret = 0;
	}
	spawn_result_free(&res);
out:
	xfree_argv(argv);
	return ret;
}

/*
 * Polls the status until it is want or ms have passed (0: one look).
 * Returns 0 when reached, 1 when not (*last: the last state seen), -1.
 */
static int
service_wait_state(const struct profile *p, enum service_state want, long long ms,
    enum service_state *last, char **cause)
{
	long long deadline = fs_monotonic_ns() / 1000000 + ms;
	int poll = 0;

	for (;;) {
		if (service_status(p, last, NULL, cause) == -1)
			return -1;
		if (*last == want)
			return 0;
		if (fs_monotonic_ns() / 1000000 >= deadline)
			return 1;
		poll = service_next_poll(poll);
		service_sleep_ms(poll);
	}
}

static void
service_give_output(struct spawn_result *res, char **output)
{
	if (output != NULL) {
		*output = res->output;
		res->output = NULL;
	}
}

int
service_stop(const struct profile *p, char **output, char **cause)
{
	struct spawn_result res;
	enum service_state last;
	char **argv, *how;
	int ok, r, ret = -1;

	if (output != NULL)
		*output = NULL;
	if ((argv = service_argv_or_cause(p, PROFILE_STOP, cause)) == NULL)
		return -1;
	if (spawn_run(argv, NULL, 0, p->timeout, &res, cause) == -1)
		goto out;
	/* A stop that failed but left the service stopped anyway is a stop. */
	ok = res.exited && res.status == 0 && !res.timed_out;
	r = service_wait_state(p, SERVICE_STOPPED, ok ? (long long)p->timeout * 1000 : 0, &last,
	    cause);
	if (r == 0)
		ret = 0;
	else if (r == 1 && !ok) {
		how = spawn_describe(&res);
		/* TRANSLATORS: %1$s is the stop program, %2$s how it ended, %3$s a state. */
		*cause = xasprintf(_("the stop command %1$s failed (%2$s) and the service is %3$s"),
		    argv[0], how, service_state_name(last));
		free(how);
	} else if (r == 1) {
		/* TRANSLATORS: %1$s is a state ("running"), %2$d seconds. */
		*cause = xasprintf(_("the service is still %1$s %2$d s after it was asked to stop"),
		    service_state_name(last), p->timeout);
	}
	if (ret == -1)
		service_give_output(&res, output);
	spawn_result_free(&res);
out:
	xfree_argv(argv);
	return ret;
}

/*
 * After a start: polls until running, then on for a settle window in
 * which a fall back to stopped means the service gave up (a wrong
 * password, missing database); the last poll of the window falls at its
 * end. 0, or -1 with *cause.
 */
static int
service_wait_started(const struct profile *p, char **cause)
{
	long long deadline = fs_monotonic_ns() / 1000000 + (long long)p->timeout * 1000, seen = 0,
		  now;
	enum service_state st;
	int poll = 0;

	for (;;) {
		if (service_status(p, &st, NULL, cause) == -1)
			return -1;
		now = fs_monotonic_ns() / 1000000;
		if (st == SERVICE_RUNNING && seen == 0)
			seen = now;
		if (seen != 0 && st == SERVICE_STOPPED) {
			*cause = xstrdup(_("the service stopped right after starting"));
			return -1;
		}
		if (seen != 0 && now - seen >= SERVICE_SETTLE_MS)
			return 0;
		if (seen == 0 && now >= deadline) {
			/* TRANSLATORS: %1$d seconds, %2$s a state ("stopped"). */
			*cause = xasprintf(
			    _("the service is not running %1$d s after it was started "
			      "(it is %2$s)"),
			    p->timeout, service_state_name(st));
			return -1;
		}
		poll = service_next_poll(poll);
		if (seen != 0 && seen + SERVICE_SETTLE_MS - now < poll)
			poll = (int)(seen + SERVICE_SETTLE_MS - now);
		service_sleep_ms(poll);
	}
}

/* systemctl does not pass its standard input on to the service. */
static int
service_check_handoff(const struct profile *p, const struct secret *alpha, char **cause)
{
	if (alpha == NULL || p->handoff != HANDOFF_STDIN || p->start_argv != NULL ||
	    p->manager != SERVICE_MANAGER_SYSTEMD)
		return 0;
	*cause = xstrdup(_("with manager = systemd the password cannot be handed over on standard "
			   "input: set handoff = credential in the profile's [secret] section (and "
			   "LoadCredential= in the unit)"));
	return -1;
}

/* Runs the start command, the password on its stdin when the profile says so. */
static int
service_run_start(const struct profile *p, char **argv, const struct secret *alpha,
    struct spawn_result *res, char **cause)
{
	struct secret *line = NULL;
	int r;

	if (alpha != NULL && p->handoff == HANDOFF_STDIN) {
		/* The password and a newline, in secure memory: secret_new copies the
		 * terminating NUL as the last byte, which becomes the newline. */
		line = secret_new(alpha->data, alpha->len + 1);
		line->data[alpha->len] = '\n';
	}
	r = spawn_run(argv, line != NULL ? line->data : NULL, line != NULL ? line->len : 0,
	    p->timeout, res, cause);
	secret_free(line);
	return r;
}

int
service_start(const struct profile *p, const struct secret *alpha, char **output, char **cause)
{
	struct spawn_result res;
	char **argv, *handoff = NULL, *how;
	int ret = -1;

	if (output != NULL)
		*output = NULL;
	if (service_check_handoff(p, alpha, cause) == -1 ||
	    (argv = service_argv_or_cause(p, PROFILE_START, cause)) == NULL)
		return -1;
	if (alpha != NULL && secret_handoff_write(p, alpha, &handoff, cause) == -1)
		goto out;
	if (service_run_start(p, argv, alpha, &res, cause) == -1)
		goto out;
	if (!res.exited || res.status != 0 || res.timed_out) {
		how = spawn_describe(&res);
		/* TRANSLATORS: %1$s is the start program, %2$s how it ended. */
		*cause = xasprintf(_("the start command %1$s failed (%2$s)"), argv[0], how);
		free(how);
	} else if (service_wait_started(p, cause) == 0)
		ret = 0;
	if (ret == -1)
		service_give_output(&res, output);
	spawn_result_free(&res);
out:
	secret_handoff_remove(handoff);
	free(handoff);
	xfree_argv(argv);
	return ret;
}

/* Finding processes that hold files under a folder. */

/* path equal to dir or below it; dir has no trailing slash ("" is /). */
static int
service_under(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return strncmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

static int
service_link_under(const char *link, const char *dir)
{
	char target[PATH_MAX];
	ssize_t n;

	if ((n = readlink(link, target, sizeof target - 1)) <= 0)
		return 0;
	target[n] = '\0';
	return service_under(target, dir);
}

static int
service_fds_under(const char *pid, const char *dir)
{
	struct dirent *e;
	char *fddir, *link;
	DIR *d;
	int found = 0;

	fddir = xasprintf("/proc/%s/fd", pid);
	if ((d = opendir(fddir)) != NULL) {
		while (!found && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			link = xasprintf("%s/%s", fddir, e->d_name);
			found = service_link_under(link, dir);
			free(link);
		}
		closedir(d);
	}
	free(fddir);
	return found;
}

static int
service_maps_under(const char *pid, const char *dir)
{
	char *path, *line = NULL, *file;
	size_t cap = 0, len;
	FILE *f;
	int found = 0;

	path = xasprintf("/proc/%s/maps", pid);
	if ((f = fopen(path, "re")) != NULL) {
		while (!found && getline(&line, &cap, f) != -1) {
			if ((file = strchr(line, '/')) == NULL)
				continue;
			len = strlen(file);
			if (len > 0 && file[len - 1] == '\n')
				file[len - 1] = '\0';
			found = service_under(file, dir);
		}
		fclose(f);
	}
	free(line);
	free(path);
	return found;
}

static int
service_pid_holds(const char *pid, const char *dir)
{
	char *cwd = xasprintf("/proc/%s/cwd", pid);
	int found;

	found = service_link_under(cwd, dir) || service_fds_under(pid, dir) ||
	    service_maps_under(pid, dir);
	free(cwd);
	return found;
}

/* "PID (comm)". */
static char *
service_pid_name(const char *pid)
{
	char *path = xasprintf("/proc/%s/comm", pid), comm[64] = "?";
	size_t len;
	FILE *f;

	if ((f = fopen(path, "re")) != NULL) {
		if (fgets(comm, sizeof comm, f) == NULL)
			comm[0] = '?', comm[1] = '\0';
		fclose(f);
	}
	free(path);
	len = strlen(comm);
	if (len > 0 && comm[len - 1] == '\n')
		comm[len - 1] = '\0';
	return xasprintf("%s (%s)", pid, comm);
}

static int
service_is_pid(const char *name)
{
	for (; *name != '\0'; name++) {
		if (!isdigit((unsigned char)*name))
			return 0;
	}
	return 1;
}

/* dir as /proc shows paths: resolved when it can be, without a trailing slash. */
static char *
service_canonical(const char *dir)
{
	char *real = realpath(dir, NULL), *d;
	size_t len;

	d = xstrdup(real != NULL ? real : dir);
	free(real);
	len = strlen(d);
	while (len > 0 && d[len - 1] == '/')
		d[--len] = '\0';
	return d;
}

int
service_holders(const char *dir, char **first, char **cause)
{
	struct dirent *e;
	char *d, self[32];
	DIR *proc;
	int count = 0;

	*first = NULL;
	if ((size_t)snprintf(self, sizeof self, "%ld", (long)getpid()) >= sizeof self)
		abort();
	if ((proc = opendir("/proc")) == NULL) {
		*cause = xasprintf(_("cannot read %1$s: %2$s"), "/proc", strerror(errno));
		return -1;
	}
	d = service_canonical(dir);
	while ((e = readdir(proc)) != NULL) {
		if (!service_is_pid(e->d_name) || strcmp(e->d_name, self) == 0)
			continue;
		if (!service_pid_holds(e->d_name, d))
			continue;
		if (count++ == 0)
			*first = service_pid_name(e->d_name);
	}
	closedir(proc);
	free(d);
	return count;
}
