/*
 * Fault injection (see fault.h): lets the tests make the Nth write, rename,
 * fsync or spawn fail, or kill the process at a named point, so that every
 * failure path and every interruption of the procedure can be proven to
 * lose nothing.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"

#ifdef ENABLE_FAULT_INJECTION
#define FAULT_OPS 8

static const char *fault_names[FAULT_OPS] = { "write", "rename", "fsync", "spawn", "mkdir", "read",
	"chown", "unlink" };
static unsigned long fault_calls[FAULT_OPS];

static int
fault_index(const char *op)
{
	int i;

	for (i = 0; i < FAULT_OPS; i++) {
		if (strcmp(fault_names[i], op) == 0)
			return i;
	}
	return -1;
}

/* Whether KMSRECOVER_FAULT asks call number n of op to fail. */
static int
fault_wanted(const char *op, unsigned long n)
{
	const char *spec, *p;
	size_t oplen = strlen(op);
	char *end;
	unsigned long want;

	if ((spec = getenv("KMSRECOVER_FAULT")) == NULL)
		return 0;
	for (p = spec; *p != '\0'; p++) {
		if ((p == spec || p[-1] == ',') && strncmp(p, op, oplen) == 0 && p[oplen] == ':') {
			errno = 0;
			want = strtoul(p + oplen + 1, &end, 10);
			if (errno == 0 && end != p + oplen + 1 && want == n)
				return 1;
		}
	}
	return 0;
}
#endif

int
fault_fail(const char *op)
{
#ifdef ENABLE_FAULT_INJECTION
	int i = fault_index(op);

	if (i < 0)
		return 0;
	fault_calls[i]++;
	if (fault_wanted(op, fault_calls[i])) {
		errno = strcmp(op, "write") == 0 ? ENOSPC : EIO;
		return -1;
	}
#else
	(void)op;
#endif
	return 0;
}

void
fault_point(const char *point)
{
#ifdef ENABLE_FAULT_INJECTION
	const char *want = getenv("KMSRECOVER_KILL_AT");

	if (want != NULL && strcmp(want, point) == 0)
		kill(getpid(), SIGKILL);
#else
	(void)point;
#endif
}
