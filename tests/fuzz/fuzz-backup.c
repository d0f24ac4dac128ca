/*
 * libFuzzer target: backup validation, backup_validate() over arbitrary
 * bytes as the backup file: every format and filter libarchive reads, the
 * openssl enc wrapper (passphrase "fuzz", 1 PBKDF2 iteration, so that an
 * encrypted seed decrypts cheaply), MANIFEST.sha256 and every entry check.
 * backup_validate never writes; the backup is one file for the whole
 * process (input.h), so nothing is left behind per run.
 *
 * The free space is set to 64 MiB: a tiny compressed input can expand to
 * gigabytes, which is the operator's time, not a memory error, and would
 * otherwise only show up as a libFuzzer timeout.
 *
 * Besides the sanitizers, it checks backup.h's promises: a refusal has a
 * cause, and no control character (C0, DEL, C1, bidirectional controls,
 * line separators) reaches the operator through it, whatever the entries
 * are named; an accepted backup has files and a payload.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "utf8.h"
#include "input.h"
#include "secret.h"
#include "xmalloc.h"

#define FUZZ_FREE_SPACE (64 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_input fuzz_file = { "backup", -1, "", "" };
static struct secret *fuzz_passphrase;

static void
fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-backup: %s%s%s\n", what, detail != NULL ? ": " : "",
	    detail != NULL ? detail : "");
	abort();
}

/*
 * Whether s holds something backup_escape_name would have escaped: a C0
 * control, DEL, a C1 control (as UTF-8), U+200E/F, U+2028/9, U+202A-E,
 * U+2066-9.
 */
static int
fuzz_has_control(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 1;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 1;
		if (p[0] == 0xe2 && p[1] == 0x80 &&
		    (p[2] == 0x8e || p[2] == 0x8f || p[2] == 0xa8 || p[2] == 0xa9 ||
			(p[2] >= 0xaa && p[2] <= 0xae)))
			return 1;
		if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
			return 1;
	}
	return 0;
}

static void
fuzz_check_result(const struct backup_result *r)
{
	size_t i;

	if (r->files == 0)
		fuzz_fail("a backup without files was accepted", NULL);
	if (r->payload == NULL)
		fuzz_fail("an accepted backup has no payload", NULL);
	if (strlen(r->sha256) != DIGEST_HEX_LEN)
		fuzz_fail("an archive without its SHA-256", NULL);
	if (!r->manifest_found && (r->warnings == NULL || r->warnings[0] == NULL))
		fuzz_fail("no manifest, and no warning", NULL);
	for (i = 0; r->warnings != NULL && r->warnings[i] != NULL; i++) {
		if (fuzz_has_control(r->warnings[i]))
			fuzz_fail("a control character in a warning", NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct backup_options opt;
	struct backup_result result;
	char *cause = NULL;

	if (fuzz_passphrase == NULL)
		fuzz_passphrase = secret_new("fuzz", 4);
	fuzz_input_set(&fuzz_file, data, size);
	memset(&opt, 0, sizeof opt);
	opt.source = fuzz_file.path;
	opt.passphrase = fuzz_passphrase;
	opt.iterations = 1;
	opt.free_space = FUZZ_FREE_SPACE;
	if (backup_validate(&opt, NULL, &result, &cause) == 0) {
		if (cause != NULL)
			fuzz_fail("success with a cause", cause);
		fuzz_check_result(&result);
		backup_result_free(&result);
	} else {
		if (cause == NULL)
			fuzz_fail("a refusal without a cause", NULL);
		if (fuzz_has_control(cause))
			fuzz_fail("a control character reaches the operator", cause);
		if (result.payload != NULL || result.warnings != NULL)
			fuzz_fail("a refusal left a result to free", NULL);
		free(cause);
	}
	return 0;
}
