/*
 * libFuzzer target: the profile (INI) parser, profile_load_buffer(), over
 * arbitrary bytes, then what the rest of the program does with a profile
 * it accepted: the service commands, the verifier's %d substitution. The
 * input's first line is also split as a command line on its own.
 *
 * Besides the sanitizers, it checks what profile.h promises of an accepted
 * profile (absolute paths, bounded numbers, manager=command with its three
 * commands, no empty program name), and that a refusal always says why.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run: libFuzzer records the input as a crash. */
static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz-profile: %s\n", what);
	abort();
}

/* A command, when set, has a program name. */
static void
fuzz_check_argv(char **argv, const char *what)
{
	if (argv != NULL && (argv[0] == NULL || argv[0][0] == '\0'))
		fuzz_fail(what);
}

/* What profile.h and profile_load promise of a profile they accepted. */
static void
fuzz_check_profile(const struct profile *p)
{
	char **v, **sub;
	int which;

	if (p->kmsdata_path == NULL || p->kmsdata_path[0] != '/' || p->state_dir == NULL ||
	    p->state_dir[0] != '/')
		fuzz_fail("a relative path was accepted");
	if (p->timeout < 1 || p->timeout > 3600 || p->iterations < 1)
		fuzz_fail("a number out of range was accepted");
	if (p->handoff == HANDOFF_FILE && (p->handoff_path == NULL || p->handoff_path[0] != '/'))
		fuzz_fail("file: without an absolute path was accepted");
	if (p->service_name == NULL || p->service_name[0] == '\0' ||
	    strchr(p->service_name, '/') != NULL)
		fuzz_fail("a bad service name was accepted");
	if (p->startup_disk_name == NULL || strchr(p->startup_disk_name, '/') != NULL)
		fuzz_fail("a startup-disk name with a folder was accepted");
	fuzz_check_argv(p->start_argv, "an empty start program was accepted");
	fuzz_check_argv(p->stop_argv, "an empty stop program was accepted");
	fuzz_check_argv(p->status_argv, "an empty status program was accepted");
	fuzz_check_argv(p->verify_argv, "an empty verify program was accepted");
	for (which = PROFILE_START; which <= PROFILE_STATUS; which++) {
		v = profile_service_argv(p, (enum profile_command)which);
		if (v == NULL)
			fuzz_fail("no service command for an accepted profile");
		fuzz_check_argv(v, "an empty service command");
		xfree_argv(v);
	}
	sub = profile_substitute_argv(p->verify_argv, "%d", "/staged/tree");
	xfree_argv(sub);
}

/* The first line of the input, split as a start= value would be. */
static void
fuzz_split(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char *line, **argv = NULL, *cause = NULL;

	line = xstrndup((const char *)data, nl != NULL ? (size_t)(nl - data) : size);
	if (profile_split_argv(line, &argv, &cause) == 0) {
		if (argv == NULL || argv[0] == NULL)
			fuzz_fail("split gave no words");
		xfree_argv(argv);
	} else if (cause == NULL)
		fuzz_fail("split failed without a cause");
	free(cause);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = profile_new();
	char *cause = NULL;

	if (profile_load_buffer(p, "fuzz.conf", (const char *)data, size, &cause) == 0) {
		if (cause != NULL)
			fuzz_fail("success with a cause");
		fuzz_check_profile(p);
	} else if (cause == NULL || strncmp(cause, "fuzz.conf", 9) != 0)
		fuzz_fail("a refusal that does not name the file");
	free(cause);
	profile_free(p);
	if (size > 0)
		fuzz_split(data, size);
	return 0;
}
