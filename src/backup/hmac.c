/*
 * FILE.hmac beside an encrypted backup: its name, the key from the
 * passphrase, the file's format, and reading it at the start of the single
 * read (the HMAC itself is computed on the hasher's thread; input.c
 * compares it at the end).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "i18n.h"
#include "secret.h"
#include "xmalloc.h"
#include "backup-run.h"

char *
backup_hmac_path(const char *archive_path)
{
	return xasprintf("%s.hmac", archive_path);
}

int
backup_hmac_key(const struct secret *passphrase, const unsigned char *salt, int iterations,
    unsigned char key[BACKUP_HMAC_LEN])
{
	unsigned char s[BACKUP_SALT_LEN + sizeof BACKUP_HMAC_LABEL];

	if (passphrase->len > INT_MAX)
		return -1;
	memcpy(s, salt, BACKUP_SALT_LEN);
	memcpy(s + BACKUP_SALT_LEN, BACKUP_HMAC_LABEL, sizeof BACKUP_HMAC_LABEL);
	return PKCS5_PBKDF2_HMAC(passphrase->data, (int)passphrase->len, s, (int)sizeof s,
		   iterations, EVP_sha256(), BACKUP_HMAC_LEN, key) == 1 ?
	    0 :
	    -1;
}

EVP_MAC_CTX *
backup_hmac_new(const unsigned char key[BACKUP_HMAC_LEN])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_MAC_init(ctx, key, BACKUP_HMAC_LEN, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	EVP_MAC_free(mac);
	return ctx;
}

int
backup_hmac_parse(const char *text, int *iterations, unsigned char mac[BACKUP_HMAC_LEN])
{
	const char *p = text + sizeof BACKUP_HMAC_HEAD - 1;
	char *end;
	long v;

	if (strncmp(text, BACKUP_HMAC_HEAD, sizeof BACKUP_HMAC_HEAD - 1) != 0 || *p < '1' ||
	    *p > '9')
		return -1;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno != 0 || *end != '\n' || v < 1 || v > BACKUP_HMAC_ITERATIONS_MAX)
		return -1;
	p = end + 1;
	if (digest_unhex(p, mac, BACKUP_HMAC_LEN) != 0)
		return -1;
	p += 2 * BACKUP_HMAC_LEN;
	if (*p != '\n' && *p != '\0')
		return -1;
	*iterations = (int)v;
	return 0;
}

/*
 * FILE.hmac beside an encrypted source: read and its key derived before the
 * file's first byte goes to the hasher, which then computes the HMAC with
 * the digest. None there: in->hmac stays 0 (a warning at the end).
 */
int
backup_hmac_open(struct backup_run *run, const unsigned char *salt)
{
	struct backup_input *in = run->in;
	unsigned char key[BACKUP_HMAC_LEN];
	EVP_MAC_CTX *mac;
	char *side = backup_hmac_path(run->opt->source), *shown = backup_shown(side);
	char text[BACKUP_HMAC_TEXT_MAX + 1];
	ssize_t n = -1;
	int fd, iterations = 0, ret = -1;

	fd = open(side, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		ret = 0;
		goto out;
	}
	if (fd >= 0)
		n = fs_read_full(fd, text, sizeof text - 1);
	if (n < 0) {
		backup_error(run, _("Cannot read the HMAC file %1$s: %2$s."), shown,
		    strerror(errno));
		goto out;
	}
	text[n] = '\0';
	if (backup_hmac_parse(text, &iterations, in->hmac_want) != 0) {
		backup_error(run,
		    _("The HMAC file %s is not one kmsrecover wrote: it cannot be used."), shown);
		goto out;
	}
	if (backup_hmac_key(run->opt->passphrase, salt, iterations, key) != 0 ||
	    (mac = backup_hmac_new(key)) == NULL) {
		backup_error(run, _("Cannot derive the key to decrypt the backup %s."),
		    run->shown_source);
		goto out;
	}
	hasher_set_mac(in->hasher, mac);
	in->hmac = 1;
	ret = 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	if (fd >= 0)
		close(fd);
	free(shown);
	free(side);
	return ret;
}
