/*
 * Running a child program (spawn.h): fork and execvp with an argv, never a
 * shell (DESIGN.md, rule 8). The parent feeds the child's standard input
 * from memory, collects its stdout and stderr through one pipe, and watches
 * the clock: past the timeout the child's process group gets SIGTERM, then
 * SIGKILL two seconds later.
 *
 * Two things make this more than a popen(): a service's start command may
 * leave a daemon behind that keeps the output pipe open, so the end of the
 * run is the direct child's exit (seen with waitpid WNOHANG between short
 * polls), not the end of the pipe; and whether execvp itself failed is told
 * through a separate close-on-exec pipe, so that a program that merely
 * exits 127 is not mistaken for one that could not be run.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "fs.h"
#include "i18n.h"
#include "spawn.h"
#include "xmalloc.h"

#define SPAWN_KEEP (64 * 1024) /* output kept: the tail */
#define SPAWN_TICK_MS 20       /* how often the child's exit is looked for */
#define SPAWN_GRACE_MS 2000    /* between SIGTERM and SIGKILL */

/* The parent's side of one run. */
struct spawn_io {
	int out; /* read end of the child's stdout+stderr; -1 once closed */
	int in;  /* write end of the child's stdin; -1 once closed or unused */
	const char *input;
	size_t input_len;
	size_t input_done;
	char *buf; /* the output kept so far, at most SPAWN_KEEP bytes */
	size_t len;
};

static void
spawn_close(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

/* Moves fd above the standard three so that dup2 onto them cannot clobber it. */
static int
spawn_above_stdio(int fd)
{
	return fd > 2 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* In the child: plumbing, default signals, exec; on failure errno to errfd. */
__attribute__((noreturn)) static void
spawn_child(char *const argv[], int infd, int outfd, int errfd)
{
	static const int sigs[] = { SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD };
	sigset_t none;
	size_t i;
	int e;

	/* Its own process group: a Ctrl-C meant for kmsrecover does not cut a
	 * service start short, and a timeout can end the child's helpers too. */
	setpgid(0, 0);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((infd = spawn_above_stdio(infd)) == -1 || (outfd = spawn_above_stdio(outfd)) == -1 ||
	    dup2(infd, 0) == -1 || dup2(outfd, 1) == -1 || dup2(outfd, 2) == -1)
		goto fail;
	execvp(argv[0], argv);
fail:
	e = errno;
	if (write(errfd, &e, sizeof e) != (ssize_t)sizeof e)
		_exit(126);
	_exit(127);
}

/* Keeps the tail: at most SPAWN_KEEP bytes, the newest. n is one read, far less. */
static void
spawn_keep(struct spawn_io *io, const char *data, size_t n)
{
	size_t drop;

	if (io->len + n > SPAWN_KEEP) {
		drop = io->len + n - SPAWN_KEEP;
		memmove(io->buf, io->buf + drop, io->len - drop);
		io->len -= drop;
	}
	memcpy(io->buf + io->len, data, n);
	io->len += n;
}

/* One read of the output pipe; closes it at the end or on an error. */
static void
spawn_read_output(struct spawn_io *io)
{
	char chunk[4096];
	ssize_t n;

	n = read(io->out, chunk, sizeof chunk);
	if (n > 0)
		spawn_keep(io, chunk, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		spawn_close(&io->out);
}

/* Writes what the pipe takes; closes it when all is written or the child left. */
static void
spawn_write_input(struct spawn_io *io)
{
	ssize_t n;

	if (io->input_done < io->input_len) {
		n = write(io->in, io->input + io->input_done, io->input_len - io->input_done);
		if (n > 0)
			io->input_done += (size_t)n;
		else if (n == -1 && (errno == EINTR || errno == EAGAIN))
			return;
		else
			io->input_done = io->input_len; /* EPIPE: the child does not want it */
	}
	if (io->input_done == io->input_len)
		spawn_close(&io->in);
}

/* Waits up to ms for the pipes, and serves them. */
static void
spawn_pump(struct spawn_io *io, int ms)
{
	struct pollfd pfd[2];
	nfds_t n = 0;
	int iout = -1, iin = -1;

	if (io->out != -1) {
		pfd[n].fd = io->out;
		pfd[n].events = POLLIN;
		iout = (int)n++;
	}
	if (io->in != -1) {
		pfd[n].fd = io->in;
		pfd[n].events = POLLOUT;
		iin = (int)n++;
	}
	if (poll(pfd, n, ms) <= 0)
		return;
	if (iout != -1 && pfd[iout].revents != 0)
		spawn_read_output(io);
	if (iin != -1 && (pfd[iin].revents & (POLLERR | POLLHUP)) != 0)
		spawn_close(&io->in);
	else if (iin != -1 && pfd[iin].revents != 0)
		spawn_write_input(io);
}

/*
 * After the direct child exited: what is already in the pipe, without
 * waiting for a detached grandchild that may hold it open for ever.
 */
static void
spawn_drain(struct spawn_io *io)
{
	size_t rounds;

	if (io->out == -1)
		return;
	fcntl(io->out, F_SETFL, fcntl(io->out, F_GETFL) | O_NONBLOCK);
	for (rounds = 0; io->out != -1 && rounds < 2 * SPAWN_KEEP / 4096; rounds++) {
		errno = 0;
		spawn_read_output(io);
		if (errno == EAGAIN)
			break;
	}
	spawn_close(&io->out);
}

/* The child's process group, or the child alone if it has none yet. */
static void
spawn_signal(pid_t pid, int sig)
{
	if (kill(-pid, sig) == -1)
		kill(pid, sig);
}

/* Serves the pipes until the child exits (*status), killing it at the deadline. 0 or -1. */
static int
spawn_wait(pid_t pid, struct spawn_io *io, int timeout, int *timed_out, int *status)
{
	long long deadline = 0, kill_at = 0, now;
	pid_t r;

	if (timeout > 0)
		deadline = fs_monotonic_ns() / 1000000 + (long long)timeout * 1000;
	for (;;) {
		if ((r = waitpid(pid, status, WNOHANG)) == pid)
			break;
		if (r == -1 && errno != EINTR)
			return -1;
		now = fs_monotonic_ns() / 1000000;
		if (deadline != 0 && now >= deadline && !*timed_out) {
			*timed_out = 1;
			spawn_signal(pid, SIGTERM);
			kill_at = now + SPAWN_GRACE_MS;
		} else if (kill_at != 0 && now >= kill_at) {
			spawn_signal(pid, SIGKILL);
			kill_at = 0;
		}
		spawn_pump(io, SPAWN_TICK_MS);
	}
	spawn_drain(io);
	return 0;
}

/* 0 when the child reached execvp's program, else the errno it failed with. */
static int
spawn_exec_error(int errfd)
{
	int e = 0;
	ssize_t n;

	do
		n = read(errfd, &e, sizeof e);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof e ? e : 0;
}

/* The pipes: [0] the child's stdin, [1] its output, [2] the exec report. */
static int
spawn_pipes(const char *input, int fds[3][2])
{
	if (input != NULL) {
		if (pipe2(fds[0], O_CLOEXEC) == -1)
			return -1;
	} else if ((fds[0][0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (pipe2(fds[1], O_CLOEXEC) == -1 || pipe2(fds[2], O_CLOEXEC) == -1)
		return -1;
	return 0;
}

static void
spawn_close_pipes(int fds[3][2])
{
	int i;

	for (i = 0; i < 3; i++) {
		spawn_close(&fds[i][0]);
		spawn_close(&fds[i][1]);
	}
}

static void
spawn_fill(struct spawn_result *result, struct spawn_io *io, int status)
{
	if (WIFEXITED(status)) {
		result->exited = 1;
		result->status = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		result->signaled = 1;
		result->status = WTERMSIG(status);
	}
	io->buf = xreallocarray(io->buf, io->len + 1, 1);
	io->buf[io->len] = '\0';
	result->output = io->buf;
	result->output_len = io->len;
	io->buf = NULL;
}

/* The parent's side once the child is forked: input, output, exit. */
static int
spawn_parent(pid_t pid, struct spawn_io *io, int timeout, struct spawn_result *result)
{
	struct sigaction ign, old;
	int status, r;

	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old); /* a child that ignores its stdin: EPIPE, not death */
	if (io->in != -1) {
		fcntl(io->in, F_SETFL, fcntl(io->in, F_GETFL) | O_NONBLOCK);
		spawn_write_input(io);
	}
	r = spawn_wait(pid, io, timeout, &result->timed_out, &status);
	sigaction(SIGPIPE, &old, NULL);
	if (r == -1)
		return -1;
	spawn_fill(result, io, status);
	return 0;
}

int
spawn_run(char *const argv[], const char *input, size_t input_len, int timeout,
    struct spawn_result *result, char **cause)
{
	struct spawn_io io;
	int fds[3][2], e, ret = -1;
	pid_t pid;

	memset(result, 0, sizeof *result);
	memset(&io, 0, sizeof io);
	for (e = 0; e < 3; e++)
		fds[e][0] = fds[e][1] = -1;
	result->timeout = timeout;
	if (fault_fail("spawn") == -1 || spawn_pipes(input, fds) == -1 || (pid = fork()) == -1) {
		e = errno;
		spawn_close_pipes(fds);
		/* TRANSLATORS: %1$s is a program, %2$s why it could not be run. */
		*cause = xasprintf(_("could not run %1$s: %2$s"), argv[0], strerror(e));
		return -1;
	}
	if (pid == 0)
		spawn_child(argv, fds[0][0], fds[1][1], fds[2][1]);
	setpgid(pid, pid);
	spawn_close(&fds[0][0]);
	spawn_close(&fds[1][1]);
	spawn_close(&fds[2][1]);
	if ((e = spawn_exec_error(fds[2][0])) != 0) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		*cause = xasprintf(_("could not run %1$s: %2$s"), argv[0], strerror(e));
		goto out;
	}
	io.out = fds[1][0];
	io.in = input != NULL ? fds[0][1] : -1;
	fds[1][0] = fds[0][1] = -1;
	io.input = input;
	io.input_len = input_len;
	io.buf = xmalloc(SPAWN_KEEP + 1);
	if (spawn_parent(pid, &io, timeout, result) == -1) {
		*cause = xasprintf(_("could not wait for %1$s: %2$s"), argv[0], strerror(errno));
		goto out;
	}
	ret = 0;
out:
	spawn_close(&io.in);
	spawn_close(&io.out);
	spawn_close_pipes(fds);
	free(io.buf);
	return ret;
}

void
spawn_result_free(struct spawn_result *result)
{
	if (result == NULL)
		return;
	free(result->output);
	result->output = NULL;
	result->output_len = 0;
}

char *
spawn_describe(const struct spawn_result *result)
{
	if (result->timed_out)
		return xasprintf(_("timed out after %d s"), result->timeout);
	if (result->signaled) {
		/* TRANSLATORS: %1$d is a signal number, %2$s its name ("Killed"). */
		return xasprintf(_("killed by signal %1$d (%2$s)"), result->status,
		    strsignal(result->status));
	}
	if (result->exited)
		return xasprintf(_("exit status %d"), result->status);
	return xstrdup(_("ended in an unknown way"));
}
