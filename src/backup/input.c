/*
 * An archive file as it is read: a ring of blocks read once, each hashed
 * as stored on the hasher's thread and, for an openssl enc file, decrypted
 * as a stream; what libarchive leaves unread is drained, so the whole file
 * is hashed, and its HMAC compared with FILE.hmac at the end.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "i18n.h"
#include "secret.h"
#include "xmalloc.h"
#include "backup-run.h"

/*
 * The archive file: read once, hashed as stored, decrypted as a stream.
 */

void
backup_input_digested(void *arg, size_t tag, const unsigned char *digest)
{
	struct backup_input *in = arg;

	(void)tag;
	memcpy(in->sum, digest, DIGEST_LEN);
}

/*
 * Reads the next block into the ring (once the hasher is done with what
 * that block held) and lends it to the hasher. Its length, or -1.
 */
static ssize_t
backup_input_raw(struct backup_input *in, const unsigned char **block)
{
	unsigned int i = in->next++ % BACKUP_RING;
	unsigned char *p = in->ring + (size_t)i * BACKUP_BLOCK;
	ssize_t n;

	hasher_wait(in->hasher, in->ticket[i]);
	in->ticket[i] = 0;
	do {
		n = fault_fail("read") != 0 ? -1 : read(in->fd, p, BACKUP_BLOCK);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		in->read_errno = errno;
		return -1;
	}
	if (n > 0) {
		in->ticket[i] = hasher_lend(in->hasher, p, (size_t)n);
		if ((size_t)n > in->ring_used[i])
			in->ring_used[i] = (size_t)n;
	}
	in->raw_read += (uint64_t)n;
	*block = p;
	return n;
}

/* Decrypts the next block read; at the end checks the padding. */
static int
backup_input_decrypt(struct backup_input *in)
{
	const unsigned char *raw;
	ssize_t n;
	int outl = 0;

	if ((n = backup_input_raw(in, &raw)) < 0)
		return -1;
	if (n == 0) {
		in->eof = 1;
		if (EVP_DecryptFinal_ex(in->cipher, in->plain, &outl) != 1) {
			in->bad_padding = 1;
			return -1;
		}
	} else if (EVP_DecryptUpdate(in->cipher, in->plain, &outl, raw, (int)n) != 1) {
		in->bad_padding = 1;
		return -1;
	}
	in->out = in->plain;
	in->out_off = 0;
	in->out_len = (size_t)outl;
	return 0;
}

/* Makes data ready in out: 1 ready, 0 at the end, -1 failed. */
int
backup_input_fill(struct backup_input *in)
{
	const unsigned char *raw;
	ssize_t n;

	while (in->out_off == in->out_len) {
		if (in->bad_padding || in->read_errno != 0)
			return -1;
		if (in->eof)
			return 0;
		if (in->cipher != NULL) {
			if (backup_input_decrypt(in) != 0)
				return -1;
			continue;
		}
		if ((n = backup_input_raw(in, &raw)) < 0)
			return -1;
		in->out = raw;
		in->out_off = 0;
		in->out_len = (size_t)n;
		in->eof = n == 0;
	}
	return 1;
}

/* Reads what libarchive left unread (a tar's padding), so that the whole file is hashed. */
int
backup_input_drain(struct backup_input *in)
{
	int r;

	while ((r = backup_input_fill(in)) > 0)
		in->out_off = in->out_len;
	return r;
}

/* openssl enc -aes-256-cbc -pbkdf2: key and iv from PBKDF2-HMAC-SHA256(pass, salt). */
int
backup_input_key(struct backup_input *in, const unsigned char *salt, const struct secret *pass,
    int iterations)
{
	unsigned char keyiv[BACKUP_KEY_LEN + BACKUP_IV_LEN];
	int ret = -1;

	if (pass->len > INT_MAX)
		goto out;
	if (PKCS5_PBKDF2_HMAC(pass->data, (int)pass->len, salt, BACKUP_SALT_LEN,
		iterations > 0 ? iterations : BACKUP_ITERATIONS, EVP_sha256(), sizeof keyiv,
		keyiv) != 1)
		goto out;
	if ((in->cipher = EVP_CIPHER_CTX_new()) == NULL)
		abort();
	if (EVP_DecryptInit_ex(in->cipher, EVP_aes_256_cbc(), NULL, keyiv,
		keyiv + BACKUP_KEY_LEN) != 1)
		goto out;
	in->plain = xmalloc(BACKUP_BLOCK + EVP_MAX_BLOCK_LENGTH);
	ret = 0;
out:
	OPENSSL_cleanse(keyiv, sizeof keyiv);
	return ret;
}

/* Ends the hasher's stream, once: sum (and the HMAC) are then known. */
void
backup_input_finish(struct backup_input *in)
{
	if (in->finished)
		return;
	hasher_final(in->hasher, 0);
	hasher_drain(in->hasher);
	in->finished = 1;
}

/*
 * Compares the file as stored with FILE.hmac, in constant time, having
 * read what is left of it first (without decrypting: when the reading
 * stopped early, most often because the file was altered). 0 when it
 * matches or there is no side file; -1 with the cause otherwise.
 */
int
backup_hmac_verify(struct backup_run *run)
{
	struct backup_input *in = run->in;
	const unsigned char *raw, *mac;
	ssize_t n = 0;

	if (in == NULL || !in->hmac)
		return 0;
	while (!in->eof && in->read_errno == 0 && (n = backup_input_raw(in, &raw)) > 0)
		;
	if (n < 0 || in->read_errno != 0)
		return backup_error(run, _("Cannot read the backup %1$s: %2$s."), run->shown_source,
		    strerror(in->read_errno));
	in->eof = 1;
	backup_input_finish(in);
	if ((mac = hasher_mac(in->hasher)) == NULL ||
	    CRYPTO_memcmp(mac, in->hmac_want, BACKUP_HMAC_LEN) != 0)
		/* TRANSLATORS: %s is the backup file; FILE.hmac beside it holds its HMAC. */
		return backup_error(run,
		    _("The backup %s was altered since it was made (its HMAC does not match), "
		      "or the passphrase is wrong."),
		    run->shown_source);
	return 0;
}
