/*
 * Tests for digest.c: SHA-256 against the FIPS 180-2 vectors, and the
 * manifest parser against what sha256sum writes (generated here by the real
 * sha256sum in a private temporary directory) and against each way a line
 * can be wrong, which must be named by its number.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "manifest.h"
#include "tap.h"
#include "xmalloc.h"

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define LONG_SHA256 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define MILLION_A_SHA256 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static char root[] = "/tmp/test-digest.XXXXXX";

static void
hex_of(const void *buf, size_t len, char out[DIGEST_HEX_LEN + 1])
{
	unsigned char sum[DIGEST_LEN];
	struct digest *d;

	d = digest_new();
	digest_update(d, buf, len);
	digest_final(d, sum);
	digest_hex(sum, out);
	digest_free(d);
}

static void
raw_of(const char *s, unsigned char out[DIGEST_LEN])
{
	struct digest *d;

	d = digest_new();
	digest_update(d, s, strlen(s));
	digest_final(d, out);
	digest_free(d);
}

static void
test_vectors(void)
{
	char hex[DIGEST_HEX_LEN + 1];
	unsigned char sum[DIGEST_LEN];
	struct digest *d;
	char *block;
	int i;

	hex_of("abc", 3, hex);
	ok(strcmp(hex, ABC_SHA256) == 0, "SHA-256 of \"abc\"");
	hex_of("", 0, hex);
	ok(strcmp(hex, EMPTY_SHA256) == 0, "SHA-256 of the empty string");
	hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	ok(strcmp(hex, LONG_SHA256) == 0, "SHA-256 of the 448-bit vector");

	d = digest_new();
	block = xmalloc(1000);
	memset(block, 'a', 1000);
	for (i = 0; i < 1000; i++)
		digest_update(d, block, 1000);
	digest_final(d, sum);
	digest_hex(sum, hex);
	ok(strcmp(hex, MILLION_A_SHA256) == 0, "SHA-256 of a million 'a' fed in pieces");
	digest_update(d, "a", 1);
	digest_update(d, "bc", 2);
	digest_final(d, sum);
	digest_hex(sum, hex);
	ok(strcmp(hex, ABC_SHA256) == 0, "digest_final resets the context for reuse");
	digest_free(d);
	digest_free(NULL);
	free(block);
}

static int
parse(const char *text, struct manifest **m, char **cause)
{
	*m = NULL;
	*cause = NULL;
	return manifest_parse(text, strlen(text), m, cause);
}

static void
test_parse_ok(void)
{
	unsigned char abc[DIGEST_LEN], empty[DIGEST_LEN];
	struct manifest *m;
	char *cause, *text;
	int r;

	raw_of("abc", abc);
	raw_of("", empty);
	text = xasprintf("%s  Kmsmdb.edb\n\n%s *./logs/edb00001.log\n", ABC_SHA256, EMPTY_SHA256);
	r = parse(text, &m, &cause);
	ok(r == 0 && m != NULL, "a manifest with text and binary (*) lines parses");
	ok(manifest_count(m) == 2, "blank lines are not entries");
	ok(manifest_unseen_count(m) == 2 && strcmp(manifest_first_unseen(m), "Kmsmdb.edb") == 0,
	    "before any check every path is unseen, the first in the file's order first");
	ok(manifest_check(m, "Kmsmdb.edb", abc) == 1, "a matching digest gives 1");
	ok(manifest_check(m, "./logs//edb00001.log", abc) == 0,
	    "a wrong digest gives 0 (the path found through ./ and //)");
	ok(manifest_check(m, "logs/edb00001.log", empty) == 1,
	    "the '*' path lost its marker and ./");
	ok(manifest_check(m, "kmsmdb.edb", abc) == -1, "lookups are case-sensitive");
	ok(manifest_check(m, "other", abc) == -1, "an unlisted path gives -1");
	ok(manifest_unseen_count(m) == 0 && manifest_first_unseen(m) == NULL,
	    "every checked path is seen");
	manifest_free(m);
	free(text);

	text = xasprintf("%s  ./a\r\n%s  b c\r\n", ABC_SHA256, EMPTY_SHA256);
	r = parse(text, &m, &cause);
	ok(r == 0 && manifest_count(m) == 2, "CRLF line ends are tolerated");
	ok(r == 0 && manifest_check(m, "a", abc) == 1 && manifest_check(m, "b c", empty) == 1,
	    "the CR is not part of the path; blanks inside a path are kept");
	manifest_free(m);
	free(text);

	text = xasprintf("\\%s  back\\\\slash\\nnewline", ABC_SHA256);
	r = parse(text, &m, &cause);
	ok(r == 0 && manifest_check(m, "back\\slash\nnewline", abc) == 1,
	    "sha256sum's escaped lines (\\\\ and \\n) are understood; no final newline needed");
	manifest_free(m);
	free(text);

	text = xasprintf("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD  x\n");
	r = parse(text, &m, &cause);
	ok(r == 0 && manifest_check(m, "x", abc) == 1, "upper-case hex is accepted");
	manifest_free(m);
	free(text);

	r = parse("", &m, &cause);
	ok(r == 0 && manifest_count(m) == 0 && manifest_first_unseen(m) == NULL,
	    "an empty manifest parses to no entries");
	manifest_free(m);
	manifest_free(NULL);
}

static void
expect_bad(const char *what, const char *text, size_t len, const char *want)
{
	struct manifest *m = NULL;
	char *cause = NULL;
	int r;

	r = manifest_parse(text, len, &m, &cause);
	ok(r == -1 && m == NULL && cause != NULL && strstr(cause, want) != NULL,
	    "%s: refused, the cause says \"%s\" (%s)", what, want, cause != NULL ? cause : "none");
	free(cause);
}

static void
test_parse_bad(void)
{
	char *text;
	char nul[DIGEST_HEX_LEN + 8];

	text = xasprintf("%s  a\n%.63sg  b\n", ABC_SHA256, ABC_SHA256);
	expect_bad("bad hex", text, strlen(text), "line 2:");
	free(text);
	text = xasprintf("%.60s  short\n", ABC_SHA256);
	expect_bad("a short digest", text, strlen(text), "line 1:");
	free(text);
	text = xasprintf("%s\n", ABC_SHA256);
	expect_bad("no path", text, strlen(text), "line 1:");
	free(text);
	text = xasprintf("%s  \n", ABC_SHA256);
	expect_bad("an empty path", text, strlen(text), "line 1:");
	free(text);
	text = xasprintf("%s  ./\n", ABC_SHA256);
	expect_bad("a path that is only ./", text, strlen(text), "line 1:");
	free(text);
	text = xasprintf("%s  a\n%s xa\n", ABC_SHA256, ABC_SHA256);
	expect_bad("one space and no '*'", text, strlen(text), "line 2:");
	free(text);
	text = xasprintf("%sa  a\n", ABC_SHA256);
	expect_bad("65 hex digits", text, strlen(text), "line 1:");
	free(text);
	text = xasprintf("\\%s  a\\tb\n", ABC_SHA256);
	expect_bad("an unknown escape", text, strlen(text), "line 1:");
	free(text);
	text = xasprintf("%s  a\n%s  b\n%s  ./a\n", ABC_SHA256, EMPTY_SHA256, EMPTY_SHA256);
	expect_bad("a duplicate (after ./ is dropped)", text, strlen(text), "line 3:");
	expect_bad("a duplicate names the first line too", text, strlen(text), "line 1");
	free(text);
	memcpy(nul, ABC_SHA256 "  a", DIGEST_HEX_LEN + 3);
	nul[DIGEST_HEX_LEN + 3] = '\0';
	nul[DIGEST_HEX_LEN + 4] = 'b';
	nul[DIGEST_HEX_LEN + 5] = '\n';
	expect_bad("a NUL byte", nul, DIGEST_HEX_LEN + 6, "line 1:");
}

static void
test_normalize(void)
{
	static const char *cases[][2] = {
		{ "./a", "a" },
		{ "././a", "a" },
		{ ".//a", "a" },
		{ "a//b///c", "a/b/c" },
		{ "a/./b", "a/b" },
		{ "Kmsdata/x", "Kmsdata/x" },
		{ "", "" },
		{ "a/", "a" },
		{ "../a", "../a" },
		{ "a/..b/.c", "a/..b/.c" },
	};
	size_t i;
	char *n;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = manifest_normalize_path(cases[i][0]);
		ok(strcmp(n, cases[i][1]) == 0, "normalize \"%s\" -> \"%s\" (got \"%s\")",
		    cases[i][0], cases[i][1], n);
		free(n);
	}
}

/* Reads a whole file into memory. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

/* What the real sha256sum writes, including its binary mode, parses and checks. */
static void
test_real_sha256sum(void)
{
	unsigned char sum[DIGEST_LEN];
	struct manifest *m = NULL;
	char *cmd, *path, *buf, *cause = NULL;
	size_t len = 0;
	int r;

	cmd = xasprintf("cd %s && mkdir -p sub && printf abc > sub/a && : > e && "
			"sha256sum sub/a > MANIFEST.sha256 && sha256sum -b ./e >> MANIFEST.sha256",
	    root);
	r = system(cmd);
	free(cmd);
	if (r != 0) {
		ok(1, "# SKIP sha256sum could not be run");
		return;
	}
	path = xasprintf("%s/MANIFEST.sha256", root);
	buf = slurp(path, &len);
	r = buf != NULL ? manifest_parse(buf, len, &m, &cause) : -1;
	ok(r == 0 && manifest_count(m) == 2, "sha256sum's own output parses");
	raw_of("abc", sum);
	ok(r == 0 && manifest_check(m, "sub/a", sum) == 1, "text-mode line checks");
	raw_of("", sum);
	ok(r == 0 && manifest_check(m, "e", sum) == 1, "binary-mode line with ./ checks");
	manifest_free(m);
	free(cause);
	free(buf);
	free(path);
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(root) == NULL)
		skip_all("mkdtemp failed");
	test_vectors();
	test_parse_ok();
	test_parse_bad();
	test_normalize();
	test_real_sha256sum();
	cmd = xasprintf("rm -rf %s", root);
	if (system(cmd) != 0)
		diag("could not remove %s", root);
	free(cmd);
	return done_testing();
}
