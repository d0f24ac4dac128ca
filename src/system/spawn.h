/*
 * Running a child program: always an argv through execvp, never a shell
 * (DESIGN.md, rule 8). Optional bytes on its standard input (the password
 * hand-off: written, then the pipe closed), its stdout and stderr captured
 * together, and a timeout after which it is killed.
 */
#ifndef KMSRECOVER_SPAWN_H
#define KMSRECOVER_SPAWN_H

#include <stddef.h>

struct spawn_result {
	int exited; /* 1 when it exited; status is then its exit code */
	int status;
	int signaled;  /* 1 when a signal ended it; status is then the signal */
	int timed_out; /* 1 when it was killed for running past the timeout */
	int timeout;   /* the timeout it ran under, seconds (for spawn_describe) */
	/* stdout and stderr interleaved, NUL-terminated, at most 64 KiB kept (the tail) */
	char *output;
	size_t output_len;
};

/*
 * Runs argv[0] (looked up in PATH when it has no slash) with argv, the
 * process's own environment, and standard input fed from input (input_len
 * bytes; input NULL means /dev/null). Waits at most timeout seconds
 * (0: no limit); past it the child's process group gets SIGTERM, and
 * SIGKILL 2 s later. The child runs in a process group of its own (a
 * Ctrl-C at the terminal is kmsrecover's to handle, not the child's).
 * A child that detaches (a daemon keeping the output pipe
 * open) does not hold spawn_run up: once the direct child has exited, what
 * is already in the pipe is read and the pipe is closed.
 * Returns 0 when the child ran (whatever its exit status; see *result), -1
 * with *cause when it could not be started. spawn_result_free() after.
 */
int spawn_run(char *const argv[], const char *input, size_t input_len, int timeout,
    struct spawn_result *result, char **cause);
void spawn_result_free(struct spawn_result *result);

/*
 * How it ended: "exit status 3", "killed by signal 9 (Killed)", "timed out
 * after 60 s". Translated; a new string the caller frees.
 */
char *spawn_describe(const struct spawn_result *result);

#endif
