/*
 * libFuzzer target: the startup disk parser, secret_from_startup_disk() on
 * a KMSPWD.INI holding the input, then secret_normalize_alpha() in both
 * cases on what it found.
 *
 * The parser is reached through the file, as the program reaches it: it
 * reads a byte at a time with read(2) straight into secure memory, and a
 * buffer entry point would be a way round that rule (DESIGN.md, rule 6).
 * The file is one regular file for the whole process (input.h), so no
 * iteration leaves a file or a descriptor behind; a refusal at its open
 * (which every input met while it was a memfd's /proc/self/fd/N, a
 * symbolic link) fails the run, so the parser is always what is fuzzed.
 *
 * Besides the sanitizers, it checks that a refusal says why and leaves
 * nothing to free, and that an accepted alpha string is what secret.h says.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input.h"
#include "secret.h"
#include "startup-disk.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_input fuzz_file = { "KMSPWD.INI", -1, "", "" };

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz-startup-disk: %s\n", what);
	abort();
}

static void
fuzz_normalize(const struct secret *s, enum secret_case c)
{
	struct secret *copy = secret_new(s->data, s->len);
	char *cause = NULL;
	size_t i;

	if (secret_normalize_alpha(copy, c, &cause) == 0) {
		if (copy->len == 0 || copy->data[copy->len] != '\0')
			fuzz_fail("an accepted password is empty or not terminated");
		for (i = 0; c == SECRET_CASE_UPPER && i < copy->len; i++) {
			if (copy->data[i] < 'A' || copy->data[i] > 'Z')
				fuzz_fail("an alpha string with other than A-Z was accepted");
		}
	} else if (cause == NULL)
		fuzz_fail("normalize refused without a cause");
	free(cause);
	secret_free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secret *s = NULL;
	char *found = NULL, *cause = NULL;

	fuzz_input_set(&fuzz_file, data, size);
	if (secret_from_startup_disk(fuzz_file.path, NULL, &s, &found, &cause) == 0) {
		if (s == NULL || found == NULL || s->len == 0 || s->data[s->len] != '\0')
			fuzz_fail("success without a password or a file");
		fuzz_normalize(s, SECRET_CASE_UPPER);
		fuzz_normalize(s, SECRET_CASE_EXACT);
	} else {
		if (s != NULL || found != NULL)
			fuzz_fail("a refusal that left something behind");
		if (cause == NULL)
			fuzz_fail("a refusal without a cause");
		if (strstr(cause, "is not a file") != NULL || strstr(cause, "cannot open") != NULL)
			fuzz_fail("the input file itself was refused: the parser was not reached");
	}
	secret_free(s);
	free(found);
	free(cause);
	return 0;
}
