/*
 * kmsim's daemon: detached in a new session, it holds the run folder's
 * lock and Kmsmdb.edb open, answers key queries on a Unix socket (one
 * request, one reply, bounded in time) until a stop signal or --die-after,
 * and leaves the run folder as a stopped service's.
 */

#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmsim.h"

static volatile sig_atomic_t kmsim_signal_fd = -1;

static void
kmsim_on_signal(int sig)
{
	int saved = errno;
	unsigned char c = sig;

	if (kmsim_signal_fd >= 0 && write(kmsim_signal_fd, &c, 1) < 0) {
		/* the pipe is full: a stop is already pending */
	}
	errno = saved;
}

/* Standard fds onto /dev/null, inherited fds closed, out of the caller's folder. */
static void
kmsim_daemon_detach(void)
{
	struct rlimit rl;
	int fd, flags, max = 1024;

	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	/* What kmsim opened itself is close-on-exec; anything else came from the caller. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur < KMSIM_FDS_MAX ? (int)rl.rlim_cur : KMSIM_FDS_MAX;
	for (fd = STDERR_FILENO + 1; fd < max; fd++) {
		if ((flags = fcntl(fd, F_GETFD)) >= 0 && !(flags & FD_CLOEXEC))
			close(fd);
	}
	if (chdir("/") != 0) {
		/* "/" is always there */
	}
	umask(077);
}

/* Signal handling through a self-pipe the serving loop polls. 0, or -1. */
static int
kmsim_daemon_signals(int ignore_term, int *signal_pipe)
{
	struct sigaction sa;
	sigset_t none;

	if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	kmsim_signal_fd = signal_pipe[1];
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = kmsim_on_signal;
	sigaction(SIGINT, &sa, NULL);
	if (ignore_term)
		sa.sa_handler = SIG_IGN;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	return 0;
}

/* Takes the run folder's lock, for the daemon's life. 0, or -1 with *cause. */
static int
kmsim_server_lock(struct kmsim_server *s, char **cause)
{
	struct flock fl;

	if ((s->lock_fd = open(s->run->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		*cause = kmsim_xasprintf("%s: %s", s->run->lock, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(s->lock_fd, F_SETLK, &fl) != 0) {
		if (errno == EAGAIN || errno == EACCES)
			*cause = kmsim_xstrdup("the KM Server is already running");
		else
			*cause = kmsim_xasprintf("%s: %s", s->run->lock, strerror(errno));
		return -1;
	}
	return 0;
}

/* Listens on the run folder's socket (a stale one is replaced: the lock is ours). */
static int
kmsim_server_listen(struct kmsim_server *s, char **cause)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, s->run->sock, strlen(s->run->sock) + 1);
	if (unlink(s->run->sock) != 0 && errno != ENOENT)
		goto fail;
	if ((s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(s->listen_fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    listen(s->listen_fd, 16) != 0)
		goto fail;
	return 0;
fail:
	*cause = kmsim_xasprintf("%s: %s", s->run->sock, strerror(errno));
	return -1;
}

/* Lock, socket, pid file and status: everything a ready server has. 0, or -1 with *cause. */
static int
kmsim_server_setup(struct kmsim_server *s, char **cause)
{
	char text[64];
	int n;

	if (kmsim_server_lock(s, cause) != 0 || kmsim_server_listen(s, cause) != 0)
		return -1;
	n = snprintf(text, sizeof text, "%ld\n", (long)getpid());
	if (n < 0 || (size_t)n >= sizeof text ||
	    kmsim_write_file(s->run->pid, text, n, 0644, cause) != 0)
		return -1;
	n = snprintf(text, sizeof text, "running records=%zu\n", s->db->nrecords);
	if (n < 0 || (size_t)n >= sizeof text ||
	    kmsim_write_file(s->run->status, text, n, 0644, cause) != 0) {
		unlink(s->run->pid);
		return -1;
	}
	return 0;
}

/* Leaves the run folder as a stopped service's: no socket, no pid file, status. */
static void
kmsim_server_teardown(struct kmsim_server *s, const char *status)
{
	char *cause = NULL;

	if (s->listen_fd >= 0) {
		unlink(s->run->sock);
		close(s->listen_fd);
		s->listen_fd = -1;
	}
	if (kmsim_write_file(s->run->status, status, strlen(status), 0644, &cause) != 0)
		free(cause);
	unlink(s->run->pid);
}

static int
kmsim_record_compare(const void *a, const void *b)
{
	const struct kmsim_record *const *ra = a, *const *rb = b;

	return strcmp((*ra)->user, (*rb)->user);
}

/* "OK\n" and every "USER FINGERPRINT" line, sorted by user. */
static void
kmsim_reply_all(const struct kmsim_db *db, FILE *f)
{
	const struct kmsim_record **sorted;
	char fp[KMSIM_FINGERPRINT_SIZE];
	size_t i;

	sorted = kmsim_xcalloc(db->nrecords, sizeof(const struct kmsim_record *));
	for (i = 0; i < db->nrecords; i++)
		sorted[i] = &db->records[i];
	qsort(sorted, db->nrecords, sizeof(const struct kmsim_record *), kmsim_record_compare);
	fputs("OK\n", f);
	for (i = 0; i < db->nrecords; i++) {
		if (kmsim_record_fingerprint(sorted[i], fp) == 0)
			fprintf(f, "%s %s\n", sorted[i]->user, fp);
	}
	free(sorted);
}

/* Answers a request: "QUERY USER" gives "OK FINGERPRINT" or "UNKNOWN"; "ALL" as above. */
static void
kmsim_reply(const struct kmsim_db *db, const char *request, FILE *f)
{
	const struct kmsim_record *r;
	char fp[KMSIM_FINGERPRINT_SIZE];

	if (strcmp(request, "ALL") == 0)
		kmsim_reply_all(db, f);
	else if (strncmp(request, "QUERY ", 6) != 0)
		fputs("ERROR bad request\n", f);
	else if ((r = kmsim_db_find(db, request + 6)) == NULL)
		fputs("UNKNOWN\n", f);
	else if (kmsim_record_fingerprint(r, fp) != 0)
		fputs("ERROR cannot compute the fingerprint\n", f);
	else
		fprintf(f, "OK %s\n", fp);
}

/* One client: one request line, one reply, then closed; bounded in time. */
static void
kmsim_serve_client(struct kmsim_server *s)
{
	struct timeval tv = { 5, 0 };
	char request[KMSIM_REQUEST_MAX], *reply = NULL;
	size_t len, reply_len = 0;
	FILE *f;
	int fd;

	if ((fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (kmsim_read_line(fd, request, sizeof request, &len) != 0)
		goto out;
	if ((f = open_memstream(&reply, &reply_len)) == NULL)
		goto out;
	kmsim_reply(s->db, request, f);
	if (fclose(f) == 0)
		kmsim_write_all(fd, reply, reply_len);
out:
	free(reply);
	close(fd);
}

/* Serves until a stop signal (returns 0) or the --die-after time (returns 1). */
static int
kmsim_serve(struct kmsim_server *s, int signal_fd)
{
	struct pollfd pfd[2];
	long long deadline = -1, left;
	int timeout;

	if (s->die_after >= 0)
		deadline = kmsim_now_ms() + s->die_after;
	pfd[0].fd = s->listen_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = signal_fd;
	pfd[1].events = POLLIN;
	for (;;) {
		timeout = -1;
		if (deadline >= 0) {
			if ((left = deadline - kmsim_now_ms()) <= 0)
				return 1;
			timeout = left > INT_MAX ? INT_MAX : (int)left;
		}
		if (poll(pfd, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[1].revents != 0)
			return 0;
		if (pfd[0].revents & POLLIN)
			kmsim_serve_client(s);
	}
}

/* The daemon: sets up, tells the foreground process through ready, serves, exits. */
static __attribute__((noreturn)) void
kmsim_daemon(const struct kmsim_options *o, const struct kmsim_run *run, struct kmsim_db *db,
    int ready)
{
	struct kmsim_server s = { run, db, -1, -1, o->die_after };
	char *cause = NULL;
	int signal_pipe[2], status;

	kmsim_daemon_detach();
	if (kmsim_daemon_signals(o->ignore_term, signal_pipe) != 0)
		cause = kmsim_xasprintf("cannot handle signals: %s", strerror(errno));
	else
		kmsim_server_setup(&s, &cause);
	if (cause != NULL) {
		kmsim_write_all(ready, cause, strlen(cause));
		if (s.listen_fd >= 0)
			unlink(run->sock);
		_exit(1);
	}
	kmsim_write_all(ready, "OK", 2);
	close(ready);
	status = kmsim_serve(&s, signal_pipe[0]);
	kmsim_server_teardown(&s, status == 0 ? "stopped\n" : "failed\n");
	kmsim_db_free(db);
	_exit(status);
}

/* The daemon's word: "OK", or why it failed (empty when it died first). */
static void
kmsim_daemon_wait(int fd, char *msg, size_t size)
{
	long long deadline = kmsim_now_ms() + KMSIM_READY_TIMEOUT_MS, left;
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (left = deadline - kmsim_now_ms()) > 0) {
		if ((n = poll(&pfd, 1, (int)left)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((n = read(fd, msg + len, size - 1 - len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	msg[len] = '\0';
}

/* Forks the daemon (twice, in a new session) and waits until it is ready. 0, or 1. */
int
kmsim_daemon_spawn(const struct kmsim_options *o, const struct kmsim_run *run, struct kmsim_db *db)
{
	char msg[512];
	int fds[2], status;
	pid_t pid;

	fflush(NULL);
	if (pipe2(fds, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		fprintf(stderr, "kmsim: cannot start the daemon: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(fds[0]);
		if (setsid() < 0 || (pid = fork()) < 0)
			_exit(1);
		if (pid != 0)
			_exit(0);
		kmsim_daemon(o, run, db, fds[1]);
	}
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	kmsim_daemon_wait(fds[0], msg, sizeof msg);
	close(fds[0]);
	if (strcmp(msg, "OK") == 0)
		return 0;
	fprintf(stderr, "kmsim: the KM Server did not start: %s\n",
	    msg[0] != '\0' ? msg : "it exited before it was ready");
	return 1;
}
