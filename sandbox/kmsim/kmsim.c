/*
 * kmsim: the stand-in Exchange Key Management Server of the sandbox
 * (DESIGN.md, "Layers"), so a whole recovery runs for real without root.
 * init makes a Kmsdata folder under a new alpha string (as a reinstall
 * does); start unlocks it with the alpha string from stdin or a startup
 * disk and detaches a daemon that holds Kmsmdb.edb open and answers key
 * queries on a Unix socket in its run folder; stop, status (LSB exit
 * codes), query and check (the profile's verifier) complete the service.
 * The database itself is kmsim-db.c. Its messages are English only: it
 * stands in for a third-party service whose output kmsrecover shows as is.
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "kmsim.h"

static int kmsim_init(struct kmsim_options *);

static int kmsim_start(struct kmsim_options *);

static int kmsim_stop(struct kmsim_options *);

static int kmsim_status(struct kmsim_options *);

static int kmsim_query(struct kmsim_options *);

static int kmsim_check(struct kmsim_options *);

static const struct kmsim_command kmsim_commands[] = {
	{ "init", kmsim_init, "dnsif", "d" },
	{ "start", kmsim_start, "drsID", "dr" },
	{ "stop", kmsim_stop, "rt", "r" },
	{ "status", kmsim_status, "r", "r" },
	{ "query", kmsim_query, "ra", "r" },
	{ "check", kmsim_check, "ds", "d" },
};

static const struct option kmsim_long_options[] = { { "data", required_argument, NULL, 'd' },
	{ "run", required_argument, NULL, 'r' }, { "records", required_argument, NULL, 'n' },
	{ "startup-disk", required_argument, NULL, 's' },
	{ "iterations", required_argument, NULL, 'i' }, { "force", no_argument, NULL, 'f' },
	{ "timeout", required_argument, NULL, 't' }, { "ignore-term", no_argument, NULL, 'I' },
	{ "die-after", required_argument, NULL, 'D' }, { "all", no_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static const char kmsim_help[] =
    "Usage: kmsim COMMAND [OPTION]...\n"
    "A stand-in Exchange Key Management Server for kmsrecover's sandbox.\n"
    "\n"
    "  init --data DIR [--records N] [--startup-disk FILE] [--iterations N] [--force]\n"
    "        make a new key database (N users, default 250) under a new alpha string,\n"
    "        printed on stdout; --force replaces an existing one (a reinstall)\n"
    "  start --data DIR --run RUNDIR [--startup-disk FILE] [--ignore-term] [--die-after MS]\n"
    "        read the alpha string (stdin, or the startup disk) and start the server\n"
    "  stop --run RUNDIR [--timeout S]     stop it and wait (default 10 s)\n"
    "  status --run RUNDIR                 exit 0 running, 3 stopped\n"
    "  query --run RUNDIR USER|--all       print key fingerprints\n"
    "  check --data DIR [--startup-disk FILE]\n"
    "        exit 0 when the alpha string on stdin unlocks DIR, 1 when it does not,\n"
    "        2 when the data is missing or damaged\n"
    "\n"
    "  --help, --version\n"
    "Exit status: 0 success, 1 failure, 2 usage error (check: damaged data),\n"
    "3 not running. KMSIM_RECORD=FILE appends each invocation's argv and environment.\n";

static __attribute__((format(printf, 1, 2))) int
kmsim_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("kmsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'kmsim --help'.\n", stderr);
	return KMSIM_EXIT_USAGE;
}

long long
kmsim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
kmsim_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Writes s to f, newlines and backslashes escaped, so each record stays one line. */
static void
kmsim_record_string(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\\')
			fputs("\\\\", f);
		else
			fputc(*s, f);
	}
}

/* KMSIM_RECORD=FILE: appends "argv:..." and one "env:NAME=VALUE" per variable, in one write. */
static void
kmsim_record_invocation(int argc, char **argv)
{
	const char *path = getenv("KMSIM_RECORD");
	char *text = NULL, **env;
	size_t len = 0;
	FILE *f;
	int fd, i;

	if (path == NULL || *path == '\0' || (f = open_memstream(&text, &len)) == NULL)
		return;
	fputs("argv:", f);
	for (i = 0; i < argc; i++) {
		if (i != 0)
			fputc(' ', f);
		kmsim_record_string(f, argv[i]);
	}
	fputc('\n', f);
	for (env = environ; *env != NULL; env++) {
		fputs("env:", f);
		kmsim_record_string(f, *env);
		fputc('\n', f);
	}
	if (fclose(f) == 0) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || kmsim_write_all(fd, text, len) != 0)
			fprintf(stderr, "kmsim: KMSIM_RECORD: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	free(text);
}

/* Parses a decimal number for option name within [min, max]; a usage error otherwise. */
static int
kmsim_number(const char *name, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		kmsim_usage("--%s: '%s' is not a number from %ld to %ld", name, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static const char *
kmsim_option_name(int val)
{
	const struct option *opt;

	for (opt = kmsim_long_options; opt->name != NULL; opt++) {
		if (opt->val == val)
			return opt->name;
	}
	return "?";
}

/* Stores one option's value. 0, or a usage error. */
static int
kmsim_option_set(struct kmsim_options *o, int c, const char *arg)
{
	switch (c) {
	case 'd':
		o->data = arg;
		return 0;
	case 'r':
		o->run = arg;
		return 0;
	case 's':
		o->startup_disk = arg;
		return 0;
	case 'n':
		return kmsim_number("records", arg, 1, KMSIM_RECORDS_MAX, &o->records);
	case 'i':
		return kmsim_number("iterations", arg, KMSIM_ITERATIONS_MIN, KMSIM_ITERATIONS_MAX,
		    &o->iterations);
	case 't':
		return kmsim_number("timeout", arg, 0, 3600, &o->timeout);
	case 'D':
		return kmsim_number("die-after", arg, 0, 3600000, &o->die_after);
	case 'f':
		o->force = 1;
		return 0;
	case 'I':
		o->ignore_term = 1;
		return 0;
	case 'a':
		o->all = 1;
		return 0;
	}
	return -1;
}

/* Checks the options required and the arguments left after them. */
static int
kmsim_options_check(const struct kmsim_command *cmd, struct kmsim_options *o, int argc, char **argv)
{
	const char *r;

	for (r = cmd->required; *r != '\0'; r++) {
		if ((*r == 'd' && o->data == NULL) || (*r == 'r' && o->run == NULL))
			return kmsim_usage("%s needs --%s", cmd->name, kmsim_option_name(*r));
	}
	if (o->command == KMSIM_QUERY && !o->all && optind < argc)
		o->user = argv[optind++];
	if (optind < argc)
		return kmsim_usage("%s: unexpected argument '%s'", cmd->name, argv[optind]);
	if (o->command == KMSIM_QUERY && !o->all && o->user == NULL)
		return kmsim_usage("query needs a USER or --all");
	return 0;
}

/* Parses argv (argv[0] is the command). 0, 1 for --help (printed), or a usage error. */
static int
kmsim_options_parse(const struct kmsim_command *cmd, struct kmsim_options *o, int argc, char **argv)
{
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", kmsim_long_options, NULL)) != -1) {
		if (c == '?' && optopt != 0)
			return kmsim_usage("%s: unknown option -%c", cmd->name, optopt);
		if (c == '?')
			return kmsim_usage("%s: unknown option %s", cmd->name, argv[optind - 1]);
		if (c == ':')
			return kmsim_usage("%s: option %s needs a value", cmd->name,
			    argv[optind - 1]);
		if (c == 'h') {
			fputs(kmsim_help, stdout);
			return 1;
		}
		if (strchr(cmd->options, c) == NULL) {
			return kmsim_usage("option --%s is not valid with %s", kmsim_option_name(c),
			    cmd->name);
		}
		if (kmsim_option_set(o, c, optarg) != 0)
			return KMSIM_EXIT_USAGE;
	}
	return kmsim_options_check(cmd, o, argc, argv);
}

/* Fills in the paths of a run folder. 0, or -1 (printed) when they are too long. */
static int
kmsim_run_paths(const char *dir, struct kmsim_run *run)
{
	int a, b, c, d;

	/* snprintf only writes *run; cppcheck's whole-program pass takes it for a read. */
	/* cppcheck-suppress ctuuninitvar */
	a = snprintf(run->lock, sizeof run->lock, "%s/kmsim.lock", dir);
	b = snprintf(run->pid, sizeof run->pid, "%s/kmsim.pid", dir);
	c = snprintf(run->status, sizeof run->status, "%s/status", dir);
	d = snprintf(run->sock, sizeof run->sock, "%s/kmsim.sock", dir);
	if (a < 0 || b < 0 || c < 0 || d < 0 || (size_t)a >= sizeof run->lock ||
	    (size_t)b >= sizeof run->pid || (size_t)c >= sizeof run->status ||
	    (size_t)d >= sizeof run->sock) {
		fprintf(stderr, "kmsim: %s: path too long for the run folder (its socket)\n", dir);
		return -1;
	}
	return 0;
}

/* The pid in a pid file, or 0. */
static pid_t
kmsim_read_pid(const char *path)
{
	char buf[32], *end;
	ssize_t n;
	long v;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') || v <= 0 || v > INT_MAX)
		return 0;
	return v;
}

/*
 * The pid of the daemon serving run, 0 when none, -1 when one is running
 * but its pid is not known. A daemon holds a write lock on kmsim.lock for
 * its whole life, so a crashed one (or a reused pid) is never taken for a
 * running one, and asking does not take the lock.
 */
static pid_t
kmsim_running(const struct kmsim_run *run)
{
	struct flock fl;
	pid_t pid;
	int fd;

	if ((fd = open(run->lock, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
		fl.l_pid = 0;
	else if (fl.l_pid <= 0)
		fl.l_pid = (pid = kmsim_read_pid(run->pid)) > 0 ? pid : -1;
	close(fd);
	return fl.l_pid;
}

/* Whether pid names a live process (a zombie is not one). */
static int
kmsim_alive(pid_t pid)
{
	char path[64], buf[512], *paren;
	ssize_t n;
	int fd;

	if (kill(pid, 0) != 0 && errno != EPERM)
		return 0;
	if (snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid) >= (int)sizeof path ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	if ((paren = strrchr(buf, ')')) == NULL || paren[1] != ' ')
		return 1;
	return paren[2] != 'Z' && paren[2] != 'X';
}

/* One line from fd, without its CR LF, into buf. 0, 1 when too long (and read to its end), -1. */
int
kmsim_read_line(int fd, char *buf, size_t size, size_t *lenp)
{
	size_t len = 0;
	int too_long = 0;
	ssize_t n;
	char c;

	for (;;) {
		if ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0 || c == '\n')
			break;
		if (len + 1 < size)
			buf[len++] = c;
		else
			too_long = 1;
	}
	while (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	*lenp = len;
	OPENSSL_cleanse(&c, sizeof c);
	return too_long;
}

/* The alpha string from stdin; on a terminal, asked for without echo. */
static int
kmsim_password_stdin(char *buf, size_t size, size_t *lenp)
{
	struct termios saved, quiet;
	int tty, rc;

	tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		fputs("Alpha string: ", stderr);
		quiet = saved;
		quiet.c_lflag &= ~ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	rc = kmsim_read_line(STDIN_FILENO, buf, size, lenp);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (rc < 0)
		fprintf(stderr, "kmsim: cannot read the alpha string: %s\n", strerror(errno));
	return rc;
}

/* The password, from the startup disk or stdin: its length, -1 (said why), -2 when too long. */
static ssize_t
kmsim_password_get(const struct kmsim_options *o, char *pw, size_t size)
{
	char *cause = NULL;
	size_t len = 0;
	ssize_t n;
	int rc;

	if (o->startup_disk == NULL) {
		rc = kmsim_password_stdin(pw, size, &len);
		return rc < 0 ? -1 : rc > 0 ? -2 : (ssize_t)len;
	}
	if ((n = kmsim_startup_disk_read(o->startup_disk, pw, size, &cause)) < 0)
		fprintf(stderr, "kmsim: cannot read the startup disk: %s\n", cause);
	free(cause);
	return n;
}

/*
 * Gets the password, unlocks o->data and says what went wrong. Returns 0
 * (*dbp set), 1 when the password is not valid or cannot be had, 2 when
 * the data is missing or damaged (or cannot be checked).
 */
static int
kmsim_unlock(const struct kmsim_options *o, struct kmsim_db **dbp)
{
	char pw[KMSIM_PASSWORD_MAX + 1], *file = NULL, *cause = NULL;
	enum kmsim_db_result r = KMSIM_DB_WRONG_PASSWORD;
	ssize_t n;

	if ((n = kmsim_password_get(o, pw, sizeof pw)) >= 0)
		r = kmsim_db_open(o->data, pw, n, dbp, &file, &cause);
	OPENSSL_cleanse(pw, sizeof pw);
	if (n == -1)
		return 1;
	switch (r) {
	case KMSIM_DB_OK:
		break;
	case KMSIM_DB_WRONG_PASSWORD:
		fprintf(stderr, "%s\n", KMSIM_EVENT_5057);
		break;
	case KMSIM_DB_DAMAGED:
		fprintf(stderr, "%s%s\nkmsim: %s: %s\n", KMSIM_EVENT_5058, file, file, cause);
		break;
	case KMSIM_DB_ERROR:
		fprintf(stderr, "kmsim: %s\n", cause);
		break;
	}
	free(file);
	free(cause);
	if (r == KMSIM_DB_OK || r == KMSIM_DB_WRONG_PASSWORD)
		return r == KMSIM_DB_OK ? 0 : 1;
	return 2;
}

static int
kmsim_init(struct kmsim_options *o)
{
	char alpha[KMSIM_ALPHA_LEN + 1], disk[64], *path, *cause = NULL;
	struct stat sb;
	int n, ret = 1;

	path = kmsim_xasprintf("%s/%s", o->data, KMSIM_DB_NAME);
	if (kmsim_mkdirs(o->data, 0700, &cause) != 0)
		goto out;
	if (!o->force && lstat(path, &sb) == 0) {
		cause = kmsim_xasprintf("%s already exists: the KM Server is installed there "
					"(--force reinstalls it, with a new key database)",
		    path);
		goto out;
	}
	if (kmsim_alpha_generate(alpha) != 0) {
		cause = kmsim_xstrdup("cannot make a random alpha string");
		goto out;
	}
	if (kmsim_db_create(o->data, alpha, KMSIM_ALPHA_LEN, o->records, o->iterations, &cause) !=
	    0)
		goto out;
	printf("%s\n", alpha);
	fflush(stdout);
	if (o->startup_disk != NULL) {
		n = snprintf(disk, sizeof disk, "[config]\r\npwd=%s\r\n", alpha);
		if (n < 0 || (size_t)n >= sizeof disk ||
		    kmsim_write_file(o->startup_disk, disk, n, 0600, &cause) != 0)
			goto out;
	}
	ret = 0;
out:
	if (cause != NULL)
		fprintf(stderr, "kmsim: %s\n", cause);
	OPENSSL_cleanse(alpha, sizeof alpha);
	OPENSSL_cleanse(disk, sizeof disk);
	free(cause);
	free(path);
	return ret;
}

static int
kmsim_start(struct kmsim_options *o)
{
	struct kmsim_run run;
	struct kmsim_db *db = NULL;
	char *cause = NULL;
	pid_t pid;
	int ret = 1;

	if (kmsim_run_paths(o->run, &run) != 0)
		return 1;
	if ((pid = kmsim_running(&run)) != 0) {
		fprintf(stderr, "kmsim: the KM Server is already running (pid %ld)\n", (long)pid);
		return 1;
	}
	if (kmsim_unlock(o, &db) != 0)
		return 1;
	if (kmsim_mkdirs(o->run, 0700, &cause) != 0) {
		fprintf(stderr, "kmsim: %s\n", cause);
		goto out;
	}
	if ((ret = kmsim_daemon_spawn(o, &run, db)) == 0)
		printf("KM Server started: %zu key records.\n", db->nrecords);
out:
	kmsim_db_free(db);
	free(cause);
	return ret;
}

static int
kmsim_stop(struct kmsim_options *o)
{
	struct kmsim_run run;
	long long deadline;
	pid_t pid;

	if (kmsim_run_paths(o->run, &run) != 0)
		return 1;
	if ((pid = kmsim_running(&run)) == 0) {
		printf("KM Server is not running.\n");
		return 0;
	}
	if (pid < 0) {
		fprintf(stderr, "kmsim: the KM Server is running but its pid is unknown\n");
		return 1;
	}
	if (kill(pid, SIGTERM) != 0 && errno != ESRCH) {
		fprintf(stderr, "kmsim: cannot stop pid %ld: %s\n", (long)pid, strerror(errno));
		return 1;
	}
	deadline = kmsim_now_ms() + o->timeout * 1000;
	while (kmsim_running(&run) != 0 || kmsim_alive(pid)) {
		if (kmsim_now_ms() >= deadline) {
			fprintf(stderr,
			    "kmsim: the KM Server (pid %ld) did not stop "
			    "within %ld s\n",
			    (long)pid, o->timeout);
			return 1;
		}
		kmsim_sleep_ms(50);
	}
	printf("KM Server stopped.\n");
	return 0;
}

static int
kmsim_status(struct kmsim_options *o)
{
	struct kmsim_run run;
	char line[64];
	size_t len;
	int fd;

	if (kmsim_run_paths(o->run, &run) != 0)
		return 1;
	if (kmsim_running(&run) == 0) {
		printf("stopped\n");
		return KMSIM_EXIT_STOPPED;
	}
	line[0] = '\0';
	if ((fd = open(run.status, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (kmsim_read_line(fd, line, sizeof line, &len) != 0)
			line[0] = '\0';
		close(fd);
	}
	printf("%s\n", strncmp(line, "running", 7) == 0 ? line : "running");
	return 0;
}

/* Connects to the daemon of run. The socket, or -1 when none answers. */
static int
kmsim_connect(const struct kmsim_run *run)
{
	struct sockaddr_un sun;
	struct timeval tv = { 30, 0 };
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, run->sock, strlen(run->sock) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
}

/* Sends request and reads the whole reply into *reply. 0, or -1. */
static int
kmsim_ask(int fd, const char *request, char **reply)
{
	size_t len = 0, size = 4096;
	char *buf = kmsim_xcalloc(1, size), *bigger;
	ssize_t n;

	if (kmsim_write_all(fd, request, strlen(request)) != 0 || shutdown(fd, SHUT_WR) != 0)
		goto fail;
	for (;;) {
		if (len + 1 == size) {
			if (size >= KMSIM_REPLY_MAX || (bigger = realloc(buf, size * 2)) == NULL)
				goto fail;
			buf = bigger;
			size *= 2;
		}
		if ((n = read(fd, buf + len, size - 1 - len)) < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*reply = buf;
	return 0;
fail:
	free(buf);
	return -1;
}

static int
kmsim_query(struct kmsim_options *o)
{
	struct kmsim_run run;
	char *request = NULL, *reply = NULL;
	int fd, ret = 1;

	if (kmsim_run_paths(o->run, &run) != 0)
		return 1;
	if (!o->all && strcspn(o->user, " \t\r\n") != strlen(o->user)) {
		fprintf(stderr, "kmsim: no key record for user '%s'\n", o->user);
		return 1;
	}
	if ((fd = kmsim_connect(&run)) < 0) {
		fprintf(stderr, "kmsim: the KM Server is not running\n");
		return KMSIM_EXIT_STOPPED;
	}
	request = o->all ? kmsim_xstrdup("ALL\n") : kmsim_xasprintf("QUERY %s\n", o->user);
	if (kmsim_ask(fd, request, &reply) != 0)
		fprintf(stderr, "kmsim: no answer from the KM Server: %s\n", strerror(errno));
	else if (strncmp(reply, "OK\n", 3) == 0 || strncmp(reply, "OK ", 3) == 0) {
		fputs(reply + 3, stdout);
		ret = 0;
	} else if (strcmp(reply, "UNKNOWN\n") == 0)
		fprintf(stderr, "kmsim: no key record for user '%s'\n", o->user);
	else
		fprintf(stderr, "kmsim: unexpected answer from the KM Server: %.80s\n", reply);
	close(fd);
	free(request);
	free(reply);
	return ret;
}

static int
kmsim_check(struct kmsim_options *o)
{
	struct kmsim_db *db = NULL;
	int rc;

	rc = kmsim_unlock(o, &db);
	kmsim_db_free(db);
	return rc;
}

int
main(int argc, char **argv)
{
	struct kmsim_options o = { .records = 250,
		.iterations = KMSIM_ITERATIONS_DEFAULT,
		.timeout = 10,
		.die_after = -1 };
	const struct kmsim_command *cmd = NULL;
	size_t i;
	int rc;

	kmsim_record_invocation(argc, argv);
	if (argc < 2)
		return kmsim_usage("no command given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(kmsim_help, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("kmsim (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof kmsim_commands / sizeof kmsim_commands[0]; i++) {
		if (strcmp(argv[1], kmsim_commands[i].name) == 0)
			cmd = &kmsim_commands[i];
	}
	if (cmd == NULL)
		return kmsim_usage("unknown command '%s'", argv[1]);
	o.command = cmd - kmsim_commands;
	if ((rc = kmsim_options_parse(cmd, &o, argc - 1, argv + 1)) != 0)
		return rc == 1 ? 0 : rc;
	return cmd->exec(&o);
}
